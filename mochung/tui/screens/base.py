"""What every admin screen shares: the API, read-only refusal, error reporting, polling while
shown, and the plumbing of the paged lists (load a page, show it, More, redraw a changed row);
and the two kinds of screen built on it: one paged list (``ListScreen``), and a live view that
refreshes itself while shown (``RefreshingScreen``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable

from mochung.tui.client import AdminApi, ClientError
from mochung.tui.models import Listing

if TYPE_CHECKING:
    from mochung.tui.app import AdminApp

T = TypeVar("T")


class Row(Protocol):
    """What a list shows a row of: anything with an id (the row's key in its table)."""

    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Row)

# the keys of a paged list, the same on every screen that has one (each screen places them in
# its own footer order)
MORE = Binding("n", "more", "More")
RELOAD = Binding("r", "reload", "Refresh")


@dataclass(frozen=True)
class Changes(Binding):
    """A key whose action changes server state: in ``--read-only`` mode it is hidden from
    the footer and the palette, and refused (see :meth:`AdminScreen.check_action`)."""


@dataclass
class ListingLoaded(Message, Generic[T]):
    """A page of a screen's list arrived; ``append``: it follows the rows shown (More)."""

    listing: Listing[T]
    append: bool = False


class AdminScreen(Screen[None]):
    """A screen of the admin app. Its :class:`Changes` bindings name the actions that change
    server state (``MUTATING``, gathered once per class)."""

    MUTATING: ClassVar[frozenset[str]] = frozenset()
    # the screen's main list gets focus, so the number keys switch screens instead of typing
    AUTO_FOCUS = "DataTable"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave_input", "Back to list", show=False)]
    _poll: Timer | None = None  # see poll_while_shown

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("BINDINGS", [])
        cls.MUTATING = frozenset(binding.action for binding in own if isinstance(binding, Changes))

    def action_leave_input(self) -> None:
        if self.AUTO_FOCUS and self.query(self.AUTO_FOCUS):
            self.query(self.AUTO_FOCUS).first().focus()

    @property
    def admin(self) -> AdminApp:
        return cast("AdminApp", self.app)

    @property
    def api(self) -> AdminApi:
        return self.admin.api

    @property
    def read_only(self) -> bool:
        return self.admin.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING and self.read_only:
            return False
        return True

    def refuse_if_read_only(self) -> bool:
        """For state changes reached by other means than a binding (buttons, chips)."""
        if self.read_only:
            self.notify("read-only mode: this action is disabled", severity="warning")
        return self.read_only

    async def guarded(self, call: Awaitable[T]) -> T | None:
        """Await a client call; a failure becomes an in-app notification and ``None``."""
        try:
            return await call
        except ClientError as error:
            self.admin.report(error)
            return None

    async def attempt(self, call: Awaitable[object]) -> bool:
        """Like :meth:`guarded` for calls that return nothing: ``True`` when it worked."""
        try:
            await call
        except ClientError as error:
            self.admin.report(error)
            return False
        return True

    async def fetch(self, call: Awaitable[T], loaded: Callable[[T], Message]) -> T | None:
        """:meth:`guarded`, and the answer posted as ``loaded(answer)``: a worker fetches, the
        screen's handler shows it, in order with the screen's other messages."""
        answer = await self.guarded(call)
        if answer is not None:
            self.post_message(loaded(answer))
        return answer

    async def fetch_page(
        self, call: Awaitable[Listing[T]], loaded: Callable[[Listing[T], bool], Message], cursor: str | None
    ) -> None:
        """:meth:`fetch` for a page of a list: one fetched from a cursor is appended (More)."""
        await self.fetch(call, lambda listing: loaded(listing, cursor is not None))

    def fill_table(
        self, table_id: str, rows: dict[str, R], message: ListingLoaded[R], cells: Callable[[R], Iterable[object]]
    ) -> DataTable[Any]:
        """Show a page of a list in its table, and keep its rows by id: a first page replaces
        what was shown, a More page goes below it."""
        table = self.query_one(f"#{table_id}", DataTable)
        if not message.append:
            table.clear()
            rows.clear()
        for row in message.listing.items:
            rows[row.id] = row
            table.add_row(*cells(row), key=row.id)
        return table

    def cursor_key(self, table_id: str) -> str | None:
        """The key of the row under a table's cursor; ``None`` when the table is empty."""
        table = self.query_one(f"#{table_id}", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def update_row(self, table_id: str, key: str, cells: Iterable[object]) -> None:
        """Redraw one row in place after a change: the cursor and the scroll stay put."""
        table = self.query_one(f"#{table_id}", DataTable)
        for column, value in zip(table.columns, cells, strict=False):
            table.update_cell(key, column, value)

    def poll_while_shown(self, seconds: float, tick: Callable[[], object]) -> None:
        """Call ``tick`` every ``seconds`` while this screen is shown: call it on every resume
        (the timer starts the first time, and is paused while another screen is shown)."""
        if self._poll is None:
            self._poll = self.set_interval(seconds, tick)
        else:
            self._poll.resume()

    def on_screen_suspend(self) -> None:
        if self._poll is not None:
            self._poll.pause()


class ListScreen(AdminScreen, Generic[R]):
    """A screen around one paged list, the table ``#TABLE``: shown again, or on ``r``, it loads
    the first page with the screen's filters; ``n`` loads the next page below it."""

    TABLE: ClassVar[str]

    class Loaded(ListingLoaded[Any]):
        """A page of the screen's list."""

    @dataclass
    class Changed(Message):
        """The server changed a row (an admin's action): ``what`` tells the admin how."""

        row: Any
        what: str

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, R] = {}
        self.next_cursor: str | None = None

    def page(self, cursor: str | None) -> Awaitable[Listing[R]]:
        """The client call for one page of the list, with the screen's filters."""
        raise NotImplementedError

    def cells(self, row: R) -> tuple[object, ...]:
        """A row's cells, in the order of the table's columns."""
        raise NotImplementedError

    def page_shown(self) -> None:
        """After a page is shown: for a screen's own status line or empty-list text."""

    def on_screen_resume(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_more(self) -> None:
        if self.next_cursor:
            self.load(self.next_cursor)

    @work(exclusive=True, group="list")
    async def load(self, cursor: str | None = None) -> None:
        await self.fetch_page(self.page(cursor), self.Loaded, cursor)

    def on_list_screen_loaded(self, message: Loaded) -> None:
        self.fill_table(self.TABLE, self.rows, message, self.cells)
        self.next_cursor = message.listing.next_cursor
        self.page_shown()

    def selected(self) -> R | None:
        """The row under the cursor, ``None`` when the list is empty."""
        return self.rows.get(self.cursor_key(self.TABLE) or "")

    def on_list_screen_changed(self, message: Changed) -> None:
        row: R = message.row
        self.rows[row.id] = row
        self.update_row(self.TABLE, row.id, self.cells(row))
        self.row_changed(row, message.what)

    def row_changed(self, row: R, what: str) -> None:
        """After a changed row is redrawn: for the screen's notice and side panel."""


class RefreshingScreen(AdminScreen):
    """A screen that refreshes itself every ``refresh_seconds`` while shown, in place."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r,f5", "refresh", "Refresh")]
    refresh_seconds: ClassVar[float] = 3.0  # tests make it short
    _loading = False

    def on_screen_resume(self) -> None:
        self.action_refresh()
        self.poll_while_shown(self.refresh_seconds, self.action_refresh)

    def action_refresh(self) -> None:
        # a refresh while one is still loading waits for the next tick instead of cancelling
        # it (a slow server would otherwise never show anything)
        if not self._loading:
            self._loading = True
            self.load()

    @work(group="refresh")
    async def load(self) -> None:
        try:
            await self.load_data()
        finally:
            self._loading = False

    async def load_data(self) -> None:
        """Fetch what the screen shows (and post it to the screen's handler)."""
        raise NotImplementedError
