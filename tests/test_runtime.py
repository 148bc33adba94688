"""The runtime's call path against a mocked API (respx): how requests are
built and authenticated, how answers are read, and when calls are retried."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from ourguide_caller import (
    ApiKey,
    BasicAuth,
    BearerToken,
    InputValidationError,
    Integration,
    JwtForward,
    RateLimitedError,
    RetryPolicy,
    Runtime,
    ToolResult,
    UpstreamUnavailableError,
)

BASE = "https://api.test/v1"
KEY = "key-3c1f0e9d8b7a"
TOKEN = "token-5e4d3c2b1a"
PASSWORD = "password-7f6e5d"
JWT_SECRET = "runtime-tests-verification-secret-0123456789"

STRING = {"type": "string"}


def param(name: str, where: str, schema: Any = STRING, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, **extra}


def operation(operation_id: str, *, parameters=(), body=None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation_id,
        "parameters": list(parameters),
        "responses": {"200": {"description": "ok"}},
    }
    if body is not None:
        media_type, schema = body
        spec["requestBody"] = {
            "required": True,
            "content": {media_type: {"schema": schema}},
        }
    return spec


THING_PARAMETERS = [
    param("id", "path", required=True),
    param("ids", "query", {"type": "array", "items": STRING}),
    param("csv", "query", {"type": "array", "items": STRING}, explode=False),
    param(
        "spaced",
        "query",
        {"type": "array", "items": STRING},
        style="spaceDelimited",
        explode=False,
    ),
    param(
        "piped",
        "query",
        {"type": "array", "items": STRING},
        style="pipeDelimited",
        explode=False,
    ),
    param(
        "filter",
        "query",
        {"type": "object", "properties": {"color": STRING, "size": STRING}},
        style="deepObject",
        explode=True,
    ),
    param(
        "point",
        "query",
        {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        },
    ),
    param("flag", "query", {"type": "boolean"}),
    param("X-Request-Id", "header"),
    param("theme", "cookie"),
]

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Runtime test API", "version": "1"},
    "paths": {
        "/things/{id}": {"get": operation("getThing", parameters=THING_PARAMETERS)},
        "/things": {
            "get": operation(
                "listThings", parameters=[param("limit", "query", {"type": "integer"})]
            ),
            "post": operation(
                "createThing",
                body=(
                    "application/json",
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": STRING,
                            "size": {"type": "integer"},
                            "tags": {"type": "array", "items": STRING},
                        },
                    },
                ),
            ),
        },
        "/forms": {
            "post": operation(
                "submitForm",
                body=(
                    "application/x-www-form-urlencoded",
                    {
                        "type": "object",
                        "properties": {
                            "name": STRING,
                            "address": {
                                "type": "object",
                                "properties": {
                                    "city": STRING,
                                    "lines": {"type": "array", "items": STRING},
                                },
                            },
                        },
                    },
                ),
            )
        },
    },
}


def secured_spec(scheme: Mapping[str, Any]) -> dict[str, Any]:
    """One GET /secure operation behind one security scheme named Auth."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Secured test API", "version": "1"},
        "security": [{"Auth": []}],
        "components": {"securitySchemes": {"Auth": dict(scheme)}},
        "paths": {"/secure": {"get": operation("getSecure")}},
    }


@pytest.fixture(name="api")
def _api() -> Iterator[respx.MockRouter]:
    """The mocked API; a request no route matches fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(name="waits")
def _waits() -> list[float]:
    return []


@pytest.fixture(name="build")
def _build(waits):
    """build(spec=SPEC, **options): an integration whose retries record their waits."""

    async def record(seconds: float) -> None:
        waits.append(seconds)

    def build(spec: Mapping[str, Any] = SPEC, **options: Any) -> Integration:
        options.setdefault("retry", RetryPolicy(sleep=record))
        return Integration(spec, base_url=BASE, **options)

    return build


def call(
    integration: Integration,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
) -> ToolResult:
    """One call through a runtime with its own HTTP client."""

    async def go() -> ToolResult:
        async with Runtime(integration) as runtime:
            return await runtime.call(runtime.session(token), tool, arguments)

    return asyncio.run(go())


def raw_response(body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    """A 200 whose body bytes are sent exactly as given."""
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))


def call_raw(
    integration: Integration,
    response: httpx.Response,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
) -> tuple[ToolResult, list[httpx.Request]]:
    """One call answered with `response` exactly as given, body bytes untouched
    (respx would decode a compressed body on its side first)."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return response

    async def go() -> ToolResult:
        client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with client, Runtime(integration, client=client) as runtime:
            return await runtime.call(runtime.session(), tool, arguments)

    return asyncio.run(go()), requests


