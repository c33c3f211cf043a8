"""Pages over HTTP on SQLite and PostgreSQL; the snapshot round trip also on S3 (moto)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestClient
from yarl import URL

from mochung.domain.models import AuditEntry, Page
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.support import Api
from tests.support.fakes.moto_server import MotoServer, create_bucket, moto_server, unique_bucket_name

COVER = {
    "type": "Cover",
    "id": "cover-1",
    "props": {"title": "우리 결혼합니다", "groomName": "민수", "brideName": "지은"},
}
CALENDAR = {"type": "Calendar", "id": "cal-1", "props": {"weddingDate": "2027-05-15", "weddingTime": "13:30"}}
FUTURE = {"type": "Fireworks", "id": "fx-1", "props": {"colors": ["gold", "pink"], "loop": True}, "extra": 1}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
async def any_storage_api(
    request: pytest.FixtureRequest, aiohttp_client: Any, make_settings: Callable[..., Settings], moto: MotoServer
) -> Api:
    """An Api on an app storing files locally, or on S3 (moto)."""
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        bucket = unique_bucket_name("pages")
        await create_bucket(moto, bucket)
        overrides = {
            "s3_bucket": bucket,
            "s3_region": moto.region,
            "s3_endpoint_url": moto.endpoint_url,
            "s3_access_key_id": moto.access_key_id,
            "s3_secret_access_key": moto.secret_access_key,
        }
    return Api(await aiohttp_client(create_app(make_settings(**overrides))))


async def fetch(client: TestClient, url: str) -> tuple[int, str]:
    if url.startswith("http://localhost:3002/files/"):
        response = await client.get(URL(url).path_qs)
        return response.status, await response.text()
    async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as response:
        return response.status, await response.text()


def parse_snapshot(markdown: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    assert markdown.startswith("---\n")
    front, _, rest = markdown[4:].partition("\n---\n")
    blocks = re.findall(r"^(`{3,})yaml\n(.*?)^\1$", rest, flags=re.DOTALL | re.MULTILINE)
    return yaml.safe_load(front), [yaml.safe_load(body) for _, body in blocks]


async def publish(api: Api, headers: dict[str, str], **body: Any) -> aiohttp.ClientResponse:
    body.setdefault("title", "Minsu & Jieun")
    body.setdefault("componentData", {"components": [COVER, CALENDAR]})
    return await api.client.post("/api/page/publish", json=body, headers=headers)


async def test_publish_update_delete_with_snapshots(any_storage_api: Api) -> None:
    api, client = any_storage_api, any_storage_api.client
    user, headers = await api.user()

    response = await publish(api, headers, slug="minsu-jieun", componentData={"components": [COVER, FUTURE]})
    assert response.status == 201, await response.text()
    page = await response.json()
    assert set(page) == {
        "id", "userId", "title", "slug", "markdownPath", "markdownUrl", "componentData",
        "isPublished", "version", "viewCount", "plan", "settings", "createdAt", "updatedAt",
    }  # fmt: skip
    assert page["plan"] is None  # set when a payment for the page is paid
    assert (page["userId"], page["slug"], page["version"], page["viewCount"], page["isPublished"]) == (
        user["id"], "minsu-jieun", 1, 0, True,
    )  # fmt: skip
    assert page["markdownPath"] == f"pages/{user['id']}/{page['id']}.md"
    assert page["componentData"]["components"][1] == FUTURE  # an unknown type is kept as it came
    assert page["createdAt"].endswith("Z")

    status, markdown = await fetch(client, page["markdownUrl"])
    assert status == 200
    front, components = parse_snapshot(markdown)
    assert front["title"] == "Minsu & Jieun" and front["slug"] == "minsu-jieun" and front["version"] == 1
    assert [c["type"] for c in components] == ["Cover", "Fireworks"]
    assert components[0]["props"]["groomName"] == "민수"

    response = await client.put(
        f"/api/page/{page['id']}",
        json={"title": "민수 ♥ 지은", "componentData": {"components": [CALENDAR]}},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    updated = await response.json()
    assert (updated["version"], updated["title"], updated["slug"]) == (2, "민수 ♥ 지은", "minsu-jieun")
    front, components = parse_snapshot((await fetch(client, updated["markdownUrl"]))[1])
    assert (front["version"], front["title"], [c["type"] for c in components]) == (2, "민수 ♥ 지은", ["Calendar"])

    response = await client.put(f"/api/page/{page['id']}", json={"isPublished": False}, headers=headers)
    assert (await response.json())["version"] == 3

    assert (await client.delete(f"/api/page/{page['id']}", headers=headers)).status == 204
    assert (await client.get(f"/api/page/{page['id']}", headers=headers)).status == 404
    assert (await fetch(client, updated["markdownUrl"]))[0] in (403, 404)  # the snapshot is gone


async def test_generated_slugs(api: Api) -> None:
    _, headers = await api.user()

    korean = await (await publish(api, headers, title="우리 결혼합니다")).json()
    mixed = await (await publish(api, headers, title="Minsu ♥ Jieun 결혼식!")).json()
    same = await (await publish(api, headers, title="Minsu ♥ Jieun 결혼식!")).json()

    assert re.fullmatch(r"page-[a-z0-9]{6}", korean["slug"])
    assert re.fullmatch(r"minsu-jieun-[a-z0-9]{6}", mixed["slug"])
    assert same["slug"] != mixed["slug"]


async def test_slug_rules_and_collisions(api: Api) -> None:
    _, headers = await api.user()
    _, other = await api.user()
    await publish(api, headers, slug="our-day")
    mine = await (await publish(api, headers, slug="second")).json()

    response = await publish(api, other, slug="Our-Day")  # slugs are lower-cased, then compared
    assert response.status == 409
    assert (await response.json())["statusCode"] == 409
    for bad in ("ab", "우리-결혼", "has space", "x" * 65, "under_score"):
        response = await publish(api, headers, slug=bad)
        assert response.status == 400, bad
    response = await api.client.put(f"/api/page/{mine['id']}", json={"slug": "our-day"}, headers=headers)
    assert response.status == 409
    response = await api.client.put(f"/api/page/{mine['id']}", json={"slug": "second"}, headers=headers)
    assert response.status == 200  # keeping one's own slug is no conflict


async def test_component_data_is_validated(api: Api) -> None:
    _, headers = await api.user()
    bad_date = {"type": "Calendar", "id": "c", "props": {"weddingDate": "next friday"}}
    bad_account = {
        "type": "Account",
        "props": {"accounts": [{"side": "uncle", "owner": "a", "bank": "b", "number": "1"}]},
    }

    chat_only = {"type": "AgentSuggestMessage", "props": {"suggestions": [{"displayText": "a", "value": "a"}]}}

    for components in ([bad_date], [bad_account], [{"props": {}}], "not a list", [chat_only]):
        response = await publish(api, headers, componentData={"components": components})
        assert response.status == 400, components
        body = await response.json()
        assert body["statusCode"] == 400 and body["details"]
    assert "only used in chat" in body["message"]

    huge = {"type": "Invitation", "props": {"text": "축하합니다 " * 30_000}}
    response = await publish(api, headers, componentData={"components": [huge]})
    assert response.status == 413

    response = await publish(api, headers, componentData={"components": [{"type": "Gallery", "props": {}}]})
    assert response.status == 201
    component = (await response.json())["componentData"]["components"][0]
    assert component["id"]  # a component without an id gets one


async def test_owner_scoping(api: Api) -> None:
    _, owner = await api.user()
    _, stranger = await api.user()
    _, admin = await api.admin()
    page = await (await publish(api, owner)).json()
    path = f"/api/page/{page['id']}"
    client = api.client

    for method in (client.get, client.delete):
        assert (await method(path)).status == 401
        assert (await method(path, headers=stranger)).status == 404
    assert (await client.put(path, json={"title": "x"})).status == 401
    assert (await client.put(path, json={"title": "hacked"}, headers=stranger)).status == 404
    assert (await client.put(path, json={"title": "admin edit"}, headers=admin)).status == 404  # owner only
    assert (await client.get("/api/page/my-pages")).status == 401
    assert (await client.post("/api/page/publish", json={"title": "x"})).status == 401

    assert (await client.get(path, headers=admin)).status == 200
    assert (await (await client.get(path, headers=owner)).json())["title"] == "Minsu & Jieun"
    assert (await client.delete(path, headers=admin)).status == 204
    assert (await client.get(path, headers=owner)).status == 404
    assert await AuditEntry.exists(action="page.delete", target=f"page:{page['id']}")  # admins are audited


async def test_my_pages_newest_first(api: Api) -> None:
    _, mine = await api.user()
    _, theirs = await api.user()
    first = await (await publish(api, mine, title="first")).json()
    second = await (await publish(api, mine, title="second")).json()
    await publish(api, theirs, title="someone else's")

    listed = await (await api.client.get("/api/page/my-pages", headers=mine)).json()

    assert [page["id"] for page in listed] == [second["id"], first["id"]]


async def test_public_page_counts_one_view_per_visitor_per_day(api: Api) -> None:
    _, headers = await api.user()
    page = await (await publish(api, headers, slug="our-wedding")).json()
    client = api.client
    client.session.cookie_jar.clear()

    response = await client.get("/api/page/public/our-wedding")
    assert response.status == 200
    assert (await response.json())["viewCount"] == 1
    assert "mochung_visitor" in response.cookies
    assert response.cookies["mochung_visitor"]["httponly"]

    again = await (await client.get("/api/page/public/our-wedding")).json()  # same visitor (cookie sent back)
    assert again["viewCount"] == 1
    client.session.cookie_jar.clear()
    # a new visitor (without a cookie, a visitor is their IP address and User-Agent)
    other = await (await client.get("/api/page/public/OUR-WEDDING", headers={"User-Agent": "another"})).json()
    assert other["viewCount"] == 2
    assert other["componentData"] == page["componentData"]

    # An update through this server shows at once, though the public route caches pages.
    await client.put(f"/api/page/{page['id']}", json={"title": "새 제목", "slug": "our-big-day"}, headers=headers)
    renamed = await (await client.get("/api/page/public/our-big-day")).json()
    assert (renamed["title"], renamed["viewCount"]) == ("새 제목", 2)
    assert (await client.get("/api/page/public/our-wedding")).status == 404


async def test_public_page_hides_drafts_hidden_and_missing(api: Api) -> None:
    _, headers = await api.user()
    draft = await (await publish(api, headers, slug="draft-page")).json()
    hidden = await (await publish(api, headers, slug="hidden-page")).json()
    await api.client.put(f"/api/page/{draft['id']}", json={"isPublished": False}, headers=headers)
    await Page.filter(id=hidden["id"]).update(is_hidden=True, hidden_reason="spam")

    for slug in ("draft-page", "hidden-page", "no-such-page", "..%2f..%2fetc"):
        response = await api.client.get(f"/api/page/public/{slug}")
        assert response.status == 404, slug
        assert (await response.json())["statusCode"] == 404


async def test_routes_are_in_the_openapi_document(api: Api) -> None:
    document = await (await api.client.get("/api/openapi.json")).json()
    paths = document["paths"]

    assert {"post"} <= set(paths["/api/page/publish"]) and "get" in paths["/api/page/my-pages"]
    assert {"get", "put", "delete"} <= set(paths["/api/page/{id}"])
    assert "get" in paths["/api/page/public/{slug}"]
    assert "multipart/form-data" in paths["/api/file/upload"]["post"]["requestBody"]["content"]
    assert {"post"} <= set(paths["/api/invitation/create"]) and {"post"} <= set(paths["/api/invitation/validate"])
    assert "PageResponse" in document["components"]["schemas"]


async def test_snapshot_fences_survive_backticks(client: TestClient) -> None:  # client: the ORM is set up
    from mochung.domain.pages import render_markdown

    page = Page(id="00000000-0000-0000-0000-000000000001", user_id="00000000-0000-0000-0000-000000000002")
    page.title, page.slug, page.version, page.is_published = "t", "slug", 1, True
    page.component_data = {"components": [{"type": "Invitation", "props": {"text": "```\n---\nnot the end"}}]}

    _, components = parse_snapshot(render_markdown(page))

    assert components == [{"type": "Invitation", "props": {"text": "```\n---\nnot the end"}}]
