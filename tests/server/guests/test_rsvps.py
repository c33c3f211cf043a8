"""RSVP routes (PROTOCOL.md "Guests") on SQLite and PostgreSQL: success shapes, and every
refusal with nothing changed."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp.test_utils import TestClient

from mochung.domain.models import Page, Rsvp
from tests.contract import contract as c
from tests.server.guests.helpers import answer, publish
from tests.support.users import user_with_headers

CREATED = {"id", "editToken", "side", "name", "attending", "partySize", "meal", "message", "createdAt"}
RSVP = CREATED - {"editToken"}
SUMMARY = {"responses", "attending", "notAttending", "guests", "bySide", "meals"}


async def _stored() -> list[tuple[Any, ...]]:
    return sorted(await Rsvp.all().values_list("id", "name", "attending", "party_size", "meal", "updated_at"))


async def test_a_guest_answers_and_changes_the_answer_with_the_token(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    created = await c.expect(await client.post(path, json=answer(message="축하해요!")), 201, "POST rsvp")
    c.rest_shape(created, CREATED, "created RSVP")
    assert (created["side"], created["name"], created["partySize"], created["meal"]) == ("bride", "김하늘", 2, "yes")
    assert created["message"] == "축하해요!" and len(created["editToken"]) >= 32
    stored = await Rsvp.get(id=created["id"])
    assert created["editToken"] not in stored.edit_token_hash  # only its hash is kept

    changed = await c.expect(
        await client.put(
            f"{path}/{created['id']}",
            json=answer(attending=False, partySize=3),
            headers={"X-RSVP-Token": created["editToken"]},
        ),
        200,
        "PUT rsvp",
    )
    c.rest_shape(changed, RSVP, "changed RSVP")
    assert "editToken" not in changed
    # not attending: a party of 0 and no meal, whatever was sent
    assert (changed["attending"], changed["partySize"], changed["meal"]) == (False, 0, None)

    # without askMeal no meal is kept; an attending guest who did not say is undecided with it
    no_meal = await c.expect(await client.post(path, json=answer(meal=None)), 201, "POST rsvp without meal")
    assert no_meal["meal"] == "undecided"


async def test_refusals_change_nothing(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    created = await c.expect(await client.post(path, json=answer()), 201, "POST rsvp")
    before = await _stored()

    async def refused(method: str, url: str, status: int, **kw: Any) -> dict[str, Any]:
        body = await c.expect_error(await client.request(method, url, **kw), status, f"{method} {url} {kw}")
        assert await _stored() == before
        return body

    item = f"{path}/{created['id']}"
    token = {"X-RSVP-Token": created["editToken"]}
    await refused("PUT", item, 403, json=answer(name="남"), headers={"X-RSVP-Token": "wrong-token"})
    await refused("PUT", item, 401, json=answer(name="남"))
    other = await c.expect(await client.post(path, json=answer()), 201, "another RSVP")
    before = await _stored()
    await refused("PUT", f"{path}/{other['id']}", 403, json=answer(), headers=token)  # another answer's token
    await refused("PUT", f"{path}/00000000-0000-0000-0000-000000000000", 404, json=answer(), headers=token)
    for bad, field in [
        (answer(name=""), "name"),
        (answer(name="가" * 41), "name"),
        (answer(message="가" * 301), "message"),
        (answer(partySize=0), "partySize"),
        (answer(partySize=5), "partySize"),  # maxPartySize 4
        (answer(side="both"), "side"),
        (answer(meal="steak"), "meal"),
        (answer(phone="call me"), "phone"),
        ({"name": "x"}, "side"),
    ]:
        body = await refused("POST", path, 400, json=bad)
        assert field in {d["field"] for d in body["details"]}, body
        await refused("PUT", item, 400, json=bad, headers=token)
    await refused("POST", "/api/page/public/no-such-page/rsvp", 404, json=answer())


async def test_closed_rsvp_is_409_and_a_hidden_or_unpublished_page_404(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    created = await c.expect(await client.post(path, json=answer()), 201, "POST rsvp")
    token = {"X-RSVP-Token": created["editToken"]}
    before = await _stored()

    async def closed(status: int) -> None:
        for method, url, kw in (("POST", path, {}), ("PUT", f"{path}/{created['id']}", {"headers": token})):
            body = await c.expect_error(await client.request(method, url, json=answer(), **kw), status, method)
            if status == 409:
                assert body["code"] == "rsvp_closed", body
        assert await _stored() == before

    settings_path = f"/api/page/{page['id']}"
    await client.put(settings_path, json={"settings": {"rsvp": {"enabled": False}}}, headers=headers)
    await closed(409)
    await client.put(
        settings_path, json={"settings": {"rsvp": {"enabled": True, "deadline": "2020-01-01"}}}, headers=headers
    )
    await closed(409)
    await client.put(settings_path, json={"settings": {"rsvp": {"enabled": True}}}, headers=headers)
    await client.put(settings_path, json={"isPublished": False}, headers=headers)
    await closed(404)
    await client.put(settings_path, json={"isPublished": True}, headers=headers)
    await Page.filter(id=page["id"]).update(is_hidden=True)
    await closed(404)


async def test_the_couple_lists_filters_and_sums_up(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    answers = [
        answer(side="groom", name="철수", partySize=3, meal="yes"),
        answer(side="groom", name="영희", attending=False),
        answer(side="bride", name="하늘", partySize=2, meal="no"),
        answer(side="bride", name="바다", partySize=1, meal="undecided"),
    ]
    for sent in answers:
        await c.expect(await client.post(path, json=sent), 201, "POST rsvp")

    listed = await c.expect(await client.get(f"/api/page/{page['id']}/rsvps", headers=headers), 200, "GET rsvps")
    c.rest_shape(listed, {"items", "nextCursor", "summary"}, "RSVP list")
    assert [i["name"] for i in listed["items"]] == ["바다", "하늘", "영희", "철수"]  # newest first
    for item in listed["items"]:
        c.rest_shape(item, RSVP, "RSVP item")
        assert "editToken" not in item
    summary = c.rest_shape(listed["summary"], SUMMARY, "summary")
    assert summary == {
        "responses": 4,
        "attending": 3,
        "notAttending": 1,
        "guests": 6,
        "bySide": {"groom": {"attending": 1, "guests": 3}, "bride": {"attending": 2, "guests": 3}},
        "meals": {"yes": 3, "no": 2, "undecided": 1},
    }

    async def names(**params: str) -> list[str]:
        response = await client.get(f"/api/page/{page['id']}/rsvps", params=params, headers=headers)
        return [i["name"] for i in (await c.expect(response, 200, f"GET rsvps {params}"))["items"]]

    assert await names(side="groom") == ["영희", "철수"]
    assert await names(attending="false") == ["영희"]
    assert await names(side="bride", attending="true") == ["바다", "하늘"]
    first = await c.expect(
        await client.get(f"/api/page/{page['id']}/rsvps", params={"limit": "3"}, headers=headers), 200, "page 1"
    )
    assert len(first["items"]) == 3 and first["nextCursor"]
    rest = await client.get(
        f"/api/page/{page['id']}/rsvps", params={"limit": "3", "cursor": first["nextCursor"]}, headers=headers
    )
    assert [i["name"] for i in (await rest.json())["items"]] == ["철수"]
    bad = await client.get(f"/api/page/{page['id']}/rsvps", params={"side": "both"}, headers=headers)
    await c.expect_error(bad, 400, "bad filter")


async def test_csv_export_opens_in_excel_with_korean_intact(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/rsvp"
    await client.post(path, json=answer(name="김하늘", message='=HYPERLINK("x")', phone="010-1234-5678"))
    response = await client.get(f"/api/page/{page['id']}/rsvps.csv", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["응답 시각", "구분", "이름", "참석"]
    assert rows[1][1:7] == ["신부측", "김하늘", "참석", "2", "예", "010-1234-5678"]
    assert rows[1][7] == '\'=HYPERLINK("x")'  # never a formula in Excel


async def test_another_couple_gets_404_and_nothing_changes(client: TestClient) -> None:
    _, headers = await user_with_headers()
    _, stranger = await user_with_headers()
    page = await publish(client, headers)
    created = await (await client.post(f"/api/page/public/{page['slug']}/rsvp", json=answer())).json()
    before = await _stored()
    for method, url in [
        ("GET", f"/api/page/{page['id']}/rsvps"),
        ("GET", f"/api/page/{page['id']}/rsvps.csv"),
        ("DELETE", f"/api/page/{page['id']}/rsvps/{created['id']}"),
    ]:
        await c.expect_error(await client.request(method, url, headers=stranger), 404, f"{method} {url}")
        await c.expect_error(await client.request(method, url), 401, f"{method} {url} anonymous")
    assert await _stored() == before
    other_page = await publish(client, stranger)
    # an RSVP id of another page is not on this one
    response = await client.delete(f"/api/page/{other_page['id']}/rsvps/{created['id']}", headers=stranger)
    await c.expect_error(response, 404, "DELETE another page's RSVP")
    assert await _stored() == before
    response = await client.delete(f"/api/page/{page['id']}/rsvps/{created['id']}", headers=headers)
    await c.expect(response, 204, "DELETE rsvp")
    assert await Rsvp.all().count() == 0
    await c.expect_error(
        await client.delete(f"/api/page/{page['id']}/rsvps/{created['id']}", headers=headers), 404, "again"
    )
