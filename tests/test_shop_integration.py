"""End to end against the real sample shop API over 127.0.0.1, without mocks.

Calls go through a real HTTP transport that also records each request it
sends, so a test can tell that nothing left when a call was refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import ourguide_caller._session
from ourguide_caller import (
    ApiKey,
    AuthRequiredError,
    BearerToken,
    ConfigError,
    IdentityTokenError,
    InputValidationError,
    Integration,
    JwtForward,
    RetryPolicy,
    Runtime,
    Session,
    ToolResult,
    UpstreamUnavailableError,
)
from ourguide_caller.sample import SPEC_PATH
from ourguide_caller.sample.server import DEFAULT_SECRETS, ShopServer, create_app

PUBLIC_TOOLS = {"searchProducts", "getProduct"}
SERVICE_TOOLS = {"getOrder", "cancelOrder", "getStockReport"}
USER_TOOLS = {"getCurrentUser", "listMyOrders"}
OTHER_SECRET = "a-different-backend-secret-0123456789abcdef"
WRONG_KEY = "wrong-key-4f1d9c2e7a"


async def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"the real shop needed no retry, but a {seconds} s wait came")


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that keeps every request it sends."""

    def __init__(self, sent: list[httpx.Request]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.sent = sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def shop_integration(
    base_url: str,
    *,
    api_key: str = DEFAULT_SECRETS["api_key"],
    verification_secret: str = DEFAULT_SECRETS["verification_secret"],
    retry: RetryPolicy | None = None,
) -> Integration:
    return Integration(
        SPEC_PATH,
        base_url=base_url,
        auth=[
            ApiKey(key=api_key),
            BearerToken(token=DEFAULT_SECRETS["service_token"]),
            JwtForward(),
        ],
        verification_secret=verification_secret,
        retry=retry or RetryPolicy(sleep=_never_sleep),
    )


def call(
    integration: Integration,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
    session: Session | None = None,
    sent: list[httpx.Request] | None = None,
) -> ToolResult:
    """One call through a fresh runtime whose transport records what it sends."""
    record = [] if sent is None else sent

    async def go() -> ToolResult:
        client = httpx.AsyncClient(transport=RecordingTransport(record))
        async with client, Runtime(integration, client=client) as runtime:
            who = session or runtime.session(token)
            return await runtime.call(who, tool, arguments)

    return asyncio.run(go())


def tool_names(integration: Integration, session: Session) -> set[str]:
    return {tool.name for tool in integration.tools_for(session)}


@pytest.fixture(name="integration", scope="module")
def _integration(shop) -> Integration:
    return shop_integration(shop.base_url)


@pytest.fixture(name="other_backend", scope="module")
def _other_backend() -> Iterator[str]:
    """A shop whose backend signs identity tokens with another secret."""
    secrets = {**DEFAULT_SECRETS, "verification_secret": OTHER_SECRET}
    with ShopServer(create_app(**secrets)) as server:
        yield server.base_url


@pytest.fixture(name="closed_port")
def _closed_port() -> Iterator[int]:
    """A 127.0.0.1 port bound but not listening: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# --- which tools a session sees ------------------------------------------------


def test_anonymous_session_sees_no_user_tools(integration):
    """An anonymous session sees the public and service tools, not the JWT ones."""
    anonymous = integration.session()

    assert PUBLIC_TOOLS | SERVICE_TOOLS == tool_names(integration, anonymous)


def test_signed_in_session_sees_every_tool(integration, mint_token):
    """A signed-in session sees the JWT tools as well as all the others."""
    ada = integration.session(mint_token("u-100"))

    assert PUBLIC_TOOLS | SERVICE_TOOLS | USER_TOOLS == tool_names(integration, ada)
    assert "u-100" == ada.user_id


# --- one call per kind of auth -----------------------------------------------


def test_public_call_sends_no_credential(integration):
    """A public tool is called without any credential and gets the matches."""
    sent: list[httpx.Request] = []

    result = call(integration, "searchProducts", {"q": "coffee"}, sent=sent)

    assert (200, None) == (result.status, result.error)
    assert ["p-1005", "p-1008"] == [product["id"] for product in result.data]
    assert ["/api/products"] == [request.url.path for request in sent]
    assert "x-api-key" not in sent[0].headers
    assert "authorization" not in sent[0].headers


def test_public_call_sends_a_non_exploded_array(integration):
    """An array query parameter with explode false reaches the shop as one list."""
    result = call(integration, "searchProducts", {"tags": ["gift", "wireless"]})

    assert ["p-1002"] == [product["id"] for product in result.data]


def test_api_key_call_reads_an_order(integration):
    """An API-key tool sends the configured key and reads the order."""
    sent: list[httpx.Request] = []

    result = call(integration, "getOrder", {"orderId": "o-5001"}, sent=sent)

    assert (200, "o-5001", "u-100") == (
        result.status,
        result.data["id"],
        result.data["user_id"],
    )
    assert DEFAULT_SECRETS["api_key"] == sent[0].headers["x-api-key"]
    assert "authorization" not in sent[0].headers


def test_bearer_call_reads_the_stock_report(integration):
    """A service-token tool sends the static bearer token."""
    sent: list[httpx.Request] = []

    result = call(integration, "getStockReport", {"below": 3}, sent=sent)

    assert 200 == result.status
    assert 3 == result.data["below"]
    assert ["p-1004", "p-1008"] == [row["product_id"] for row in result.data["items"]]
    expected = "Bearer " + DEFAULT_SECRETS["service_token"]
    assert expected == sent[0].headers["authorization"]


@pytest.mark.parametrize(
    ("user_id", "orders"),
    [
        ("u-100", {"o-5001", "o-5002", "o-5003"}),
        ("u-200", {"o-5004", "o-5005", "o-5006"}),
    ],
)
def test_jwt_forward_lists_only_that_users_orders(
    integration, mint_token, user_id, orders
):
    """Forwarding the user's token lists that user's orders and no one else's."""
    token = mint_token(user_id)
    sent: list[httpx.Request] = []

    result = call(integration, "listMyOrders", {}, token=token, sent=sent)

    assert 200 == result.status
    assert orders == {order["id"] for order in result.data}
    assert {user_id} == {order["user_id"] for order in result.data}
    assert "Bearer " + token == sent[0].headers["authorization"]


def test_jwt_forward_names_the_signed_in_user(integration, mint_token):
    """getCurrentUser answers with the user the forwarded token names."""
    result = call(integration, "getCurrentUser", token=mint_token("u-200"))

    assert {"user_id": "u-200", "email": "grace@example.test"} == result.data


def test_identity_token_is_redacted_if_echoed(integration, mint_token):
    """The session's own token never shows in the content given to the model."""
    token = mint_token("u-100")

    result = call(integration, "getCurrentUser", token=token)

    assert token not in result.content
    assert token not in result.to_llm()


def test_cancel_order_sends_a_json_body(integration):
    """cancelOrder sends its body arguments as a JSON object and the shop keeps them."""
    sent: list[httpx.Request] = []
    arguments = {
        "orderId": "o-5003",
        "reason": "Found it cheaper",
        "notify_customer": True,
    }

    result = call(integration, "cancelOrder", arguments, sent=sent)

    assert (200, "cancelled") == (result.status, result.data["status"])
    assert {"reason": "Found it cheaper", "notify_customer": True} == {
        key: result.data["cancellation"][key] for key in ("reason", "notify_customer")
    }
    assert ("POST", "/api/orders/o-5003/cancel") == (sent[0].method, sent[0].url.path)
    assert "application/json" == sent[0].headers["content-type"]
    assert {"reason": "Found it cheaper", "notify_customer": True} == json.loads(
        sent[0].content
    )


def test_cancel_order_that_shipped_is_an_invalid_request(integration):
    """A 409 from the shop comes back as a result, not an exception."""
    result = call(integration, "cancelOrder", {"orderId": "o-5002", "reason": "Late"})

    assert (409, "invalid_request", False) == (result.status, result.error, result.ok)
    assert "order_not_cancellable" == result.data["error"]


def test_runtime_with_its_own_client_calls_the_shop(integration):
    """The runtime's own HTTP client reaches the shop too."""

    async def go() -> ToolResult:
        async with Runtime(integration) as runtime:
            return await runtime.call(
                runtime.session(), "getProduct", {"productId": "p-1001"}
            )

    result = asyncio.run(go())

    assert (200, "Ergonomic Keyboard") == (result.status, result.data["name"])


# --- refused before sending --------------------------------------------------


@pytest.mark.parametrize("tool", sorted(USER_TOOLS))
def test_jwt_tool_for_anonymous_session_is_refused_before_sending(integration, tool):
    """A JWT tool called anonymously raises AuthRequiredError and sends nothing."""
    sent: list[httpx.Request] = []

    with pytest.raises(AuthRequiredError) as caught:
        call(integration, tool, {}, sent=sent)

    assert (True, tool) == (caught.value.needs_sign_in, caught.value.tool)
    assert "sign in" in caught.value.llm_message
    assert [] == sent


def test_expired_identity_token_is_refused_at_session_time(integration, mint_token):
    """An expired token gives IdentityTokenError(expired) when the session is made."""
    token = mint_token("u-100", expires_in=-120)

    with pytest.raises(IdentityTokenError) as caught:
        integration.session(token)

    assert "expired" == caught.value.reason
    assert token not in str(caught.value)


def test_expired_identity_token_can_fall_back_to_anonymous(integration, mint_token):
    """With on_invalid="anonymous" an expired token gives an anonymous session."""
    session = integration.session(mint_token(expires_in=-120), on_invalid="anonymous")

    assert (False, "expired") == (session.identified, session.token_error.reason)
    assert PUBLIC_TOOLS | SERVICE_TOOLS == tool_names(integration, session)


def test_token_expiring_after_sign_in_is_refused_before_sending(
    integration, mint_token, monkeypatch
):
    """A token that expired since sign-in raises needs_sign_in and sends nothing."""
    session = integration.session(mint_token("u-100", expires_in=60))
    # An hour passes, for the verifier only: no sleeping, and the shop's clock
    # is left alone.
    later = SimpleNamespace(time=lambda: session.expires_at + 3600)
    monkeypatch.setattr(ourguide_caller._session, "time", later)
    sent: list[httpx.Request] = []

    with pytest.raises(AuthRequiredError) as caught:
        call(integration, "listMyOrders", {}, session=session, sent=sent)

    assert caught.value.needs_sign_in
    assert [] == sent


def test_session_made_with_an_already_expired_token_is_refused_before_sending(
    integration, mint_token
):
    """A Session carrying an expired token never forwards it to the API."""
    token = mint_token("u-100", expires_in=-120)
    session = Session(integration.name, token, {"user_id": "u-100"})
    sent: list[httpx.Request] = []

    with pytest.raises(AuthRequiredError) as caught:
        call(integration, "getCurrentUser", {}, session=session, sent=sent)

    assert caught.value.needs_sign_in
    assert [] == sent


def test_expired_session_still_calls_service_tools(
    integration, mint_token, monkeypatch
):
    """An expired sign-in still lets the session use tools that need no user."""
    session = integration.session(mint_token("u-100", expires_in=60))
    later = SimpleNamespace(time=lambda: session.expires_at + 3600)
    monkeypatch.setattr(ourguide_caller._session, "time", later)

    result = call(integration, "getOrder", {"orderId": "o-5001"}, session=session)

    assert 200 == result.status


def test_token_the_shop_deems_expired_gives_a_sign_in_again_hint(
    integration, mint_token
):
    """A token within our leeway but past the shop's gives 401 and a sign-in hint."""
    # Our verifier allows 30 s of clock skew, the shop 5 s.
    token = mint_token("u-100", expires_in=-15)

    result = call(integration, "getCurrentUser", token=token)

    assert (401, "auth") == (result.status, result.error)
    assert "token_expired" == result.data["error"]
    assert "expired" in result.hint
    assert "sign in again" in result.hint


@pytest.mark.parametrize(
    ("tool", "arguments", "named"),
    [
        ("searchProducts", {"category": "toys"}, "category"),
        ("getOrder", {}, "orderId"),
        ("getOrder", {"orderId": "o-5001", "verbose": True}, "verbose"),
        ("cancelOrder", {"orderId": "o-5004"}, "reason"),
        ("getStockReport", {"below": "five"}, "below"),
    ],
)
def test_invalid_arguments_are_refused_before_sending(
    integration, tool, arguments, named
):
    """Bad enum, missing or unknown argument: InputValidationError naming it."""
    sent: list[httpx.Request] = []

    with pytest.raises(InputValidationError) as caught:
        call(integration, tool, arguments, sent=sent)

    assert tool == caught.value.tool
    assert 1 == len(caught.value.problems)
    assert named in str(caught.value.problems[0])
    assert named in caught.value.llm_message
    assert [] == sent


def test_bad_enum_from_a_signed_in_session_points_at_the_argument(
    integration, mint_token
):
    """A bad status for listMyOrders is reported at /status and nothing is sent."""
    sent: list[httpx.Request] = []

    with pytest.raises(InputValidationError) as caught:
        call(
            integration,
            "listMyOrders",
            {"status": "lost"},
            token=mint_token(),
            sent=sent,
        )

    assert ("/status",) == caught.value.arguments
    assert [] == sent


# --- the shop refuses a credential -------------------------------------------


def test_wrong_api_key_gives_an_auth_result_without_the_key(shop):
    """A refused API key: 401 result, error auth, a hint naming the scheme, no key."""
    integration = shop_integration(shop.base_url, api_key=WRONG_KEY)

    result = call(integration, "getOrder", {"orderId": "o-5001"})

    assert (401, "auth", False) == (result.status, result.error, result.ok)
    assert "invalid_api_key" == result.data["error"]
    assert "ShopApiKey" in result.hint
    assert "header X-API-Key" in result.hint
    assert "Check the key" in result.hint
    for text in (result.hint, result.content, result.to_llm(), repr(result)):
        assert WRONG_KEY not in text


def test_token_signed_with_another_secret_than_the_shops(other_backend, mint_token):
    """When the shop verifies with another secret the hint says the secrets differ."""
    integration = shop_integration(other_backend)
    token = mint_token("u-100")

    result = call(integration, "listMyOrders", {}, token=token)

    assert (401, "auth") == (result.status, result.error)
    assert "invalid_token" == result.data["error"]
    assert "different secret" in result.hint
    assert "same secret" in result.hint
    for text in (result.hint, result.content, result.to_llm()):
        assert token not in text
        assert DEFAULT_SECRETS["verification_secret"] not in text


def test_token_signed_with_another_secret_than_ours_is_refused(integration, mint_token):
    """A token our verification secret did not sign gives bad_signature."""
    with pytest.raises(IdentityTokenError) as caught:
        integration.session(mint_token("u-100", secret=OTHER_SECRET))

    assert "bad_signature" == caught.value.reason


# --- the shop is down --------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("getProduct", {"productId": "p-1001"}),
        ("cancelOrder", {"orderId": "o-5001", "reason": "x"}),
    ],
)
def test_server_down_raises_unavailable_after_retries(closed_port, tool, arguments):
    """Refused connections are retried (any method), then UpstreamUnavailableError."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(attempts=3, backoff=0.5, jitter=0.0, sleep=record)
    integration = shop_integration(f"http://127.0.0.1:{closed_port}/api", retry=policy)

    async def go() -> ToolResult:
        async with Runtime(integration) as runtime:
            return await runtime.call(runtime.session(), tool, arguments)

    with pytest.raises(UpstreamUnavailableError) as caught:
        asyncio.run(go())

    assert [0.5, 1.0] == waits
    assert 3 == caught.value.attempts
    assert f"127.0.0.1:{closed_port}" in str(caught.value)
    assert DEFAULT_SECRETS["api_key"] not in str(caught.value)


# --- a base URL that repeats the paths' prefix -------------------------------

PREFIXED_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Shop catalog, prefixed paths", "version": "1"},
    "paths": {
        "/api/products": {
            "get": {
                "operationId": "listProducts",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}
                ],
                "responses": {"200": {"description": "The products."}},
            }
        },
        "/api/products/{productId}": {
            "get": {
                "operationId": "showProduct",
                "parameters": [
                    {
                        "name": "productId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": {"description": "The product."}},
            }
        },
    },
}


def prefix_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
        and "starts with /api" in record.getMessage()
    ]


def test_doubled_prefix_is_collapsed_and_warned_once(shop, caplog):
    """Base URL .../api and paths /api/...: /api sent once, one warning names both."""
    caplog.set_level(logging.WARNING, logger="ourguide_caller")
    integration = Integration(PREFIXED_SPEC, base_url=shop.base_url)
    sent: list[httpx.Request] = []

    listed = call(integration, "listProducts", {"limit": 2}, sent=sent)
    shown = call(integration, "showProduct", {"productId": "p-1001"}, sent=sent)

    assert (200, 200) == (listed.status, shown.status)
    assert 2 == len(listed.data)
    assert ["/api/products", "/api/products/p-1001"] == [r.url.path for r in sent]
    warnings = prefix_warnings(caplog)
    assert 1 == len(warnings)
    assert shop.base_url in warnings[0]
    assert "/api/products" in warnings[0]


def test_doubled_prefix_kept_when_asked(shop):
    """doubled_prefix="keep" sends the prefix twice, as configured."""
    integration = Integration(
        PREFIXED_SPEC, base_url=shop.base_url, doubled_prefix="keep"
    )
    sent: list[httpx.Request] = []

    result = call(integration, "listProducts", sent=sent)

    assert (404, "not_found") == (result.status, result.error)
    assert ["/api/api/products"] == [r.url.path for r in sent]


def test_doubled_prefix_is_an_error_when_asked(shop):
    """doubled_prefix="error" refuses the configuration, naming the base URL."""
    with pytest.raises(ConfigError) as caught:
        Integration(PREFIXED_SPEC, base_url=shop.base_url, doubled_prefix="error")

    assert shop.base_url in str(caught.value)
    assert "Remove /api from the base URL" in str(caught.value)
    assert "base_url" == caught.value.setting


def test_an_unknown_doubled_prefix_setting_is_refused(shop):
    with pytest.raises(ConfigError, match="'collapse', 'keep' or 'error'"):
        Integration(PREFIXED_SPEC, base_url=shop.base_url, doubled_prefix="nope")
