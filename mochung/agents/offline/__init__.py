"""The offline model: a deterministic tool-calling chat model that needs no key."""

from mochung.agents.offline.model import OfflineChatModel

__all__ = ["OfflineChatModel"]
