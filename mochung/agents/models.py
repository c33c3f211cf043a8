"""Choosing the chat model from ``MOCHUNG_LLM``: ``offline`` (default, no key) or any
``provider:model`` that LangChain's ``init_chat_model`` understands, with the provider's
own key variables (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``OLLAMA_HOST`` …)."""

from __future__ import annotations

from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from mochung.agents.offline import OfflineChatModel
from mochung.settings import Settings, SettingsError

# Providers whose chat model takes a request ``timeout`` keyword.
TIMEOUT_PROVIDERS = frozenset({"openai", "anthropic", "azure_openai", "groq", "mistralai", "deepseek", "xai"})
# langchain-openai's providers: they get an HTTP pool per event loop (mochung.agents.loop_http)
OPENAI_CLIENT_PROVIDERS = frozenset({"openai", "azure_openai"})


def chat_model_from_settings(settings: Settings) -> BaseChatModel:
    name = settings.llm.strip()
    if name.lower() in ("", "offline"):
        return OfflineChatModel()
    provider, _, model = name.partition(":")
    if not provider or not model:
        raise SettingsError(
            f"MOCHUNG_LLM={name!r} is not understood: use 'offline' or 'provider:model' (e.g. openai:gpt-4o-mini)"
        )
    options: dict[str, Any] = {"timeout": settings.llm_timeout_seconds} if provider in TIMEOUT_PROVIDERS else {}
    try:
        if provider in OPENAI_CLIENT_PROVIDERS:
            from mochung.agents.loop_http import loop_local_http_client  # imports the OpenAI SDK

            options["http_async_client"] = loop_local_http_client()
        chat_model: BaseChatModel = init_chat_model(name, **options)  # a model name and no configurable_fields
        return chat_model
    except ImportError as error:
        raise SettingsError(
            f"MOCHUNG_LLM={name!r} needs the provider's LangChain package: {error.msg or error}"
        ) from None
    except Exception as error:  # missing key, unknown provider: say which setting to fix
        raise SettingsError(f"MOCHUNG_LLM={name!r} cannot be used: {type(error).__name__}: {error}") from None
