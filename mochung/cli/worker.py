"""`mochung worker`: Dramatiq processes that run the chat actor (distributed mode)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    processes: Annotated[int, typer.Option(min=1, max=64, help="Worker processes to run.")] = 1,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=4096, help="Turns in flight per process (default MOCHUNG_WORKER_CONCURRENCY)."),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, max=4096, hidden=True, help="Old name of --concurrency.")
    ] = None,
) -> None:
    """Run chat turns from the Redis queue until SIGTERM/SIGINT (needs MOCHUNG_REDIS_URL)."""
    from mochung.cli.common import fail, run_or_fail

    def start() -> int:
        from mochung.settings import load_settings
        from mochung.tasks.worker import run_workers

        settings = load_settings()
        if not settings.redis_url:
            raise fail("MOCHUNG_REDIS_URL is not set: in embedded mode `mochung serve` runs the chat worker itself")
        settings.jwt_key()  # same checks as the web process: a distributed deployment shares a secret
        slots = concurrency or threads or settings.worker_concurrency
        typer.echo(f"mochung worker: {processes} process(es) × {slots} turns at once", err=True)
        return run_workers(settings, processes, slots)

    code = run_or_fail(start)
    if code:
        raise typer.Exit(code)
