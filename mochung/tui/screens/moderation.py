"""Pages and chat messages side by side, with the selected item's context below;
hide (with a reason) and unhide, filters on both lists."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from mochung.tui.format import short, when
from mochung.tui.models import AdminChat, AdminPage, Listing
from mochung.tui.screens.base import AdminScreen
from mochung.tui.screens.confirm import Confirmation, ConfirmScreen

PAGE_STATUSES = [("All pages", "all"), ("Published", "published"), ("Drafts", "draft"), ("Hidden", "hidden")]
CHAT_FILTERS = [("All messages", "all"), ("Visible", "visible"), ("Hidden", "hidden")]
HIDDEN_PARAM = {"all": None, "visible": False, "hidden": True}


def chat_text(chat: AdminChat) -> str:
    if chat.type == "component" and chat.component:
        return f"[{chat.component.get('type', 'component')}]"
    return (chat.content or "").replace("\n", " ")


class ModerationScreen(AdminScreen):
    CSS_PATH = "moderation.tcss"
    MUTATING = frozenset({"hide", "unhide"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "hide", "Hide"),
        Binding("u", "unhide", "Unhide"),
        Binding("n", "more", "More"),
        Binding("r", "reload", "Refresh"),
    ]

    class PagesLoaded(Message):
        def __init__(self, listing: Listing[AdminPage], append: bool) -> None:
            super().__init__()
            self.listing = listing
            self.append = append

    class ChatsLoaded(Message):
        def __init__(self, listing: Listing[AdminChat], append: bool) -> None:
            super().__init__()
            self.listing = listing
            self.append = append

    class Changed(Message):
        def __init__(self, hidden: bool) -> None:
            super().__init__()
            self.hidden = hidden

    class ContextLoaded(Message):
        def __init__(self, chat: AdminChat, neighbours: list[AdminChat]) -> None:
            super().__init__()
            self.chat = chat
            self.neighbours = neighbours

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, AdminPage] = {}
        self.chats: dict[str, AdminChat] = {}
        self.active_table = "pages"  # the list the hide/unhide/more keys act on
        self.cursors: dict[str, str | None] = {"pages": None, "chats": None}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="panes"):
            with Vertical(id="pages-pane"):
                yield Static("Pages", classes="panel-title")
                with Horizontal(classes="filters"):
                    yield Select(PAGE_STATUSES, value="all", allow_blank=False, id="page-status")
                yield DataTable(id="pages", cursor_type="row", zebra_stripes=True)
            with Vertical(id="chats-pane"):
                yield Static("Chat messages", classes="panel-title")
                with Horizontal(classes="filters"):
                    yield Select(CHAT_FILTERS, value="all", allow_blank=False, id="chat-hidden")
                    yield Input(placeholder="room", id="chat-room")
                yield DataTable(id="chats", cursor_type="row", zebra_stripes=True)
        yield Static("Select a page or a message to see its context.", id="context", classes="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pages", DataTable).add_columns("Title", "Slug", "Owner", "State", "Views")
        self.query_one("#chats", DataTable).add_columns("When", "Room", "Role", "State", "Message")

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load_pages()
        self.load_chats()

    @on(Select.Changed, "#page-status")
    def page_filter(self) -> None:
        self.load_pages()

    @on(Select.Changed, "#chat-hidden")
    @on(Input.Submitted, "#chat-room")
    def chat_filter(self) -> None:
        self.load_chats()

    def action_more(self) -> None:
        cursor = self.cursors[self.active_table]
        if cursor and self.active_table == "pages":
            self.load_pages(cursor)
        elif cursor:
            self.load_chats(cursor)

    @work(exclusive=True, group="pages")
    async def load_pages(self, cursor: str | None = None) -> None:
        status = str(self.query_one("#page-status", Select).value)
        listing = await self.guarded(self.api.pages(status=status, cursor=cursor))
        if listing is not None:
            self.post_message(self.PagesLoaded(listing, append=cursor is not None))

    @work(exclusive=True, group="chats")
    async def load_chats(self, cursor: str | None = None) -> None:
        hidden = HIDDEN_PARAM[str(self.query_one("#chat-hidden", Select).value)]
        room = self.query_one("#chat-room", Input).value.strip()
        listing = await self.guarded(self.api.chats(room=room, hidden=hidden, cursor=cursor))
        if listing is not None:
            self.post_message(self.ChatsLoaded(listing, append=cursor is not None))

    def on_moderation_screen_pages_loaded(self, message: PagesLoaded) -> None:
        table = self.query_one("#pages", DataTable)
        if not message.append:
            table.clear()
            self.pages = {}
        self.cursors["pages"] = message.listing.next_cursor
        for page in message.listing.items:
            self.pages[page.id] = page
            table.add_row(*self._page_cells(page), key=page.id)

    def on_moderation_screen_chats_loaded(self, message: ChatsLoaded) -> None:
        table = self.query_one("#chats", DataTable)
        if not message.append:
            table.clear()
            self.chats = {}
        self.cursors["chats"] = message.listing.next_cursor
        for chat in message.listing.items:
            self.chats[chat.id] = chat
            table.add_row(*self._chat_cells(chat), key=chat.id)

    @staticmethod
    def _page_cells(page: AdminPage) -> tuple[str, ...]:
        state = "HIDDEN" if page.is_hidden else "published" if page.is_published else "draft"
        return page.title, page.slug, page.user_email or short(page.user_id), state, str(page.view_count)

    @staticmethod
    def _chat_cells(chat: AdminChat) -> tuple[str, ...]:
        state = "HIDDEN" if chat.is_hidden else ""
        return when(chat.created_at), chat.room or "", chat.role, state, chat_text(chat)[:60]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable) and event.widget.id:
            self.active_table = event.widget.id

    def _selected(self) -> AdminPage | AdminChat | None:
        """The row under the cursor of the table that has (or last had) focus."""
        table = self.query_one(f"#{self.active_table}", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return self.pages.get(key) if table.id == "pages" else self.chats.get(key)

    @on(DataTable.RowHighlighted)
    def show_context(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value or ""
        context = self.query_one("#context", Static)
        if event.data_table.id == "pages" and key in self.pages:
            page = self.pages[key]
            reason = f"\nHidden because: {page.hidden_reason}" if page.is_hidden else ""
            components = ", ".join(page.component_types) or "none"
            context.update(
                f"[b]{page.title}[/b]  /{page.slug}  v{page.version}\nOwner {page.user_email or page.user_id}"
                f"  ·  created {when(page.created_at)}  ·  components: {components}{reason}"
            )
        elif event.data_table.id == "chats" and key in self.chats:
            self.load_context(self.chats[key])

    @work(exclusive=True, group="context")
    async def load_context(self, chat: AdminChat) -> None:
        listing = await self.guarded(self.api.chats(session_id=chat.session_id or ""))
        self.post_message(self.ContextLoaded(chat, listing.items if listing else []))

    def on_moderation_screen_context_loaded(self, message: ContextLoaded) -> None:
        chat = message.chat
        lines = [f"Room {chat.room}  ·  session {short(chat.session_id)}  ·  turn {short(chat.message_id)}"]
        if chat.is_hidden:
            lines.append(f"Hidden because: {chat.hidden_reason}")
        # the conversation around it, oldest first (the list comes newest first)
        for other in reversed(message.neighbours[:8]):
            marker = "▶" if other.id == chat.id else " "
            lines.append(f"{marker} {other.role:>9}: {chat_text(other)[:100]}")
        self.query_one("#context", Static).update("\n".join(lines), layout=True)

    def action_hide(self) -> None:
        item = self._selected()
        if item is None or item.is_hidden or self.refuse_if_read_only():
            return
        what = (
            f"page “{item.title}” (/{item.slug})"
            if isinstance(item, AdminPage)
            else f"message “{chat_text(item)[:50]}”"
        )
        after = (
            "Its public link will answer 404."
            if isinstance(item, AdminPage)
            else "It leaves roomHistory and the agents' context."
        )
        self.app.push_screen(
            ConfirmScreen("Hide", f"Hide the {what}?\n{after}", confirm_label="Hide", reason_label="Reason"),
            lambda result: self._confirmed(result, item, hide=True),
        )

    def action_unhide(self) -> None:
        item = self._selected()
        if item is None or not item.is_hidden or self.refuse_if_read_only():
            return
        what = f"page “{item.title}”" if isinstance(item, AdminPage) else "this message"
        self.app.push_screen(
            ConfirmScreen("Unhide", f"Show {what} again?", confirm_label="Unhide", danger=False),
            lambda result: self._confirmed(result, item, hide=False),
        )

    def _confirmed(self, result: Confirmation | None, item: AdminPage | AdminChat, *, hide: bool) -> None:
        if result is not None:
            self.change(item, hide, result.reason)

    @work(group="moderation-change")
    async def change(self, item: AdminPage | AdminChat, hide: bool, reason: str) -> None:
        call: Awaitable[AdminPage | AdminChat]
        if isinstance(item, AdminPage):
            call = self.api.hide_page(item.id, reason) if hide else self.api.unhide_page(item.id)
        else:
            call = self.api.hide_chat(item.id, reason) if hide else self.api.unhide_chat(item.id)
        if await self.guarded(call) is not None:
            self.post_message(self.Changed(hide))

    def on_moderation_screen_changed(self, message: Changed) -> None:
        self.notify("Hidden." if message.hidden else "Visible again.", title="Moderation")
        self.action_reload()
