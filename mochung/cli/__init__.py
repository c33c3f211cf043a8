"""`mochung`: one Typer app. Commands are thin: they build settings, call one private
function, and turn a failure into one readable line and a non-zero exit
(:mod:`mochung.cli.common`). Each area's commands live in their own module and are
registered here, explicitly, in the order ``mochung --help`` lists them."""

from __future__ import annotations

from typing import Annotated

import typer

import mochung
from mochung.cli import admin, chat, db, demo, invite, pay, serve, tui, worker
from mochung.cli import eval as evaluation

app = typer.Typer(
    name="mochung",
    help="모청 backend: server, worker, admin tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mochung {mochung.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """모청 backend."""


for _area in (serve, worker, db, admin, invite, chat, evaluation, pay, demo, tui):
    _area.register(app)
