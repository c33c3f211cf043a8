"""Guest writes are rate-limited per visitor (the ``mochung_visitor`` cookie, else the IP),
and nothing is stored past the limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from mochung.domain.models import GuestbookEntry, Rsvp
from mochung.settings import Settings
from tests.contract import contract as c
from tests.server.guests.helpers import answer, publish
from tests.support.users import user_with_headers


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(guest_writes_per_visitor=3)


async def test_writes_are_rate_limited_per_visitor(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    me = {"Cookie": "mochung_visitor=" + "a" * 32}
    for _ in range(3):
        await c.expect(await client.post(path, json=answer(), headers=me), 201, "POST rsvp")
    response = await client.post(path, json=answer(), headers=me)
    await c.expect_error(response, 429, "4th write")
    assert int(response.headers["Retry-After"]) >= 1
    assert await Rsvp.all().count() == 3
    # another visitor (another cookie) is not slowed down by the first
    other = {"Cookie": "mochung_visitor=" + "b" * 32}
    await c.expect(await client.post(path, json=answer(), headers=other), 201, "another visitor")


async def test_guestbook_writes_share_the_limit(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    me = {"Cookie": "mochung_visitor=" + "c" * 32}
    path = f"/api/page/public/{page['slug']}/guestbook"
    entry = {"name": "하늘", "content": "축하해요", "password": "1234"}
    await c.expect(await client.post(f"/api/page/public/{page['slug']}/rsvp", json=answer(), headers=me), 201, "rsvp")
    for _ in range(2):
        await c.expect(await client.post(path, json=entry, headers=me), 201, "guestbook")
    response = await client.post(path, json=entry, headers=me)
    await c.expect_error(response, 429, "4th write")
    assert "Retry-After" in response.headers
    assert await GuestbookEntry.all().count() == 2


async def test_wrong_passwords_are_limited_per_entry(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/guestbook"
    writer = {"Cookie": "mochung_visitor=" + "d" * 32}
    sent = {"name": "하늘", "content": "축하", "password": "1234"}
    created = await (await client.post(path, json=sent, headers=writer)).json()
    statuses = []
    for n in range(12):  # a new visitor each time: the per-entry limit still holds
        cookie = {"Cookie": f"mochung_visitor={n + 1:032x}"}
        response = await client.delete(f"{path}/{created['id']}", json={"password": f"{n:04d}x"}, headers=cookie)
        statuses.append(response.status)
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]
    assert await GuestbookEntry.all().count() == 1
