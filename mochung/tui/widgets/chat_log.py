"""A room's conversation: bubbles for text, live-growing bubbles for streamed answers,
and component widgets for the agent's components."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from mochung.tui.models import ChatEntry
from mochung.tui.widgets.components import component_widget


class ChatBubble(Static):
    DEFAULT_CSS = """
    ChatBubble {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
        width: 1fr;
        max-width: 90;
    }
    ChatBubble.user {
        background: $primary-background;
        margin-left: 10;
    }
    ChatBubble.assistant {
        background: $boost;
    }
    ChatBubble.streaming {
        border-left: thick $warning;
    }
    ChatBubble.notice {
        color: $text-muted;
        text-style: italic;
        background: transparent;
    }
    """

    def __init__(self, role: str, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.speaker = role
        self.text = text
        self.add_class("user" if role == "user" else "notice" if role == "notice" else "assistant")
        self._render_text()

    def _render_text(self) -> None:
        label = {"user": "user", "assistant": "agent", "notice": ""}.get(self.speaker, self.speaker)
        prefix = f"[b]{label}[/b]  " if label else ""
        self.update(prefix + escape(self.text))

    def append(self, delta: str) -> None:
        self.text += delta
        self._render_text()

    def finish(self, text: str | None) -> None:
        if text is not None:
            self.text = text
        self.remove_class("streaming")
        self._render_text()


class ChatLog(VerticalScroll):
    DEFAULT_CSS = """
    ChatLog {
        height: 1fr;
        border: round $primary-darken-2;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._streams: dict[str, ChatBubble] = {}

    async def reset(self, entries: list[ChatEntry]) -> None:
        self._streams.clear()
        await self.remove_children()
        for entry in entries:
            await self.add_entry(entry)

    async def add_entry(self, entry: ChatEntry) -> None:
        if entry.type == "component" and entry.component:
            await self.mount(component_widget(entry.component))
        elif entry.role != "user" and entry.message_id in self._streams:
            # the final text of an answer that was streamed: it replaces the chunks
            self._streams.pop(entry.message_id).finish(entry.content)
        else:
            await self.mount(ChatBubble(entry.role, entry.content or ""))
        self.scroll_end(animate=False)

    async def add_chunk(self, message_id: str, delta: str) -> None:
        bubble = self._streams.get(message_id)
        if bubble is None:
            bubble = ChatBubble("assistant", "", classes="streaming")
            self._streams[message_id] = bubble
            await self.mount(bubble)
        bubble.append(delta)
        self.scroll_end(animate=False)

    async def add_notice(self, text: str) -> None:
        await self.mount(ChatBubble("notice", text))
        self.scroll_end(animate=False)
