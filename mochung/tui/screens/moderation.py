"""Two tabs: pages and chat messages side by side, with the selected item's context below
(a page's with its RSVP summary); and the guestbooks' entries. Hide (with a reason) and
unhide on every list, filters on each; ``g`` switches tabs."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Select, Static, TabbedContent, TabPane, Tabs

from mochung.tui.format import short, when
from mochung.tui.models import AdminChat, AdminPage, GuestbookEntry, RsvpSummary
from mochung.tui.screens.base import MORE, RELOAD, AdminScreen, Changes, ListingLoaded
from mochung.tui.screens.confirm import Confirmation, ConfirmScreen

PAGE_STATUSES = [("All pages", "all"), ("Published", "published"), ("Drafts", "draft"), ("Hidden", "hidden")]
CHAT_FILTERS = [("All messages", "all"), ("Visible", "visible"), ("Hidden", "hidden")]
GUESTBOOK_FILTERS = [("All entries", "all"), ("Visible", "visible"), ("Hidden", "hidden")]
HIDDEN_PARAM = {"all": None, "visible": False, "hidden": True}
Moderated = AdminPage | AdminChat | GuestbookEntry


def chat_text(chat: AdminChat) -> str:
    if chat.type == "component" and chat.component:
        return f"[{chat.component.get('type', 'component')}]"
    return (chat.content or "").replace("\n", " ")


def entry_text(entry: GuestbookEntry) -> str:
    return " ".join(entry.content.split())


def rsvp_line(summary: RsvpSummary) -> str:
    """ "RSVP 12 answers · 10 attending, 2 not · 23 people (groom 9 · bride 14) · meals …" """
    if not summary.responses:
        return "RSVP: no answers yet"
    groom, bride = summary.side("groom"), summary.side("bride")
    line = (
        f"RSVP: {summary.responses} answers · {summary.attending} attending, {summary.not_attending} not"
        f" · {summary.guests} people (groom {groom.guests} · bride {bride.guests})"
    )
    if any(summary.meals.values()):
        meals = summary.meals
        line += f" · meals yes {meals.get('yes', 0)} / no {meals.get('no', 0)} / undecided {meals.get('undecided', 0)}"
    return line


class ModerationScreen(AdminScreen):
    CSS_PATH = "moderation.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Changes("h", "hide", "Hide"),
        Changes("u", "unhide", "Unhide"),
        MORE,
        RELOAD,
        Binding("g", "switch_tab", "Guestbook"),
    ]

    class PagesLoaded(ListingLoaded[AdminPage]):
        """A page of pages."""

    class ChatsLoaded(ListingLoaded[AdminChat]):
        """A page of chat messages."""

    class GuestbookLoaded(ListingLoaded[GuestbookEntry]):
        """A page of guestbook entries."""

    @dataclass
    class RsvpLoaded(Message):
        page: AdminPage
        summary: RsvpSummary

    @dataclass
    class Changed(Message):
        hidden: bool

    @dataclass
    class ContextLoaded(Message):
        chat: AdminChat
        neighbours: list[AdminChat]

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, AdminPage] = {}
        self.chats: dict[str, AdminChat] = {}
        self.entries: dict[str, GuestbookEntry] = {}
        self.active_table = "pages"  # the list the hide/unhide/more keys act on
        self.cursors: dict[str, str | None] = {"pages": None, "chats": None, "guestbook": None}
        self.shown = ""  # what #context shows: "page:<id>" or "chat:<id>" (late answers for another are dropped)

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="moderation-tabs", initial="tab-content"):
            with TabPane("Pages & chats", id="tab-content"):
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
            with TabPane("Guestbook", id="tab-guestbook"):
                with Horizontal(classes="filters"):
                    yield Select(GUESTBOOK_FILTERS, value="all", allow_blank=False, id="guestbook-hidden")
                    yield Input(placeholder="page slug or id (empty: every page)", id="guestbook-page")
                yield DataTable(id="guestbook", cursor_type="row", zebra_stripes=True)
                yield Static("Select an entry to read it whole.", id="guestbook-detail", classes="detail")
        yield Footer()

    def on_mount(self) -> None:
        # tabs switch with g (or a click): the tab bar stays out of the focus chain
        self.query_one(Tabs).can_focus = False
        self.query_one("#pages", DataTable).add_columns("Title", "Slug", "Owner", "State", "Views")
        self.query_one("#chats", DataTable).add_columns("When", "Room", "Role", "State", "Message")
        self.query_one("#guestbook", DataTable).add_columns("When", "Page", "Name", "State", "Entry")

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load_pages()
        self.load_chats()
        self.load_guestbook()

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#moderation-tabs", TabbedContent)
        tabs.active = "tab-guestbook" if tabs.active == "tab-content" else "tab-content"

    @on(TabbedContent.TabActivated, "#moderation-tabs")
    def tab_switched(self, event: TabbedContent.TabActivated) -> None:
        table = "guestbook" if event.pane.id == "tab-guestbook" else "pages"
        self.active_table = table
        self.query_one(f"#{table}", DataTable).focus()

    @on(Select.Changed, "#guestbook-hidden")
    @on(Input.Submitted, "#guestbook-page")
    def guestbook_filter(self) -> None:
        self.load_guestbook()

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
        elif cursor and self.active_table == "guestbook":
            self.load_guestbook(cursor)
        elif cursor:
            self.load_chats(cursor)

    @work(exclusive=True, group="pages")
    async def load_pages(self, cursor: str | None = None) -> None:
        status = str(self.query_one("#page-status", Select).value)
        await self.fetch_page(self.api.pages(status=status, cursor=cursor), self.PagesLoaded, cursor)

    @work(exclusive=True, group="chats")
    async def load_chats(self, cursor: str | None = None) -> None:
        hidden = HIDDEN_PARAM[str(self.query_one("#chat-hidden", Select).value)]
        room = self.query_one("#chat-room", Input).value.strip()
        await self.fetch_page(self.api.chats(room=room, hidden=hidden, cursor=cursor), self.ChatsLoaded, cursor)

    def _page_filter(self) -> str | None:
        """The guestbook's page filter as a page id: typed as one, or the slug of a listed
        page; ``None`` when the slug names no page listed here."""
        typed = self.query_one("#guestbook-page", Input).value.strip()
        if not typed or typed in self.pages:
            return typed
        found = [page.id for page in self.pages.values() if page.slug == typed.lower()]
        if found:
            return found[0]
        if len(typed) == 36 and typed.count("-") == 4:
            return typed
        return None

    @work(exclusive=True, group="guestbook")
    async def load_guestbook(self, cursor: str | None = None) -> None:
        hidden = HIDDEN_PARAM[str(self.query_one("#guestbook-hidden", Select).value)]
        page_id = self._page_filter()
        if page_id is None:
            self.notify("no listed page has that slug: type its id", severity="warning", title="Guestbook")
            return
        call = self.api.guestbook(page_id=page_id, hidden=hidden, cursor=cursor)
        await self.fetch_page(call, self.GuestbookLoaded, cursor)

    def on_moderation_screen_guestbook_loaded(self, message: GuestbookLoaded) -> None:
        table = self.fill_table("guestbook", self.entries, message, self._entry_cells)
        self.cursors["guestbook"] = message.listing.next_cursor
        if not table.row_count:
            self.query_one("#guestbook-detail", Static).update("No guestbook entries here.")

    def on_moderation_screen_pages_loaded(self, message: PagesLoaded) -> None:
        self.fill_table("pages", self.pages, message, self._page_cells)
        self.cursors["pages"] = message.listing.next_cursor

    def on_moderation_screen_chats_loaded(self, message: ChatsLoaded) -> None:
        self.fill_table("chats", self.chats, message, self._chat_cells)
        self.cursors["chats"] = message.listing.next_cursor

    @staticmethod
    def _page_cells(page: AdminPage) -> tuple[str, ...]:
        state = "HIDDEN" if page.is_hidden else "published" if page.is_published else "draft"
        return page.title, page.slug, page.user_email or short(page.user_id), state, str(page.view_count)

    @staticmethod
    def _chat_cells(chat: AdminChat) -> tuple[str, ...]:
        state = "HIDDEN" if chat.is_hidden else ""
        return when(chat.created_at), chat.room or "", chat.role, state, chat_text(chat)[:60]

    @staticmethod
    def _entry_cells(entry: GuestbookEntry) -> tuple[str | Text, ...]:
        state = "HIDDEN" if entry.is_hidden else ""
        # a guest's words as plain text (a "[b]" in them is not markup)
        return when(entry.created_at), entry.page_slug, Text(entry.name), state, Text(entry_text(entry)[:60])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable) and event.widget.id:
            self.active_table = event.widget.id

    def _selected(self) -> Moderated | None:
        """The row under the cursor of the table that has (or last had) focus."""
        table = self.active_table
        rows: dict[str, AdminPage] | dict[str, AdminChat] | dict[str, GuestbookEntry] = (
            self.pages if table == "pages" else self.entries if table == "guestbook" else self.chats
        )
        return rows.get(self.cursor_key(table) or "")

    @on(DataTable.RowHighlighted)
    def show_context(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value or ""
        context = self.query_one("#context", Static)
        if event.data_table.id == "pages" and key in self.pages:
            page = self.pages[key]
            self.shown = f"page:{page.id}"
            context.update(self._page_detail(page))
            self.load_rsvp(page)
        elif event.data_table.id == "chats" and key in self.chats:
            self.shown = f"chat:{key}"
            self.load_context(self.chats[key])
        elif event.data_table.id == "guestbook" and key in self.entries:
            entry = self.entries[key]
            reason = f"\nHidden because: {entry.hidden_reason}" if entry.is_hidden else ""
            # written by guests: shown as plain text, never read as markup
            detail = Text.assemble((entry.name, "bold"), f" on /{entry.page_slug}  ·  {when(entry.created_at)}")
            detail.append(f"{reason}\n{entry.content}")
            self.query_one("#guestbook-detail", Static).update(detail)

    @staticmethod
    def _page_detail(page: AdminPage, summary: RsvpSummary | None = None) -> str:
        reason = f"\nHidden because: {page.hidden_reason}" if page.is_hidden else ""
        components = ", ".join(page.component_types) or "none"
        rsvp = f"\n{rsvp_line(summary)}" if summary is not None else ""
        return (
            f"[b]{page.title}[/b]  /{page.slug}  v{page.version}\nOwner {page.user_email or page.user_id}"
            f"  ·  created {when(page.created_at)}  ·  components: {components}{reason}{rsvp}"
        )

    @work(exclusive=True, group="rsvp")
    async def load_rsvp(self, page: AdminPage) -> None:
        await self.fetch(self.api.rsvp_summary(page.id), lambda summary: self.RsvpLoaded(page, summary))

    def on_moderation_screen_rsvp_loaded(self, message: RsvpLoaded) -> None:
        if self.shown == f"page:{message.page.id}":
            self.query_one("#context", Static).update(self._page_detail(message.page, message.summary))

    @work(exclusive=True, group="context")
    async def load_context(self, chat: AdminChat) -> None:
        listing = await self.guarded(self.api.chats(session_id=chat.session_id or ""))
        self.post_message(self.ContextLoaded(chat, listing.items if listing else []))

    def on_moderation_screen_context_loaded(self, message: ContextLoaded) -> None:
        chat = message.chat
        if self.shown != f"chat:{chat.id}":
            return
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
        if isinstance(item, AdminPage):
            what, after = f"page “{item.title}” (/{item.slug})", "Its public link will answer 404."
        elif isinstance(item, GuestbookEntry):
            what = f"guestbook entry by {item.name} “{entry_text(item)[:50]}”"
            after = "It leaves the public guestbook at once."
        else:
            what, after = f"message “{chat_text(item)[:50]}”", "It leaves roomHistory and the agents' context."
        self.app.push_screen(
            ConfirmScreen("Hide", f"Hide the {what}?\n{after}", confirm_label="Hide", reason_label="Reason"),
            lambda result: self._confirmed(result, item, hide=True),
        )

    def action_unhide(self) -> None:
        item = self._selected()
        if item is None or not item.is_hidden or self.refuse_if_read_only():
            return
        what = (
            f"page “{item.title}”"
            if isinstance(item, AdminPage)
            else f"the entry by {item.name}"
            if isinstance(item, GuestbookEntry)
            else "this message"
        )
        self.app.push_screen(
            ConfirmScreen("Unhide", f"Show {what} again?", confirm_label="Unhide", danger=False),
            lambda result: self._confirmed(result, item, hide=False),
        )

    def _confirmed(self, result: Confirmation | None, item: Moderated, *, hide: bool) -> None:
        if result is not None:
            self.change(item, hide, result.reason)

    @work(group="moderation-change")
    async def change(self, item: Moderated, hide: bool, reason: str) -> None:
        call: Awaitable[Moderated]
        if isinstance(item, AdminPage):
            call = self.api.hide_page(item.id, reason) if hide else self.api.unhide_page(item.id)
        elif isinstance(item, GuestbookEntry):
            call = self.api.hide_guestbook_entry(item.id, reason) if hide else self.api.unhide_guestbook_entry(item.id)
        else:
            call = self.api.hide_chat(item.id, reason) if hide else self.api.unhide_chat(item.id)
        if await self.guarded(call) is not None:
            self.post_message(self.Changed(hide))

    def on_moderation_screen_changed(self, message: Changed) -> None:
        self.notify("Hidden." if message.hidden else "Visible again.", title="Moderation")
        self.action_reload()
