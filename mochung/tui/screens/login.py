"""Email and password; a saved token is tried first so a returning admin skips the form."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Header, Input, Label, Static

from mochung.tui.client import ApiError, ClientError
from mochung.tui.models import Profile
from mochung.tui.screens.base import AdminScreen


class LoginScreen(AdminScreen):
    CSS_PATH = "login.tcss"
    AUTO_FOCUS = "#email"

    @dataclass
    class SignedIn(Message):
        profile: Profile

    @dataclass
    class Refused(Message):
        reason: str

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="login-box"):
            yield Static("모청 admin", id="login-title")
            yield Label("Email")
            yield Input(placeholder="admin@example.com", id="email")
            yield Label("Password")
            yield Input(placeholder="password", password=True, id="password")
            yield Button("Log in", variant="primary", id="login")
            yield Static("", id="login-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()
        if self.api.token:
            self.resume_session()

    def on_screen_resume(self) -> None:
        self.query_one("#password", Input).value = ""

    @on(Input.Submitted, "#email")
    def next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login")
    def submit(self) -> None:
        email = self.query_one("#email", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not email or not password:
            self.show_error("Enter your email and password.")
            return
        self.show_error("")
        self.query_one("#login", Button).disabled = True
        self.log_in(email, password)

    def show_error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    @work(exclusive=True, group="login")
    async def log_in(self, email: str, password: str) -> None:
        try:
            result = await self.api.login(email, password)
        except ApiError as error:
            # 401 is "wrong email or password", worded by the server; say so here, not as a toast
            self.post_message(
                self.Refused(error.message if error.status != 429 else f"Too many attempts: {error.message}")
            )
            return
        except ClientError as error:
            self.post_message(self.Refused(error.message))
            return
        self.post_message(self.SignedIn(result.user))

    @work(exclusive=True, group="login")
    async def resume_session(self) -> None:
        try:
            profile = await self.api.profile()
        except ClientError:
            self.api.token = None  # expired or revoked: the form is shown instead
            self.post_message(self.Refused(""))
            return
        self.post_message(self.SignedIn(profile))

    def on_login_screen_signed_in(self, message: SignedIn) -> None:
        self.query_one("#login", Button).disabled = False
        if not message.profile.is_admin:
            self.api.token = None
            self.show_error(f"{message.profile.email} is not an admin.")
            return
        self.query_one("#password", Input).value = ""
        self.admin.sign_in(message.profile)

    def on_login_screen_refused(self, message: Refused) -> None:
        self.query_one("#login", Button).disabled = False
        self.show_error(message.reason)
        if message.reason:
            self.query_one("#password", Input).focus()
