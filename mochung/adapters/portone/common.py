"""What every PortOne client shares: the normalised payment record, the errors, and one HTTP
call (:class:`PortOneHttp`).

The flows only ever see :class:`ProviderPayment` and the exceptions below, whichever API
(V1 iamport, V2, or the embedded sandbox speaking V2) answered.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from mochung.domain.ports import ProviderUnavailable


def as_int(value: object) -> int:
    """An amount from a provider record; absent or malformed reads as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


class PortOneHttp:
    """A PortOne API as a client calls it: the HTTP session, the API's base URL, the timeout."""

    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, timeout_seconds: float) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._timeout_seconds = timeout_seconds

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One request to ``path`` below the base URL: the status and the JSON object body,
        or ProviderUnavailable.

        5xx, timeouts, connection failures and non-JSON bodies all become ProviderUnavailable;
        other statuses are returned for the caller to interpret.
        """
        try:
            async with self._http.request(
                method,
                self._base_url + path,
                headers=headers,
                json=body,
                params=params,
                timeout=aiohttp.ClientTimeout(total=self._timeout_seconds),
                allow_redirects=False,
            ) as response:
                status = response.status
                text = await response.text()
        except TimeoutError as error:
            message = f"the payment provider did not answer within {self._timeout_seconds:g}s"
            raise ProviderUnavailable(message) from error
        except aiohttp.ClientError as error:
            raise ProviderUnavailable(f"could not reach the payment provider: {type(error).__name__}") from error
        if status >= 500:
            raise ProviderUnavailable(f"the payment provider failed with HTTP {status}")
        try:
            answer = json.loads(text) if text else {}
        except ValueError as error:
            message = f"the payment provider answered HTTP {status} with a body that is not JSON"
            raise ProviderUnavailable(message) from error
        if not isinstance(answer, dict):
            raise ProviderUnavailable(f"the payment provider answered HTTP {status} with an unexpected body")
        return status, answer