def sent(route: respx.Route) -> httpx.Request:
    assert 1 == route.call_count
    return route.calls.last.request


# --- building the request -----------------------------------------------------


def test_path_value_fills_exactly_one_segment(api, build):
    """A path value's `/ ? # %` are percent-encoded, so it stays one segment."""
    route = api.get(url__startswith=f"{BASE}/things/").respond(200, json={})

    call(build(), "getThing", {"id": "a/b?c#d%e"})

    assert b"/v1/things/a%2Fb%3Fc%23d%25e" == sent(route).url.raw_path


@pytest.mark.parametrize("value", [".", ".."])
def test_dot_segments_are_refused(api, build, value):
    """A path value of `.` or `..` raises InputValidationError and sends nothing."""
    with pytest.raises(InputValidationError) as caught:
        call(build(), "getThing", {"id": value})

    assert ("/id",) == caught.value.arguments
    assert 0 == api.calls.call_count


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"ids": ["a", "b"]}, [("ids", "a"), ("ids", "b")]),
        ({"csv": ["a", "b"]}, [("csv", "a,b")]),
        ({"spaced": ["a", "b"]}, [("spaced", "a b")]),
        ({"piped": ["a", "b"]}, [("piped", "a|b")]),
        (
            {"filter": {"color": "red", "size": "M"}},
            [("filter[color]", "red"), ("filter[size]", "M")],
        ),
        ({"point": {"x": 1, "y": 2}}, [("x", "1"), ("y", "2")]),
        ({"flag": True}, [("flag", "true")]),
        ({"flag": False}, [("flag", "false")]),
    ],
    ids=[
        "form-explode",
        "form",
        "spaceDelimited",
        "pipeDelimited",
        "deepObject",
        "form-object",
        "true",
        "false",
    ],
)
def test_query_parameters_follow_their_style(api, build, arguments, expected):
    """Query parameters are serialised as their style and explode say."""
    route = api.get(f"{BASE}/things/t-1").respond(200, json={})

    call(build(), "getThing", {"id": "t-1", **arguments})

    assert expected == list(sent(route).url.params.multi_items())


def test_header_and_cookie_parameters(api, build):
    """Header parameters go in their header, cookie parameters in Cookie."""
    route = api.get(f"{BASE}/things/t-1").respond(200, json={})

    call(build(), "getThing", {"id": "t-1", "X-Request-Id": "req-7", "theme": "dark"})

    request = sent(route)
    assert ("req-7", "theme=dark") == (
        request.headers["x-request-id"],
        request.headers["cookie"],
    )


def test_json_body(api, build):
    """Body arguments of a JSON body are sent as one JSON object."""
    route = api.post(f"{BASE}/things").respond(201, json={"id": "t-9"})
    arguments = {"name": "lamp", "size": 3, "tags": ["desk", "led"]}

    result = call(build(), "createThing", arguments)

    request = sent(route)
    assert "application/json" == request.headers["content-type"]
    assert arguments == json.loads(request.content)
    assert (201, {"id": "t-9"}) == (result.status, result.data)


def test_form_body_uses_bracket_notation(api, build):
    """A form-urlencoded body spells nested objects and arrays with brackets."""
    route = api.post(f"{BASE}/forms").respond(200, json={})
    address = {"city": "Paris", "lines": ["1 Rue X", "Flat 2"]}

    call(build(), "submitForm", {"name": "Ada", "address": address})

    request = sent(route)
    assert "application/x-www-form-urlencoded" == request.headers["content-type"]
    assert [
        ("name", "Ada"),
        ("address[city]", "Paris"),
        ("address[lines][0]", "1 Rue X"),
        ("address[lines][1]", "Flat 2"),
    ] == parse_qsl(request.content.decode("ascii"))


@pytest.mark.parametrize("value", ["x\r\nX-Injected: 1", "x\ny", "x\0y"])
def test_header_value_with_line_break_is_refused(api, build, value):
    """A header value with CR, LF or NUL raises InputValidationError, nothing sent."""
    with pytest.raises(InputValidationError) as caught:
        call(build(), "getThing", {"id": "t-1", "X-Request-Id": value})

    assert ("/X-Request-Id",) == caught.value.arguments
    assert 0 == api.calls.call_count


