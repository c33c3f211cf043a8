"""The dashboard numbers and the sessions list, against rows whose counts we know."""

from __future__ import annotations

import datetime as dt

from mochung.domain.models import ChatMessage, PaymentStatus, RunStatus
from tests.server.admin import seed
from tests.support.users import new_account, user_with_headers


async def test_stats_count_what_exists(client) -> None:
    admin, headers = await user_with_headers(admin=True)
    owner = await new_account()
    retired = await new_account()
    await client.patch(f"/api/admin/users/{retired['id']}", json={"isActive": False}, headers=headers)
    await seed.page(owner["id"])
    await seed.page(owner["id"])
    await seed.page(owner["id"], published=False)
    await seed.page(owner["id"], hidden=True)
    chat = await seed.session(owner["id"])
    await seed.turn(chat, "안녕하세요", "안녕하세요! 무엇을 도와드릴까요?")
    old, _ = await seed.turn(chat, "어제 질문", "어제 답", status=RunStatus.FAILED)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    await ChatMessage.filter(message_id=old.message_id).update(created_at=yesterday)
    await seed.payment(owner["id"], status=PaymentStatus.PAID)
    await seed.payment(owner["id"], 29900, status=PaymentStatus.REFUNDED, refunded_amount=29900)
    await seed.payment(owner["id"], 29900, status=PaymentStatus.PAID, refunded_amount=10000)
    await seed.payment(owner["id"], status=PaymentStatus.FAILED, flagged=True, failure_reason="amount_mismatch")
    await seed.payment(owner["id"], status=PaymentStatus.FAILED, flagged=True, review_decision="reject")

    response = await client.get("/api/admin/stats", headers=headers)
    assert response.status == 200
    stats = await response.json()
    assert stats["users"] == {"total": 3, "active": 2, "admins": 1}
    assert stats["pages"] == {"total": 4, "published": 2, "draft": 1, "hidden": 1}
    assert stats["chatsToday"] == 2 and stats["sessionsToday"] == 1
    assert stats["agentRuns"] == {"queued": 0, "running": 0, "done": 1, "failed": 1, "cancelled": 0}
    assert stats["payments"] == {
        "byStatus": {"ready": 0, "paid": 2, "failed": 2, "cancelled": 0, "refunded": 1},
        "revenue": 9900 + 29900 - 10000,
        "currency": "KRW",
        "awaitingReview": 1,
    }
    assert stats["liveSockets"] == 0 and stats["queueDepth"] == 0
    assert stats["generatedAt"].endswith("Z")
    assert admin["id"]


async def test_sessions_most_recent_first_with_message_counts(client) -> None:
    _, headers = await user_with_headers(admin=True)
    owner = await new_account()
    page = await seed.page(owner["id"])
    quiet = await seed.session(owner["id"])
    busy = await seed.session(owner["id"], page.id)
    await seed.turn(busy, "날짜 바꿔줘", "5월 16일로 바꿨어요.")
    await seed.turn(busy, "고마워", "축하드려요!")
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    await type(quiet).filter(id=quiet.id).update(last_activity_at=earlier)

    response = await client.get("/api/admin/sessions", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert [s["id"] for s in body["items"]] == [str(busy.id), str(quiet.id)]
    first = body["items"][0]
    assert first["room"] == busy.room and first["userEmail"] == owner["email"] and first["pageId"] == str(page.id)
    assert first["messageCount"] == 4 and body["items"][1]["messageCount"] == 0
    assert first["liveSockets"] == 0 and first["lastActivityAt"].endswith("Z")

    page_one = await (await client.get("/api/admin/sessions", params={"limit": "1"}, headers=headers)).json()
    assert [s["id"] for s in page_one["items"]] == [str(busy.id)]
    params = {"limit": "1", "cursor": page_one["nextCursor"]}
    page_two = await (await client.get("/api/admin/sessions", params=params, headers=headers)).json()
    assert [s["id"] for s in page_two["items"]] == [str(quiet.id)] and page_two["nextCursor"] is None
