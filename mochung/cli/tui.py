"""`mochung tui`: the Textual admin app, a client of a running server."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("tui")(tui)


def tui(
    url: Annotated[
        str | None,
        typer.Option(help="The server to administer (default: MOCHUNG_PUBLIC_URL or http://localhost:PORT)."),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Hide and refuse every action that changes something.")
    ] = False,
    logout: Annotated[bool, typer.Option("--logout", help="Forget the saved token for this server and exit.")] = False,
) -> None:
    """The admin app: dashboard, users, moderation, live chat, payments, evaluation."""
    from mochung.cli.common import run_or_fail
    from mochung.settings import load_settings
    from mochung.tui.tokens import TokenStore

    base_url = (url or run_or_fail(load_settings).base_url).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        from mochung.cli.common import fail

        raise fail(f"--url must start with http:// or https:// (got {base_url!r})")
    tokens = TokenStore()
    if logout:
        forgot = tokens.forget(base_url)
        typer.echo(f"logged out of {base_url}" if forgot else f"no saved token for {base_url}")
        return

    from mochung.tui.app import AdminApp
    from mochung.tui.client import HttpAdminApi

    AdminApp(HttpAdminApi(base_url, read_only=read_only), tokens).run()
