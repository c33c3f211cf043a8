"""Guest writes are rate-limited per visitor (the ``mochung_visitor`` cookie, else the IP),
and nothing is stored past the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mochung.domain.models import GuestbookEntry, Rsvp
from mochung.server.app import create_app
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


async def test_changes_and_deletes_count_too_and_change_nothing_past_the_limit(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    me = {"Cookie": "mochung_visitor=" + "e" * 32}
    rsvp_path = f"/api/page/public/{page['slug']}/rsvp"
    book = f"/api/page/public/{page['slug']}/guestbook"
    created = await c.expect(await client.post(rsvp_path, json=answer(), headers=me), 201, "rsvp")
    note = await c.expect(
        await client.post(book, json={"name": "하늘", "content": "축하", "password": "1234"}, headers=me), 201, "entry"
    )
    change = {**me, "X-RSVP-Token": created["editToken"]}
    await c.expect(await client.put(f"{rsvp_path}/{created['id']}", json=answer(partySize=3), headers=change), 200, "")
    stored = await Rsvp.all().values_list("name", "party_size", "updated_at")
    # the 4th write of this visitor: a change and a delete are refused alike, nothing changes
    response = await client.put(f"{rsvp_path}/{created['id']}", json=answer(partySize=1), headers=change)
    await c.expect_error(response, 429, "4th write: a change")
    response = await client.delete(f"{book}/{note['id']}", json={"password": "1234"}, headers=me)
    await c.expect_error(response, 429, "4th write: a delete")
    assert "Retry-After" in response.headers
    assert await Rsvp.all().values_list("name", "party_size", "updated_at") == stored
    assert await GuestbookEntry.all().count() == 1


async def test_a_client_without_the_cookie_is_held_to_its_ips_share(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(guest_writes_per_visitor=100, guest_writes_per_ip=2)))
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    for n in range(2):
        client.session.cookie_jar.clear()  # never sends the cookie it is given
        response = await client.post(path, json=answer(name=f"손님{n}"))
        await c.expect(response, 201, "cookieless write")
        assert "mochung_visitor" in response.cookies  # it gets the cookie with its answer
    client.session.cookie_jar.clear()
    await c.expect_error(await client.post(path, json=answer(name="손님2")), 429, "the IP's share is used up")
    # a guest with a cookie behind the same IP is held to the IP's share too
    me = {"Cookie": "mochung_visitor=" + "f" * 32}
    await c.expect_error(await client.post(path, json=answer(name="손님3"), headers=me), 429, "same IP")
    assert await Rsvp.all().count() == 2
