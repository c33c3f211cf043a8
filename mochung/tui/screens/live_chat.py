"""Live chat: pick a session and watch its room over Socket.IO as it happens, or open your
own test room and talk to the agents as your admin account (the "test user"), with any
published page as the agents' context (the demo page by default; switch it any time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from mochung.tui.client import ChatLink
from mochung.tui.format import short, when
from mochung.tui.models import (
    AdminPage,
    AdminSession,
    ChatEntry,
    ChatEvent,
    LinkDown,
    MessageAccepted,
    MessageChunk,
    MessageFailed,
    NewMessage,
    RoomHistory,
    SessionInfo,
)
from mochung.tui.screens.base import AdminScreen, Changes, ListingLoaded
from mochung.tui.widgets.chat_log import ChatLog
from mochung.tui.widgets.components import SuggestionChips

REFRESH_SECONDS = 10.0
DEMO_SLUG = "minjun-seoyeon"  # the page `mochung demo` seeds: the test room's default context


def admin_room_of(user_id: str) -> str:
    return f"admin-test-{user_id}"


class LiveChatScreen(AdminScreen):
    CSS_PATH = "live_chat.tcss"
    # opening the test room creates a chat session on the server the first time
    # each with a control key too: while the chat input has focus it takes the letters,
    # and the footer keeps showing what can be pressed
    BINDINGS: ClassVar[list[BindingType]] = [
        Changes("t,ctrl+t", "test_room", "My test room"),
        Binding("p,ctrl+o", "pick_page", "Page for the agents"),
        Binding("r,ctrl+r", "reload", "Refresh sessions"),
    ]

    class SessionsLoaded(ListingLoaded[AdminSession]):
        """The sessions, newest activity first."""

    @dataclass
    class PagesLoaded(Message):
        pages: list[AdminPage]

    @dataclass
    class RoomOpened(Message):
        room: str

    @dataclass
    class Event(Message):
        """A Socket.IO event of the watched room, in the order it arrived."""

        event: ChatEvent
        source: ChatLink

    def __init__(self) -> None:
        super().__init__()
        self.link: ChatLink | None = None
        self.link_token: str | None = None  # whose token the socket was opened with
        self.room: str | None = None
        self.session_id: str | None = None
        self.sessions: dict[str, AdminSession] = {}
        self.pages: dict[str, AdminPage] = {}  # published pages by id: the test room's choices
        self.room_page: str | None = None  # the page the open room's agents read (session-info)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="live-body"):
            with Vertical(id="sessions-pane"):
                yield Static("Sessions (Enter: watch)", classes="panel-title")
                yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
            with Vertical(id="room-pane"):
                yield Static("Not watching a room.", id="room-title", classes="panel-title")
                yield Select[str]([], prompt="Page for the agents (published pages)", id="page-select")
                yield ChatLog(id="chat-log")
                yield Input(placeholder="press t to open your test room and chat", id="chat-input", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sessions", DataTable).add_columns("Room", "Owner", "Msgs", "Live", "Last activity")

    def on_screen_resume(self) -> None:
        self.load_sessions()
        if not self.pages:
            self.load_pages()
        # the sessions' live sockets and last activity move on their own: poll while shown
        self.poll_while_shown(REFRESH_SECONDS, self.load_sessions)

    async def on_unmount(self) -> None:
        if self.link is not None:
            await self.link.close()

    def action_reload(self) -> None:
        self.load_sessions()
        self.load_pages()

    def action_pick_page(self) -> None:
        self.query_one("#page-select", Select).focus()

    @work(exclusive=True, group="pages")
    async def load_pages(self) -> None:
        await self.fetch(self.api.pages(status="published"), lambda listing: self.PagesLoaded(listing.items))

    def on_live_chat_screen_pages_loaded(self, message: PagesLoaded) -> None:
        self.pages = {page.id: page for page in message.pages}
        select: Select[str] = self.query_one("#page-select", Select)
        chosen = select.value if isinstance(select.value, str) else None
        select.set_options((f"{page.title or '(untitled)'}  ·  {page.slug}", page.id) for page in message.pages)
        if chosen not in self.pages:  # the demo page by default, else the newest
            demo = next((page.id for page in message.pages if page.slug == DEMO_SLUG), None)
            chosen = demo or next(iter(self.pages), None)
        if chosen is not None:
            select.value = chosen

    @property
    def chosen_page(self) -> str | None:
        value = self.query_one("#page-select", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#page-select")
    def switch_page(self, event: Select.Changed) -> None:
        """In the test room, a page chosen becomes the agents' context at once (re-join)."""
        if self.own_room and self.room is not None and self.chosen_page != self.room_page:
            self.open_room(self.room)

    @work(exclusive=True, group="sessions")
    async def load_sessions(self) -> None:
        await self.fetch(self.api.sessions(), self.SessionsLoaded)

    def on_live_chat_screen_sessions_loaded(self, message: SessionsLoaded) -> None:
        self.fill_table("sessions", self.sessions, message, self._session_cells)

    @staticmethod
    def _session_cells(session: AdminSession) -> tuple[str, ...]:
        return (
            session.room,
            session.user_email or short(session.user_id),
            "" if session.message_count is None else str(session.message_count),
            str(session.live_sockets),
            when(session.last_activity_at),
        )

    @on(DataTable.RowSelected, "#sessions")
    def open_selected(self, event: DataTable.RowSelected) -> None:
        session = self.sessions.get(event.row_key.value or "")
        if session is not None:
            self.open_room(session.room)

    def action_test_room(self) -> None:
        if self.admin.profile is not None:
            self.open_room(admin_room_of(self.admin.profile.id))

    @property
    def own_room(self) -> bool:
        """Messages can only be sent in the admin's own room: other rooms are watched, not joined in."""
        return self.admin.profile is not None and self.room == admin_room_of(self.admin.profile.id)

    @work(exclusive=True, group="room")
    async def open_room(self, room: str) -> None:
        profile = self.admin.profile
        if profile is None:
            return
        if self.link is not None and self.link_token != self.api.token:
            # signed out and in again (perhaps as another admin): never keep the old identity's socket
            await self.link.close()
            self.link, self.room = None, None
        if self.link is None:
            link = self.api.chat_link()
            if not await self.attempt(link.connect(lambda event: self.post_message(self.Event(event, link)))):
                return
            self.link, self.link_token = link, self.api.token
        if self.room and self.room != room:
            await self.attempt(self.link.leave(self.room, profile.id))
        self.room, self.session_id = room, None
        self.post_message(self.RoomOpened(room))  # handled before the room's own events, which come after join
        page = self.chosen_page if room == admin_room_of(profile.id) else None  # only the own room's page is set
        await self.attempt(self.link.join(room, profile.id, page))

    async def on_live_chat_screen_room_opened(self, message: RoomOpened) -> None:
        await self.query_one("#chat-log", ChatLog).reset([])
        self._show_room_state()

    def _show_room_state(self) -> None:
        chat_input = self.query_one("#chat-input", Input)
        own = self.own_room and not self.read_only
        chat_input.disabled = not own
        if own:
            chat_input.focus()
            chat_input.placeholder = "message the agents as yourself, Enter to send"
        elif self.read_only:
            chat_input.placeholder = "read-only: watching only"
        else:
            chat_input.placeholder = "watching only; press t to chat in your own test room"
        who = "your test room" if self.own_room else "watching"
        session = f"  ·  session {short(self.session_id)}" if self.session_id else ""
        page = self.pages.get(self.room_page or "")
        if page is not None:
            about = f"  ·  page: {page.title or page.slug}"
        elif self.room_page:
            about = f"  ·  page {short(self.room_page)}"
        else:
            about = "  ·  no page" if self.session_id else ""
        self.query_one("#room-title", Static).update(f"{who}: {self.room}{session}{about}")

    async def on_live_chat_screen_event(self, message: Event) -> None:
        event = message.event
        if message.source is not self.link:
            return  # a socket closed on purpose (sign-out, another admin): nothing of it is shown
        log = self.query_one("#chat-log", ChatLog)
        if isinstance(event, SessionInfo):
            self.session_id = event.session_id
            self.room_page = event.wedding_id
            self._show_room_state()
        elif isinstance(event, RoomHistory):
            await log.reset(event.entries)
        elif isinstance(event, MessageChunk):
            await log.add_chunk(event.message_id, event.delta)
        elif isinstance(event, NewMessage):
            await log.add_entry(event.entry)
        elif isinstance(event, MessageFailed):
            await log.add_notice(f"error: {event.error}" + (f" ({event.details})" if event.details else ""))
        elif isinstance(event, MessageAccepted):
            pass  # the answer's chunks carry the same message id; nothing to show yet
        elif isinstance(event, LinkDown):
            self.link = None
            await log.add_notice(f"live connection lost ({event.reason}); pick the room again to reconnect")

    @on(Input.Submitted, "#chat-input")
    async def send_typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text and not self.refuse_if_read_only() and self._can_send():
            event.input.value = ""
            await self._echo(text)
            self.send(text)

    @on(SuggestionChips.Chosen)
    async def send_suggestion(self, event: SuggestionChips.Chosen) -> None:
        if self.refuse_if_read_only():
            return
        if not self.own_room:
            self.notify("Suggestions can be pressed in your own test room only.", severity="warning")
            return
        if self._can_send():
            await self._echo(str(event.suggestion.get("value") or event.suggestion.get("displayText") or ""))
            self.send("", event.suggestion)

    def _can_send(self) -> bool:
        if self.link is None or self.admin.profile is None or not self.session_id or not self.own_room:
            self.notify("Open your test room first (t).", severity="warning")
            return False
        return True

    async def _echo(self, text: str) -> None:
        """The gateway does not send the sender's own message back: show it here."""
        await self.query_one("#chat-log", ChatLog).add_entry(ChatEntry(message_id="", role="user", content=text))

    @work(group="send")
    async def send(self, text: str, suggestion: dict[str, Any] | None = None) -> None:
        link, profile, room, session_id = self.link, self.admin.profile, self.room, self.session_id
        if link is None or profile is None or room is None or session_id is None:
            return
        if suggestion is not None:
            await self.attempt(link.press(suggestion, session_id=session_id))
        else:
            await self.attempt(link.send(text, room=room, session_id=session_id, user_id=profile.id))
