"""`mochung invite create CODE --max-uses N [--expires …]`: invitation codes from the terminal."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

invite_app = typer.Typer(help="Invitation codes (MOCHUNG_REQUIRE_INVITATION).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")


def parse_expiry(value: str) -> dt.datetime:
    """An ISO date or date-time; a bare date means the end of that day in Korea, a time
    without a zone means UTC (like everywhere else in the API)."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            korea = dt.timezone(dt.timedelta(hours=9))
            return dt.datetime.combine(day, dt.time(23, 59, 59), korea).astimezone(dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO date (2027-05-31) or date-time (2027-05-31T18:00:00+09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@invite_app.command("create")
def create(
    code: Annotated[str, typer.Argument(help="The code people type: 3-64 letters, digits, '-' or '_'.")],
    max_uses: Annotated[int, typer.Option("--max-uses", min=1, help="How many registrations it admits.")] = 1,
    expires: Annotated[
        str | None, typer.Option("--expires", help="ISO date or date-time after which it stops working.")
    ] = None,
) -> None:
    """Create an invitation code."""
    from mochung.cli.common import run_or_fail, with_database
    from mochung.domain.invitations import create_invitation
    from mochung.settings import load_settings

    expires_at = parse_expiry(expires) if expires else None

    def work() -> None:
        settings = load_settings()
        invitation = with_database(settings, lambda: create_invitation(code, max_uses, expires_at, None))
        until = f", expires {invitation.expires_at.isoformat()}" if invitation.expires_at else ""
        typer.echo(f"created invitation {invitation.code} (max uses {invitation.max_uses}{until})")

    run_or_fail(work)