def test_cookie_value_with_semicolon_is_refused(api, build):
    """A cookie value that would add another cookie is refused, nothing sent."""
    with pytest.raises(InputValidationError) as caught:
        call(build(), "getThing", {"id": "t-1", "theme": "dark; admin=1"})

    assert ("/theme",) == caught.value.arguments
    assert 0 == api.calls.call_count


# --- credentials -------------------------------------------------------------------


def test_api_key_goes_in_the_header_the_spec_names(api, build):
    """An API key is sent in the spec's header, not the configured default one."""
    spec = secured_spec({"type": "apiKey", "in": "header", "name": "X-Shop-Key"})
    route = api.get(f"{BASE}/secure").respond(200, json={})

    call(build(spec, auth=ApiKey(key=KEY)), "getSecure")

    request = sent(route)
    assert KEY == request.headers["x-shop-key"]
    assert "x-api-key" not in request.headers


def test_api_key_in_query(api, build):
    """An apiKey scheme `in: query` sends the key as that query parameter."""
    spec = secured_spec({"type": "apiKey", "in": "query", "name": "api_key"})
    route = api.get(url__startswith=f"{BASE}/secure").respond(200, json={})

    call(build(spec, auth=ApiKey(key=KEY)), "getSecure")

    request = sent(route)
    assert [("api_key", KEY)] == list(request.url.params.multi_items())
    assert "x-api-key" not in request.headers


def test_api_key_in_cookie(api, build):
    """An apiKey scheme `in: cookie` sends the key as that cookie."""
    spec = secured_spec({"type": "apiKey", "in": "cookie", "name": "sid"})
    route = api.get(f"{BASE}/secure").respond(200, json={})

    call(build(spec, auth=ApiKey(key=KEY)), "getSecure")

    assert f"sid={KEY}" == sent(route).headers["cookie"]


def test_bearer_token(api, build):
    """A static bearer token is sent as Authorization: Bearer."""
    spec = secured_spec({"type": "http", "scheme": "bearer"})
    route = api.get(f"{BASE}/secure").respond(200, json={})

    call(build(spec, auth=BearerToken(token=TOKEN)), "getSecure")

    assert f"Bearer {TOKEN}" == sent(route).headers["authorization"]


def test_basic_auth(api, build):
    """HTTP basic sends base64 of user:password."""
    spec = secured_spec({"type": "http", "scheme": "basic"})
    route = api.get(f"{BASE}/secure").respond(200, json={})

    call(build(spec, auth=BasicAuth(username="ada", password=PASSWORD)), "getSecure")

    expected = "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    assert expected == sent(route).headers["authorization"]


