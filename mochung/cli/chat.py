"""``mochung chat``: one agent turn in-process, streamed to the terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.json import JSON
from rich.panel import Panel

from mochung.cli.common import agent_runtime, fail, run_async, settings_or_fail, stderr, stdout
from mochung.domain.errors import NotFound
from mochung.settings import Settings


async def _load_page(settings: Settings, slug: str) -> dict[str, Any]:
    from mochung.adapters.database import close_database, open_database
    from mochung.domain.models import Page

    database = await open_database(settings.resolved_database_url, migrate=not settings.distributed)
    try:
        page = await Page.get_or_none(slug=slug)
        if page is None:
            raise NotFound(f"no page with the slug {slug!r}")
        return {"page_id": str(page.id), "title": page.title, "slug": page.slug, "componentData": page.component_data}
    finally:
        await close_database(database)


def chat(
    text: Annotated[str, typer.Argument(help="what the couple says, e.g. 예식장이 어디예요?")],
    page: Annotated[str | None, typer.Option("--page", "-p", help="slug of the page to talk about")] = None,
) -> None:
    """Run one chat turn in-process and print the streamed answer and its components."""
    from mochung.agents import TurnInput

    settings = settings_or_fail()

    async def body() -> tuple[str | None, list[dict[str, Any]], Any]:
        wedding = await _load_page(settings, page) if page else None
        error: str | None = None
        streamed = False
        async with agent_runtime(settings) as runtime:
            turn = runtime.turn(TurnInput(text=text, wedding=wedding))
            async for event in turn.events():
                if event.type == "chunk":
                    streamed = True
                    stdout().print(event.content, end="", highlight=False, markup=False)
                elif event.type == "text":
                    if not streamed:
                        stdout().print(event.content or "", end="", highlight=False, markup=False)
                    stdout().print()
                elif event.type == "component" and event.component:
                    stdout().print(Panel(JSON.from_data(event.component["props"]), title=event.component["type"]))
                elif event.type == "error":
                    error = event.content
        return error, turn.trajectory, turn.timings

    error, trajectory, timings = run_async(body)
    steps = " → ".join(f"{step['agent']}:{step['tool']} ({step['ms']:.0f} ms)" for step in trajectory)
    if steps:
        stderr().print(f"[dim]{steps}[/]", highlight=False)
    stderr().print(
        f"[dim]total {timings['total_ms']} ms, first token {timings['first_token_ms']} ms[/]", highlight=False
    )
    if error:
        raise fail(error)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
