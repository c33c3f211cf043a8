"""Wedding invitation pages: slugs, ownership, versions, and the Markdown
snapshot kept in file storage at ``pages/{userId}/{pageId}.md``.

Component validation happens before these functions are called (the server uses the
component schemas); here ``component_data`` is already ``{"components": [...]}``.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from mochung.domain.errors import Conflict, DependencyDown, Invalid, NotFound, TooLarge
from mochung.domain.files import delete_with_object
from mochung.domain.models import Page, User
from mochung.domain.ports import FileStorage, StorageError

SLUG_PATTERN = re.compile(r"^[a-z0-9-]{3,64}$")
MAX_COMPONENT_DATA_BYTES = 256 * 1024
MARKDOWN_CONTENT_TYPE = "text/markdown; charset=utf-8"
_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_GENERATED_SLUG_ATTEMPTS = 5
T = TypeVar("T")


@dataclass(frozen=True)
class PageChanges:
    """An update; ``None`` leaves a field as it is."""

    title: str | None = None
    slug: str | None = None
    component_data: dict[str, Any] | None = None
    is_published: bool | None = None
    settings: dict[str, Any] | None = None  # the guest settings, stored form (domain.guests.settings)


def check_slug(raw: str) -> str:
    slug = raw.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise Invalid("slug must be 3-64 characters: lowercase letters, digits and '-'", field="slug")
    return slug


def slug_from_title(title: str) -> str:
    """The title's ASCII letters and digits, hyphenated, plus a short random suffix.

    A title with no ASCII at all ("우리 결혼합니다") still gets a valid slug: ``page-x7k2m9``.
    """
    ascii_part = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_part).strip("-")[:40].rstrip("-") or "page"
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"{base}-{suffix}"


def check_title(raw: str) -> str:
    title = raw.strip()
    if not title:
        raise Invalid("title must not be empty", field="title")
    if len(title) > 200:
        raise Invalid("title must be at most 200 characters", field="title")
    return title


def check_component_data_size(component_data: dict[str, Any]) -> None:
    size = len(json.dumps(component_data, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_COMPONENT_DATA_BYTES:
        raise TooLarge(f"componentData is larger than {MAX_COMPONENT_DATA_BYTES // 1024} KiB")


def snapshot_key(page: Page) -> str:
    return f"pages/{page.user_id}/{page.id}.md"


def render_markdown(page: Page) -> str:
    """YAML front-matter, then one fenced YAML block per component."""
    front = {
        "id": str(page.id),
        "userId": str(page.user_id),
        "title": page.title,
        "slug": page.slug,
        "version": page.version,
        "isPublished": page.is_published,
    }
    heading = " ".join(page.title.split())  # one line: a title's line breaks must not start Markdown blocks
    parts = ["---", _yaml(front).rstrip("\n"), "---", "", f"# {heading}", ""]
    for component in (page.component_data or {}).get("components", []):
        block = _yaml(component)
        # A fence longer than any run of backticks inside, so no value can close it early.
        longest = max((len(run) for run in re.findall(r"`+", block)), default=0)
        fence = "`" * max(3, longest + 1)
        parts += [f"{fence}yaml", block.rstrip("\n"), fence, ""]
    return "\n".join(parts)


class _SnapshotDumper(yaml.SafeDumper):
    """PyYAML writes U+0085, U+2028 and U+2029 raw inside plain and single-quoted scalars
    and reads them back as line breaks or spaces; double quotes escape them (``\\N``…)."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(mark in text for mark in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_SnapshotDumper.add_representer(str, _represent_text)


def _yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_SnapshotDumper, allow_unicode=True, sort_keys=False, default_flow_style=False)


async def _store_snapshot(page: Page, storage: FileStorage) -> None:
    try:
        await storage.put(snapshot_key(page), render_markdown(page).encode(), MARKDOWN_CONTENT_TYPE)
    except StorageError as error:
        raise DependencyDown("file storage is unavailable; try again") from error


async def sync_snapshot(page: Page, storage: FileStorage) -> None:
    """The snapshot exists only while the page is public: written for a published, visible
    page; removed when it is unpublished or hidden (its ``markdownUrl`` then answers 404),
    and written again when it is republished or unhidden."""
    if page.is_published and not page.is_hidden:
        await _store_snapshot(page, storage)
        return
    try:
        await storage.delete(page.markdown_path or snapshot_key(page))
    except StorageError as error:
        raise DependencyDown("file storage is unavailable; try again") from error


