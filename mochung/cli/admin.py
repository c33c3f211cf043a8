"""``mochung admin create``: create an admin, or promote an account and reset its password."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mochung.cli.common import run_or_fail, with_database
from mochung.settings import load_settings

admin_app = typer.Typer(help="Admin accounts.", no_args_is_help=True)


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Argument(help="The admin's email.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create an admin account (or promote an existing one and reset its password)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    run_or_fail(lambda: _admin_create(email, password, name))


def _admin_create(email: str, password: str, name: str | None) -> None:
    from mochung.domain.users import create_admin

    settings = load_settings()
    user, created = with_database(settings, lambda: create_admin(email, password, name))
    typer.echo(f"{'created' if created else 'promoted'} admin {user.email} ({user.id})")


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
