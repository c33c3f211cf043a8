"""``GET /i/:slug``: the link a couple shares. Scrapers (KakaoTalk, Facebook, X, Slack) read
its Open Graph and Twitter tags; a browser is sent on to the frontend's page.

Everything from the page is HTML-escaped (attributes and text alike), the script carries no
data (it follows the link already in the page) and a Content-Security-Policy allows that one
script only, so a hostile title or name stays inert text. A page that is not published, or
hidden, answers a small 404 page (HTML: this route is for browsers and scrapers).
"""

from __future__ import annotations

import base64
import hashlib
import html
from importlib import resources

from aiohttp import web

from mochung.domain.errors import NotFound
from mochung.domain.guests.wedding import WeddingFacts, wedding_facts
from mochung.domain.models import Page
from mochung.domain.pages import public_page
from mochung.server import keys
from mochung.server.http.wire import endpoint, no_such_slug
from mochung.settings import Settings

routes = web.RouteTableDef()
DEFAULT_IMAGE_PATH = "/static/preview-default.png"
DEFAULT_IMAGE_SIZE = (1200, 630)
_SCRIPT = 'location.replace(document.getElementById("continue").href);'
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; img-src * data:; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
    "base-uri 'none'; form-action 'none'"
)
_STYLE = "body{font-family:sans-serif;text-align:center;margin-top:30vh}a{color:#c2185b}"


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _image(facts: WeddingFacts, settings: Settings) -> tuple[str, bool]:
    """The cover photo as an absolute URL, or the default image the server ships (True)."""
    photo = facts.photo
    if photo.startswith(("https://", "http://")):
        return photo, False
    if photo.startswith("/") and not photo.startswith("//"):
        return settings.base_url + photo, False
    return settings.base_url + DEFAULT_IMAGE_PATH, True


def preview_html(page: Page, settings: Settings) -> str:
    facts = wedding_facts(page.component_data)
    title = facts.couple or facts.title or page.title
    description = " · ".join(part for part in (facts.when_ko(), facts.place) if part) or page.title
    image, default = _image(facts, settings)
    share_url = f"{settings.base_url}/i/{page.slug}"
    target = settings.frontend_page_url(page.slug)
    meta = [
        ("name", "description", description),
        ("name", "robots", "noindex"),
        ("property", "og:type", "website"),
        ("property", "og:site_name", "모청"),
        ("property", "og:locale", "ko_KR"),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:image", image),
        ("property", "og:url", share_url),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
        ("name", "twitter:image", image),
    ]
    if default:
        meta += [
            ("property", "og:image:width", str(DEFAULT_IMAGE_SIZE[0])),
            ("property", "og:image:height", str(DEFAULT_IMAGE_SIZE[1])),
        ]
    tags = "\n".join(f'<meta {kind}="{_attr(name)}" content="{_attr(value)}">' for kind, name, value in meta)
    return f"""<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
{tags}
<link rel="canonical" href="{_attr(target)}">
<style>{_STYLE}</style>
</head>
<body>
<p><a id="continue" href="{_attr(target)}">{html.escape(title)} 청첩장 보기</a></p>
<script>{_SCRIPT}</script>
</body>
</html>
"""


_NOT_FOUND_PAGE = f"""<!doctype html>
<html lang="ko">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>청첩장을 찾을 수 없습니다</title><style>{_STYLE}</style></head>
<body><h1>청첩장을 찾을 수 없습니다</h1><p>This invitation does not exist or is no longer shared.</p></body>
</html>
"""


def _html(text: str, status: int, cache: str) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = cache
    return response


@routes.get("/i/{slug}")
@endpoint(
    summary="The shared link: Open Graph and Twitter tags for previews, then on to the frontend's page",
    tag="guests",
    response="text/html",
    errors=(404,),
    error_media="text/html",
    extra={"description": "A 404 here is a small HTML page, not the JSON error body: browsers open this link."},
)
async def preview(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if no_such_slug(slug):  # (answered here: this route's 404 is its own page)
        return _html(_NOT_FOUND_PAGE, 404, "no-store")
    try:
        page = await public_page(slug)
    except NotFound:
        return _html(_NOT_FOUND_PAGE, 404, "no-store")
    return _html(preview_html(page, request.app[keys.SETTINGS]), 200, "public, max-age=60")


_DEFAULT_IMAGE = resources.files("mochung.server.guests").joinpath("static/preview-default.png")


@routes.get(DEFAULT_IMAGE_PATH)
@endpoint(summary="The preview image of a page without a cover photo", tag="guests", response="image/png")
async def default_image(request: web.Request) -> web.Response:
    response = web.Response(body=_DEFAULT_IMAGE.read_bytes(), content_type="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
