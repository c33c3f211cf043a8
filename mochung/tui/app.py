"""The admin app: screens by key and by command palette, the session, and error reporting.

Each screen is a Textual *mode* with its own stack, so switching between them (k9s-style,
one key each) keeps their filters and selection. The login screen is a mode too: an
expired token anywhere switches back to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mochung.tui.client import AdminApi, ApiError, ClientError, ReadOnlyRefused
from mochung.tui.models import Profile
from mochung.tui.screens.dashboard import DashboardScreen
from mochung.tui.screens.evaluation import EvaluationScreen
from mochung.tui.screens.live_chat import LiveChatScreen
from mochung.tui.screens.login import LoginScreen
from mochung.tui.screens.moderation import ModerationScreen
from mochung.tui.screens.payments import PaymentsScreen
from mochung.tui.screens.system import SystemScreen
from mochung.tui.screens.users import UsersScreen
from mochung.tui.tokens import TokenStore

# mode name → (key, title, what it is for); the order is the footer's and the palette's
SCREENS: dict[str, tuple[str, str, str]] = {
    "dashboard": ("1", "Dashboard", "Live stats and the recent audit log"),
    "users": ("2", "Users", "Search users; (de)activate, grant or revoke admin"),
    "moderation": ("3", "Moderation", "Pages and chat messages: hide and unhide"),
    "live-chat": ("4", "Live chat", "Watch a room live and send test messages"),
    "payments": ("5", "Payments", "Refunds and payment reviews"),
    "evaluation": ("6", "Evaluation", "Run the agents' evaluation datasets"),
    "system": ("7", "System", "Web and worker processes, turns in flight, the queue"),
}


class AdminApp(App[None]):
    TITLE = "모청 admin"
    CSS_PATH = "app.tcss"
    DEFAULT_MODE = "login"
    MODES: ClassVar = {
        "login": LoginScreen,
        "dashboard": DashboardScreen,
        "users": UsersScreen,
        "moderation": ModerationScreen,
        "live-chat": LiveChatScreen,
        "payments": PaymentsScreen,
        "evaluation": EvaluationScreen,
        "system": SystemScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        # F-keys too: an input with focus takes the digits, and the hints must stay visible while typing
        *(Binding(f"{key},f{key}", f"open('{mode}')", title) for mode, (key, title, _) in SCREENS.items()),
        Binding("ctrl+l", "logout", "Log out"),
    ]

    def __init__(self, api: AdminApi, tokens: TokenStore | None = None) -> None:
        super().__init__()
        self.api = api
        self.tokens = tokens
        self.profile: Profile | None = None
        if tokens is not None and api.token is None:
            api.token = tokens.load(api.base_url)
        self.sub_title = api.base_url + ("  ·  READ-ONLY" if api.read_only else "")

    @property
    def read_only(self) -> bool:
        return self.api.read_only

    @property
    def signed_in(self) -> bool:
        return self.profile is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "logout"):
            return self.signed_in
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.signed_in:
            return
        for mode, (key, title, help_text) in SCREENS.items():
            yield SystemCommand(f"Open {title}", f"{help_text} (key {key})", partial(self.action_open, mode))
        yield SystemCommand("Log out", "Forget the saved token and return to the login screen", self.action_logout)

    def sign_in(self, profile: Profile) -> None:
        """Called by the login screen with the admin's profile; the client holds the token."""
        self.profile = profile
        if self.tokens is not None and self.api.token:
            self.tokens.save(self.api.base_url, self.api.token)
        self.switch_mode("dashboard")

    def action_open(self, mode: str) -> None:
        if self.signed_in:
            self.switch_mode(mode)

    def action_logout(self) -> None:
        self.sign_out("Logged out.")

    def sign_out(self, message: str) -> None:
        self.profile = None
        self.api.token = None
        if self.tokens is not None:
            self.tokens.forget(self.api.base_url)
        self.switch_mode("login")
        self.notify(message, title="Session")

    def report(self, error: ClientError) -> None:
        """Every failed call ends here: a notification, never a crash."""
        if isinstance(error, ApiError) and error.unauthorized:
            if self.signed_in:
                self.sign_out("Your session has expired: log in again.")
            return
        if isinstance(error, ApiError) and error.forbidden:
            self.notify(error.message, title="Not allowed (403)", severity="error")
        elif isinstance(error, ReadOnlyRefused):
            self.notify(error.message, severity="warning")
        elif isinstance(error, ApiError):
            self.notify(error.message, title=f"Server said {error.status}", severity="error")
        else:
            self.notify(error.message, title="Network", severity="error")

    async def on_unmount(self) -> None:
        await self.api.close()