def test_jwt_forward_sends_the_exact_token(api, build, mint_token):
    """JWT forward sends the session's identity token unchanged."""
    spec = secured_spec({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    integration = build(spec, auth=JwtForward(), verification_secret=JWT_SECRET)
    token = mint_token("u-100", secret=JWT_SECRET)
    route = api.get(f"{BASE}/secure").respond(200, json={})

    call(integration, "getSecure", token=token)

    assert f"Bearer {token}" == sent(route).headers["authorization"]


def test_redirect_is_returned_not_followed(api, build):
    """A 3xx comes back as a redirect result; the credential never goes elsewhere."""
    spec = secured_spec({"type": "http", "scheme": "bearer"})
    api.get(f"{BASE}/secure").respond(
        302, headers={"Location": "https://elsewhere.test/grab?session=s3cr3t"}
    )
    elsewhere = api.get(url__startswith="https://elsewhere.test/").respond(200, json={})

    result = call(build(spec, auth=BearerToken(token=TOKEN)), "getSecure")

    assert (302, "redirect", False) == (result.status, result.error, result.ok)
    assert 0 == elsewhere.call_count
    assert "https://elsewhere.test/grab" in result.hint
    assert "s3cr3t" not in result.hint


# --- reading the answer ------------------------------------------------------------


def test_no_content(api, build):
    """A 204 is a success with no data and a no-content text."""
    api.get(f"{BASE}/things/t-1").respond(204)

    result = call(build(), "getThing", {"id": "t-1"})

    assert (204, True, None) == (result.status, result.ok, result.data)
    assert "HTTP 204 (no content)" == result.content


def test_empty_json_body(api, build):
    """An empty body declared as JSON is a success with no data."""
    api.get(f"{BASE}/things/t-1").respond(
        200, content=b"", headers={"Content-Type": "application/json"}
    )

    result = call(build(), "getThing", {"id": "t-1"})

    assert (200, True, None) == (result.status, result.ok, result.data)
    assert "HTTP 200 (empty response body)" == result.content


def test_long_content_is_truncated_with_a_marker(api, build):
    """Content over max_result_chars is cut with a marker giving the sizes."""
    items = [{"id": f"t-{n}"} for n in range(40)]
    rendered = json.dumps(items, separators=(",", ":"))
    api.get(f"{BASE}/things").respond(200, json=items)

    result = call(build(max_result_chars=100), "listThings")

    assert (True, items) == (result.truncated, result.data)
    assert rendered[:100] == result.content[:100]
    marker = result.content[100:]
    assert (
        f"[truncated: the response had {len(rendered):,} characters, 40 items" in marker
    )
    assert "showing the first 100 characters" in marker
    assert "`limit`" in marker


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
def test_compressed_body_is_decoded(build, encoding, compress):
    """A gzip or deflate body is decoded before it is read."""
    body = compress(json.dumps({"id": "t-1", "name": "lamp"}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}

    result, _ = call_raw(
        build(), raw_response(body, headers), "getThing", {"id": "t-1"}
    )

    assert {"id": "t-1", "name": "lamp"} == result.data


def test_gzip_bomb_stops_at_max_response_bytes(build):
    """A small gzip body that inflates hugely is read only up to max_response_bytes."""
    bomb = gzip.compress(b"0" * 20_000_000)
    headers = {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    integration = build(max_response_bytes=100_000)

    result, _ = call_raw(
        integration, raw_response(bomb, headers), "getThing", {"id": "t-1"}
    )

    assert (200, True) == (result.status, result.truncated)
    assert 100_000 == len(result.data)
    assert "more than 100,000 bytes; reading stopped there" in result.content


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip, gzip", gzip.compress(gzip.compress(b"{}"))),
        ("deflate, gzip", gzip.compress(zlib.compress(b"{}"))),
        ("br", b"not brotli"),
    ],
)
def test_stacked_or_unknown_encoding_is_refused(build, encoding, body):
    """A body in stacked or unknown encodings raises UpstreamUnavailableError, once."""
    response = raw_response(body, {"Content-Encoding": encoding})

    with pytest.raises(UpstreamUnavailableError) as caught:
        call_raw(build(), response, "getThing", {"id": "t-1"})

    assert "content-encoding" in str(caught.value)
    assert 1 == caught.value.attempts


def test_secrets_echoed_by_the_api_are_redacted(api, build):
    """A configured secret the API echoes back never reaches the model's content."""
    spec = secured_spec({"type": "apiKey", "in": "header", "name": "X-Shop-Key"})
    api.get(f"{BASE}/secure").respond(
        401, json={"error": "bad key", "received": KEY, "detail": f"key {KEY} unknown"}
    )

    result = call(build(spec, auth=ApiKey(key=KEY)), "getSecure")

    assert "auth" == result.error
    for text in (result.content, result.to_llm(), result.hint):
        assert KEY not in text
    assert "[redacted]" in result.content


def test_secret_echoed_in_a_text_body_is_redacted(api, build):
    """A secret echoed in a plain-text body is redacted from content and data."""
    spec = secured_spec({"type": "http", "scheme": "bearer"})
    api.get(f"{BASE}/secure").respond(200, text=f"hello, Bearer {TOKEN}")

    result = call(build(spec, auth=BearerToken(token=TOKEN)), "getSecure")

    assert "hello, Bearer [redacted]" == result.content
    assert "hello, Bearer [redacted]" == result.data


# --- retries -----------------------------------------------------------------------


def test_503_then_200_on_get_is_retried_once(api, build, waits):
    """A GET answered 503 is tried again and succeeds on the second attempt."""
    route = api.get(f"{BASE}/things/t-1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"id": "t-1"})]
    )

    result = call(build(), "getThing", {"id": "t-1"})

    assert (200, 2, 2) == (result.status, result.attempts, route.call_count)
    assert 1 == len(waits)


def test_503_on_post_is_not_retried(api, build, waits):
    """A POST answered 503 is not repeated: the server may have acted."""
    route = api.post(f"{BASE}/things").respond(503)

    result = call(build(), "createThing", {"name": "lamp"})

    assert (503, "server_error", 1, 1) == (
        result.status,
        result.error,
        result.attempts,
        route.call_count,
    )
    assert [] == waits


def test_429_waits_as_long_as_retry_after_says(api, build, waits):
    """A 429 with Retry-After: 2 waits 2 to 3 seconds, once, then succeeds."""
    route = api.get(f"{BASE}/things/t-1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={}),
        ]
    )

    result = call(build(), "getThing", {"id": "t-1"})

    assert (200, 2, 2) == (result.status, result.attempts, route.call_count)
    assert 1 == len(waits)
    assert 2.0 <= waits[0] <= 3.0


def test_long_retry_after_is_not_waited_for(api, build, waits):
    """A Retry-After of an hour ends the call at once as rate_limited."""
    route = api.get(f"{BASE}/things/t-1").respond(429, headers={"Retry-After": "3600"})

    result = call(build(), "getThing", {"id": "t-1"})

    assert (429, "rate_limited", 3600.0, 1) == (
        result.status,
        result.error,
        result.retry_after,
        route.call_count,
    )
    assert [] == waits
    with pytest.raises(RateLimitedError) as caught:
        result.raise_for_status()
    assert 3600.0 == caught.value.retry_after


def test_connect_error_is_retried(api, build, waits):
    """A refused connection is retried and the second attempt's answer returned."""
    route = api.post(f"{BASE}/things").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(201, json={"id": "t-2"}),
        ]
    )

    result = call(build(), "createThing", {"name": "lamp"})

    assert (201, 2, 2) == (result.status, result.attempts, route.call_count)
    assert 1 == len(waits)


