"""Both real PortOne clients, over HTTP, against the fake PortOne: every answer the flows rely on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from mochung.adapters.portone import PortOneV1Client, PortOneV2Client
from mochung.domain.ports import (
    PaymentNotFound,
    PaymentProvider,
    ProviderAuthError,
    ProviderRejected,
    ProviderStatus,
    ProviderUnavailable,
)
from tests.support.fakes.portone_server import FakePortOne, Fault

MakeProvider = Callable[..., PaymentProvider]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["v2", "v1"])
def api(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_provider(api: str, portone: FakePortOne, http: aiohttp.ClientSession) -> MakeProvider:
    """A client of the API under test, pointed at the fake (credentials overridable)."""

    def make(
        *, secret: str | None = None, timeout_seconds: float = 5.0, base_url: str | None = None
    ) -> PaymentProvider:
        if api == "v2":
            return PortOneV2Client(
                http,
                secret=secret or portone.api_secret,
                base_url=base_url or portone.url,
                timeout_seconds=timeout_seconds,
            )
        return PortOneV1Client(
            http,
            imp_key=portone.imp_key,
            imp_secret=secret or portone.imp_secret,
            base_url=base_url or portone.v1_url,
            timeout_seconds=timeout_seconds,
        )

    return make


def provider_id(api: str, portone: FakePortOne, payment_id: str) -> str:
    """The id a client asks with: V2's paymentId, V1's imp_uid."""
    payment = portone.store.get(payment_id)
    assert payment is not None
    return payment_id if api == "v2" else payment.imp_uid


async def test_a_paid_payment_reads_as_paid_with_its_amount_and_merchant_uid(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-paid", 9900)
    provider = make_provider()

    payment = await provider.fetch(provider_id(api, portone, "order-paid"))

    assert payment.status is ProviderStatus.PAID
    assert payment.is_paid
    assert (payment.amount, payment.cancelled_amount, payment.currency) == (9900, 0, "KRW")
    assert payment.merchant_uid == "order-paid"
    assert payment.id == provider_id(api, portone, "order-paid")
    assert payment.raw  # the provider's own record, kept for the audit trail
    assert provider.name == f"portone-{api}"


async def test_a_tampered_amount_is_reported_as_the_provider_saw_it(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-cheap", 100)

    payment = await make_provider().fetch(provider_id(api, portone, "order-cheap"))

    assert payment.is_paid and payment.amount == 100


async def test_a_payment_for_another_merchant_uid_shows_that_uid(
    portone: FakePortOne, http: aiohttp.ClientSession
) -> None:
    # V1 only: a V2 paymentId is the merchant uid itself
    payment = portone.paid("order-mine", 9900, merchant_uid="order-someone-else")
    client = PortOneV1Client(http, imp_key=portone.imp_key, imp_secret=portone.imp_secret, base_url=portone.v1_url)

    fetched = await client.fetch(payment.imp_uid)

    assert fetched.merchant_uid == "order-someone-else"


@pytest.mark.parametrize(
    ("scripted", "expected"),
    [
        ("READY", ProviderStatus.READY),
        ("FAILED", ProviderStatus.FAILED),
        ("CANCELLED", ProviderStatus.CANCELLED),
        ("PARTIAL_CANCELLED", ProviderStatus.PARTIAL_CANCELLED),
    ],
)
async def test_unpaid_states_are_normalised(
    api: str, portone: FakePortOne, make_provider: MakeProvider, scripted: str, expected: ProviderStatus
) -> None:
    portone.payment("order-x", 9900, status=scripted)

    payment = await make_provider().fetch(provider_id(api, portone, "order-x"))

    assert payment.status is expected
    assert not payment.is_paid
    if scripted == "FAILED":
        assert payment.failure_reason == "카드 한도 초과"
    if scripted == "CANCELLED":
        assert payment.cancelled_amount == 9900 and payment.cancellable_amount == 0


async def test_an_unknown_payment_is_not_found(make_provider: MakeProvider) -> None:
    with pytest.raises(PaymentNotFound, match="no-such-payment"):
        await make_provider().fetch("no-such-payment")


async def test_a_wrong_secret_is_an_auth_error_that_does_not_repeat_the_secret(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-paid", 9900)
    wrong = "wrong-secret-that-must-not-be-logged"
    provider = make_provider(secret=wrong)

    with pytest.raises(ProviderAuthError) as raised:
        await provider.fetch(provider_id(api, portone, "order-paid"))

    shown = f"{raised.value} {raised.value!r} {provider!r}"
    assert wrong not in shown and portone.api_secret not in shown and portone.imp_secret not in shown
    assert "refused" in str(raised.value)


async def test_a_server_error_means_unavailable(api: str, portone: FakePortOne, make_provider: MakeProvider) -> None:
    portone.paid("order-paid", 9900)
    portone.fault(provider_id(api, portone, "order-paid"), Fault(status=503))

    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        await make_provider().fetch(provider_id(api, portone, "order-paid"))


async def test_a_slow_answer_times_out_as_unavailable(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-slow", 9900)
    portone.fault(provider_id(api, portone, "order-slow"), Fault(delay_seconds=60))

    with pytest.raises(ProviderUnavailable, match="did not answer"):
        await make_provider(timeout_seconds=0.2).fetch(provider_id(api, portone, "order-slow"))


async def test_a_refused_connection_means_unavailable(make_provider: MakeProvider) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with pytest.raises(ProviderUnavailable, match="could not reach"):
        await make_provider(base_url=f"http://127.0.0.1:{closed_port}").fetch("order-paid")


async def test_full_cancel_refunds_everything_and_a_second_cancel_is_refused(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-refund", 9900)
    provider = make_provider()
    provider_payment_id = provider_id(api, portone, "order-refund")

    cancelled = await provider.cancel(provider_payment_id, amount=None, reason="고객 요청")

    assert cancelled.status is ProviderStatus.CANCELLED
    assert cancelled.cancelled_amount == 9900
    with pytest.raises(ProviderRejected):
        await provider.cancel(provider_payment_id, amount=None, reason="다시")
    assert (await provider.fetch(provider_payment_id)).cancelled_amount == 9900


async def test_partial_cancels_add_up_to_a_full_cancel(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-partial", 10000)
    provider = make_provider()
    provider_payment_id = provider_id(api, portone, "order-partial")

    first = await provider.cancel(provider_payment_id, amount=3000, reason="일부 환불")
    assert (first.status, first.cancelled_amount, first.cancellable_amount) == (
        ProviderStatus.PARTIAL_CANCELLED,
        3000,
        7000,
    )
    with pytest.raises(ProviderRejected):  # more than what is left
        await provider.cancel(provider_payment_id, amount=8000, reason="너무 많이")

    rest = await provider.cancel(provider_payment_id, amount=7000, reason="나머지")
    assert (rest.status, rest.cancelled_amount) == (ProviderStatus.CANCELLED, 10000)


async def test_a_cancel_with_a_stale_balance_is_refused_and_changes_nothing(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.paid("order-race", 10000)
    provider = make_provider()
    provider_payment_id = provider_id(api, portone, "order-race")
    await provider.cancel(provider_payment_id, amount=4000, reason="첫 환불", current_cancellable_amount=10000)

    with pytest.raises(ProviderRejected):  # a concurrent refund that still believed 10000 was left
        await provider.cancel(provider_payment_id, amount=4000, reason="동시 환불", current_cancellable_amount=10000)

    assert (await provider.fetch(provider_payment_id)).cancelled_amount == 4000


async def test_an_unpaid_payment_cannot_be_cancelled(
    api: str, portone: FakePortOne, make_provider: MakeProvider
) -> None:
    portone.payment("order-ready", 9900)

    with pytest.raises(ProviderRejected):
        await make_provider().cancel(provider_id(api, portone, "order-ready"), amount=None, reason="취소")


async def test_prepare_registers_the_expected_amount(portone: FakePortOne, make_provider: MakeProvider) -> None:
    await make_provider().prepare("order-new", amount=29900, currency="KRW")

    registered = portone.store.by_merchant_uid("order-new")
    assert registered is not None
    assert (registered.expected_amount, registered.status) == (29900, "READY")


# ---- V1's access token ----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_v1_fetches_one_token_for_many_calls_and_a_new_one_after_expiry(
    portone: FakePortOne, http: aiohttp.ClientSession
) -> None:
    payment = portone.paid("order-token", 9900)
    clock = FakeClock()
    client = PortOneV1Client(
        http, imp_key=portone.imp_key, imp_secret=portone.imp_secret, base_url=portone.v1_url, clock=clock
    )

    await client.fetch(payment.imp_uid)
    await client.fetch(payment.imp_uid)
    await asyncio.gather(*(client.fetch(payment.imp_uid) for _ in range(5)))
    assert portone.state.calls["v1.getToken"] == 1

    clock.now += 1800  # the token's lifetime has passed (it is renewed a little before)
    await client.fetch(payment.imp_uid)
    assert portone.state.calls["v1.getToken"] == 2
    assert portone.state.calls["v1.getPayment"] == 8


async def test_v1_renews_a_token_the_provider_revoked_and_retries(
    portone: FakePortOne, http: aiohttp.ClientSession
) -> None:
    payment = portone.paid("order-token", 9900)
    client = PortOneV1Client(http, imp_key=portone.imp_key, imp_secret=portone.imp_secret, base_url=portone.v1_url)
    await client.fetch(payment.imp_uid)

    portone.state.revoke_tokens()
    fetched = await client.fetch(payment.imp_uid)

    assert fetched.is_paid
    assert portone.state.calls["v1.getToken"] == 2


async def test_v1_with_a_wrong_key_never_gets_a_token(portone: FakePortOne, http: aiohttp.ClientSession) -> None:
    client = PortOneV1Client(http, imp_key="wrong-key", imp_secret=portone.imp_secret, base_url=portone.v1_url)

    with pytest.raises(ProviderAuthError, match="MOCHUNG_PORTONE_IMP_KEY"):
        await client.fetch("imp_anything")
    assert portone.state.calls["v1.getPayment"] == 0
