"""What every PortOne client shares: the normalised payment record, the errors, one HTTP call.

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


async def call_json(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    timeout_seconds: float,
    headers: dict[str, str],
    json_body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request: the status and the JSON object body, or ProviderUnavailable.

    5xx, timeouts, connection failures and non-JSON bodies all become ProviderUnavailable;
    other statuses are returned for the caller to interpret.
    """
    try:
        async with http.request(
            method,
            url,
            headers=headers,
            json=json_body,
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            allow_redirects=False,
        ) as response:
            status = response.status
            text = await response.text()
    except TimeoutError as error:
        raise ProviderUnavailable(f"the payment provider did not answer within {timeout_seconds:g}s") from error
    except aiohttp.ClientError as error:
        raise ProviderUnavailable(f"could not reach the payment provider: {type(error).__name__}") from error
    if status >= 500:
        raise ProviderUnavailable(f"the payment provider failed with HTTP {status}")
    try:
        body = json.loads(text) if text else {}
    except ValueError as error:
        message = f"the payment provider answered HTTP {status} with a body that is not JSON"
        raise ProviderUnavailable(message) from error
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"the payment provider answered HTTP {status} with an unexpected body")
    return status, body
