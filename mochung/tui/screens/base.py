"""What every admin screen shares: the API, read-only refusal and error reporting."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from mochung.tui.client import AdminApi, ClientError
from mochung.tui.models import Listing

if TYPE_CHECKING:
    from mochung.tui.app import AdminApp

T = TypeVar("T")


class ListingLoaded(Message, Generic[T]):
    """A page of a screen's list arrived; ``append``: it follows the rows shown (More)."""

    def __init__(self, listing: Listing[T], append: bool = False) -> None:
        super().__init__()
        self.listing = listing
        self.append = append


class AdminScreen(Screen[None]):
    """A screen of the admin app. ``MUTATING`` names the actions that change server state:
    in ``--read-only`` mode they are hidden from the footer and the palette, and refused."""

    MUTATING: ClassVar[frozenset[str]] = frozenset()
    # the screen's main list gets focus, so the number keys switch screens instead of typing
    AUTO_FOCUS = "DataTable"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave_input", "Back to list", show=False)]

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
