"""Where the admin's token is kept between runs: one JSON file per user, readable by them alone.

Tokens are stored per server URL, so logging into a staging server does not log out of a
local one. The file and its folder are created with 0600 / 0700 permissions before any
secret is written, so there is no moment where the token is world-readable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

FILE_NAME = "tui-tokens.json"


def default_token_path() -> Path:
    return platformdirs.user_config_path("mochung") / FILE_NAME


class TokenStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_token_path()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, tokens: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an older file may have been created with looser bits
        with os.fdopen(descriptor, "w") as handle:
            json.dump(tokens, handle)

    def load(self, url: str) -> str | None:
        return self._read().get(url.rstrip("/"))

    def save(self, url: str, token: str) -> None:
        tokens = self._read()
        tokens[url.rstrip("/")] = token
        self._write(tokens)

    def forget(self, url: str) -> bool:
        """Drop the token of ``url``; ``True`` when there was one."""
        tokens = self._read()
        if tokens.pop(url.rstrip("/"), None) is None:
            return False
        self._write(tokens)
        return True