def test_read_timeout_on_post_is_not_retried(api, build, waits):
    """A POST whose answer timed out is not repeated and raises unavailable."""
    route = api.post(f"{BASE}/things").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(UpstreamUnavailableError) as caught:
        call(build(), "createThing", {"name": "lamp"})

    assert (1, 1) == (caught.value.attempts, route.call_count)
    assert [] == waits
    # The model is told the create may have happened, not to simply retry.
    assert "may or may not have taken effect" in caught.value.llm_message
    assert "Try again later" not in caught.value.llm_message


def test_refused_connection_on_post_may_be_tried_again(api, build, waits):
    """A POST that never reached the API is safe to try later, and says so."""
    api.post(f"{BASE}/things").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(UpstreamUnavailableError) as caught:
        call(build(), "createThing", {"name": "lamp"})

    assert "Try again later" in caught.value.llm_message


def test_cookies_set_by_an_answer_are_not_sent_on_the_next_call(api, build):
    """A Set-Cookie from one answer never rides along on a later call."""
    route = api.get(f"{BASE}/things/t-1").respond(
        200, json={}, headers={"Set-Cookie": "sid=from-server; Path=/"}
    )
    integration = build()

    async def twice() -> None:
        async with Runtime(integration) as runtime:
            session = runtime.session()
            await runtime.call(session, "getThing", {"id": "t-1"})
            await runtime.call(session, "getThing", {"id": "t-1"})

    asyncio.run(twice())

    assert 2 == route.call_count
    assert "cookie" not in route.calls[1].request.headers


# --- nothing secret in reprs -------------------------------------------------------


def test_session_repr_leaves_out_the_token(build, mint_token):
    """A signed-in session's repr names the user, never the token."""
    spec = secured_spec({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    integration = build(spec, auth=JwtForward(), verification_secret=JWT_SECRET)
    token = mint_token("u-100", secret=JWT_SECRET)

    session = integration.session(token)

    assert "Session(integration='default', user_id='u-100')" == repr(session)
    assert token not in str(session)


@pytest.mark.parametrize(
    ("credential", "secret"),
    [
        (ApiKey(key=KEY), KEY),
        (BearerToken(token=TOKEN), TOKEN),
        (BasicAuth(username="ada", password=PASSWORD), PASSWORD),
    ],
    ids=["api-key", "bearer", "basic"],
)
def test_credential_repr_hides_the_secret(credential, secret):
    """Printing or serialising a credential never shows its secret."""
    for text in (repr(credential), str(credential), credential.model_dump_json()):
        assert secret not in text


def test_integration_and_runtime_reprs_hide_the_secrets(build):
    """Neither the integration's nor the runtime's repr shows a secret."""
    integration = build(
        auth=[ApiKey(key=KEY), BearerToken(token=TOKEN), JwtForward()],
        verification_secret=JWT_SECRET,
    )

    runtime = Runtime(integration)
    try:
        texts = [repr(integration), str(integration), repr(runtime)]
    finally:
        asyncio.run(runtime.aclose())

    for text in texts:
        for secret in (KEY, TOKEN, JWT_SECRET):
            assert secret not in text