async def _slug_taken(slug: str, except_page: uuid.UUID | None = None) -> bool:
    query = Page.filter(slug=slug)
    if except_page is not None:
        query = query.exclude(id=except_page)
    return await query.exists()


async def _with_slug(slug: str | None, title: str, attempt: Callable[[str], Awaitable[T]]) -> T:
    """Run ``attempt`` with the asked slug (409 when taken) or generated ones (retried on a clash)."""
    if slug is not None:
        if await _slug_taken(slug):
            raise Conflict(f"slug {slug!r} is already taken")
        try:
            return await attempt(slug)
        except IntegrityError as error:  # taken in between
            raise Conflict(f"slug {slug!r} is already taken") from error
    for _ in range(_GENERATED_SLUG_ATTEMPTS):
        candidate = slug_from_title(title)
        if await _slug_taken(candidate):
            continue
        try:
            return await attempt(candidate)
        except IntegrityError:
            continue
    raise Conflict("could not find a free slug; please choose one")


async def publish_page(
    user: User,
    title: str,
    slug: str | None,
    component_data: dict[str, Any],
    storage: FileStorage,
    settings: dict[str, Any] | None = None,
) -> Page:
    """Create a published page and its snapshot; neither exists if either cannot be written."""

    async def create(chosen: str) -> Page:
        async with in_transaction():
            page = await Page.create(
                id=uuid.uuid4(),
                user=user,
                title=title,
                slug=chosen,
                component_data=component_data,
                settings=settings or {},
                is_published=True,
            )
            page.markdown_path = snapshot_key(page)
            await page.save(update_fields=["markdown_path"])
            await _store_snapshot(page, storage)
            return page

    return await _with_slug(slug, title, create)


async def owned_page(page_id: str, user: User, *, admin_allowed: bool) -> Page:
    """The page if ``user`` owns it (or is an admin and that is allowed); NotFound otherwise,
    so another user's private page looks exactly like one that does not exist."""
    query = Page.filter(id=page_id)
    if not (admin_allowed and user.is_admin):
        query = query.filter(user_id=user.id)
    page = await query.first()
    if page is None:
        raise NotFound("page not found")
    return page


async def pages_of(user: User) -> list[Page]:
    return await Page.filter(user_id=user.id).order_by("-created_at", "-id")


async def update_page(page_id: str, user: User, changes: PageChanges, storage: FileStorage) -> Page:
    """Apply ``changes`` (owner only), bump ``version`` and rewrite the snapshot, atomically."""
    await owned_page(page_id, user, admin_allowed=False)
    slug = changes.slug
    if slug is not None and await _slug_taken(slug, except_page=uuid.UUID(page_id)):
        raise Conflict(f"slug {slug!r} is already taken")
    try:
        async with in_transaction() as connection:
            page = await Page.filter(id=page_id).using_db(connection).select_for_update().first()
            if page is None:
                raise NotFound("page not found")
            if changes.title is not None:
                page.title = changes.title
            if slug is not None:
                page.slug = slug
            if changes.component_data is not None:
                page.component_data = changes.component_data
            if changes.is_published is not None:
                page.is_published = changes.is_published
            if changes.settings is not None:
                page.settings = changes.settings
            page.markdown_path = snapshot_key(page)
            editable = ["title", "slug", "component_data", "is_published", "settings", "markdown_path", "updated_at"]
            await page.save(using_db=connection, update_fields=editable)
            # Incremented in SQL, so two concurrent updates make two versions even on SQLite,
            # where select_for_update does nothing.
            await Page.filter(id=page.id).using_db(connection).update(version=F("version") + 1)
            await page.refresh_from_db(fields=["version", "updated_at"], using_db=connection)
            await sync_snapshot(page, storage)
    except IntegrityError as error:
        raise Conflict(f"slug {slug!r} is already taken") from error
    return page


async def delete_page(page_id: str, user: User, storage: FileStorage) -> str:
    """Owner or admin; returns the slug the page had. The snapshot goes first, so a failure
    leaves the page to delete again."""
    page = await owned_page(page_id, user, admin_allowed=True)
    details = {"slug": page.slug, "title": page.title}
    key = page.markdown_path or snapshot_key(page)
    await delete_with_object(page, key, user, storage, "page.delete", f"page:{page.id}", details)
    return page.slug


async def public_page(slug: str) -> Page:
    page = await Page.filter(slug=slug.lower(), is_published=True, is_hidden=False).first()
    if page is None:
        raise NotFound("page not found")
    return page
