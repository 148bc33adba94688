"""Regressions for attacks an adversarial review tried against the runtime."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
import zlib
from typing import Any

import httpx
import jwt
import pytest
from _specs import BASE, spec

from ourguide_caller import (
    ApiKey,
    AuthRequiredError,
    BasicAuth,
    ConfigError,
    InputValidationError,
    Integration,
    JwtForward,
    RetryPolicy,
    Runtime,
    UpstreamUnavailableError,
)
from ourguide_caller._naming import base_name
from ourguide_caller._redaction import Redactor
from ourguide_caller._retry import parse_retry_after
from ourguide_caller._servers import check_base_url


def get(operation_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "responses": {"200": {"description": "ok"}},
            **fields,
        }
    }


QUERY_KEY = {
    "components": {
        "securitySchemes": {"Key": {"type": "apiKey", "in": "query", "name": "api_key"}}
    },
    "security": [{"Key": []}],
}


def run(integration: Integration, answer, calls, *, client=None, sessions=None):
    """Make the calls; return (requests seen, results or exceptions)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    async def go() -> list[Any]:
        own = client or httpx.AsyncClient(transport=httpx.MockTransport(handler))
        outcomes = []
        async with Runtime(integration, client=own) as runtime:
            for index, (name, arguments) in enumerate(calls):
                session = sessions[index] if sessions else runtime.session()
                try:
                    outcomes.append(await runtime.call(session, name, arguments))
                except Exception as exc:  # noqa: BLE001 (the outcome is checked)
                    outcomes.append(exc)
        await own.aclose()
        return outcomes

    return seen, asyncio.run(go())


def test_cookies_of_an_injected_client_never_reach_another_call():
    """A Set-Cookie answer is not sent on the next call, even with a caller's client."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"Set-Cookie": "sid=USER-A"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    integration = Integration(spec({"/a": get("a")}))

    run(integration, None, [("a", {}), ("a", {})], client=client)

    assert "cookie" not in seen[1].headers


def test_query_credentials_are_masked_in_httpx_logs(caplog):
    """httpx's INFO line shows the query credential masked."""
    integration = Integration(
        spec({"/a": get("a")}, **QUERY_KEY), auth=ApiKey(key="QKEY-SECRET-1")
    )
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    )

    with caplog.at_level(logging.INFO, logger="httpx"):
        run(integration, None, [("a", {})], client=client)

    assert "api_key=[redacted]" in caplog.text
    assert "QKEY-SECRET-1" not in caplog.text


def test_echoed_secrets_are_redacted_in_every_form():
    """Raw, percent-encoded, JSON-escaped and basic-auth forms never reach the model."""
    key = 'k+y/Secret="v"=='
    integration = Integration(
        spec(
            {"/a": get("a"), "/b": get("b", security=[{"Basic": []}])},
            components={
                "securitySchemes": {
                    "Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                    "Basic": {"type": "http", "scheme": "basic"},
                }
            },
            security=[{"Key": []}],
        ),
        auth=[
            ApiKey(key=key, header="X-Key"),
            BasicAuth(username="svc", password="PW-SECRET"),
        ],
    )

    def echo(request: httpx.Request) -> httpx.Response:
        text = (
            f"{request.headers} {request.url} "
            + httpx.QueryParams({"k": key}).__str__()
        )
        return httpx.Response(
            302,
            text=text + ' {"key": "k+y/Secret=\\"v\\"=="}',
            headers={"Location": f"https://other.test/keys/{key}"},
        )

    _, results = run(integration, echo, [("a", {}), ("b", {})])

    for result in results:
        text = result.to_llm()
        assert key not in text and "PW-SECRET" not in text
        assert "k%2By%2FSecret" not in text and 'Secret=\\"v' not in text
        assert "c3ZjOlBXLVNFQ1JFVA" not in text  # base64 of svc:PW-SECRET


@pytest.mark.parametrize(
    "body",
    [
        '{"echo": "sk_live\\/AbC+dEf0123456789xyz"}',  # PHP escapes slashes
        '{\n  "echo": "sk_live\\/AbC+dEf0123456789xyz"\n}',
        '{"echo": "\\u0073k_live/AbC\\u002bdEf0123456789xyz"}',
        '{"a": "x\\"y", "echo": "sk_live\\u002FAbC+dEf0123456789xyz"}',
    ],
)
def test_secrets_echoed_with_any_json_escape_are_redacted(body):
    """JSON may escape any character of an echoed key; none reaches the model."""
    secret = "sk_live/AbC+dEf0123456789xyz"
    integration = Integration(
        spec({"/a": get("a")}, **QUERY_KEY), auth=ApiKey(key=secret)
    )

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body, headers={"content-type": "text/json"})

    _, (result,) = run(integration, answer, [("a", {})])

    assert "[redacted]" in result.to_llm()
    assert secret not in result.to_llm() and secret not in str(result.data)
    assert "dEf0123456789" not in result.text


def test_a_secret_cut_by_the_read_limit_is_masked():
    """A body cut mid-secret does not show the secret's first characters."""
    secret = "sk_live_AbCdEf0123456789xyz"
    integration = Integration(
        spec({"/a": get("a")}, **QUERY_KEY),
        auth=ApiKey(key=secret),
        max_response_bytes=1_000,
    )
    padding = "x" * (1_000 - len('{"pad":"","k":"') - 20)
    body = f'{{"pad":"{padding}","k":"{secret}"}}'

    _, (result,) = run(
        integration, lambda r: httpx.Response(200, text=body), [("a", {})]
    )

    assert result.truncated
    assert secret[:12] not in result.to_llm() and secret[:12] not in result.text


@pytest.mark.parametrize("name", ["api key", "key[]", "k=y"])
def test_query_credentials_with_encoded_names_are_masked_in_logs(caplog, name):
    """A credential parameter whose name is percent-encoded is masked as well."""
    scheme = {"type": "apiKey", "in": "query", "name": name}
    integration = Integration(
        spec(
            {"/a": get("a")},
            components={"securitySchemes": {"Key": scheme}},
            security=[{"Key": []}],
        ),
        auth=ApiKey(key="QKEY-SECRET-2"),
    )

    with caplog.at_level(logging.INFO, logger="httpx"):
        seen, _ = run(integration, lambda r: httpx.Response(200, json={}), [("a", {})])

    assert "QKEY-SECRET-2" in str(seen[0].url)
    assert "HTTP Request" in caplog.text
    assert "QKEY-SECRET-2" not in caplog.text


def test_framing_headers_are_never_model_arguments():
    """Host, Content-Length and Transfer-Encoding parameters are not offered."""
    parameters = [
        {"name": name, "in": "header", "schema": {"type": "string"}}
        for name in ("Host", "Content-Length", "Transfer-Encoding", "X-Trace")
    ]
    tool = Integration(spec({"/a": get("a", parameters=parameters)})).tool("a")

    assert ["X-Trace"] == list(tool.input_schema["properties"])


def test_configured_header_is_never_asked_of_the_model():
    """With no security in the spec, a parameter naming the configured key is hidden."""
    parameters = [
        {
            "name": "x-api-key",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        }
    ]
    integration = Integration(
        spec({"/a": get("a", parameters=parameters)}), auth=ApiKey(key="REAL-KEY")
    )

    seen, _ = run(integration, lambda r: httpx.Response(200, json={}), [("a", {})])

    assert {} == integration.tool("a").input_schema["properties"]
    assert ["REAL-KEY"] == seen[0].headers.get_list("x-api-key")


def test_model_cannot_add_a_query_parameter_named_like_the_credential():
    """An exploded object argument cannot shadow the query credential."""
    parameters = [
        {
            "name": "filter",
            "in": "query",
            "style": "form",
            "explode": True,
            "schema": {"type": "object"},
        }
    ]
    integration = Integration(
        spec({"/a": get("a", parameters=parameters)}, **QUERY_KEY),
        auth=ApiKey(key="REAL"),
    )

    seen, _ = run(
        integration,
        lambda r: httpx.Response(200, json={}),
        [("a", {"filter": {"api_key": "attacker", "status": "open"}})],
    )

    assert ["REAL"] == seen[0].url.params.get_list("api_key")
    assert "open" == seen[0].url.params["status"]


def test_several_credentialed_origins_are_reported():
    """Operation servers on another origin are named in a warning."""
    paths = {
        "/a": get("a"),
        "/b": {**get("b"), "servers": [{"url": "https://files.example.test"}]},
    }
    integration = Integration(spec(paths, **QUERY_KEY), auth=ApiKey(key="K"))

    assert any("2 origins" in w for w in integration.report.warnings)


@pytest.mark.parametrize("bad", ["KEY\x0b", "KEY\u00e9", "KEY\u2028"])
def test_credentials_must_be_printable_ascii(bad):
    """A pasted key with a control or non-ASCII character is refused, unquoted."""
    with pytest.raises(ConfigError) as caught:
        Integration(spec({"/a": get("a")}), auth=ApiKey(key=bad))

    assert "KEY" not in str(caught.value)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("header", "caf\u00e9"),
        ("header", "a\u2028b"),
        ("cookie", "a\x85b"),
        ("query", "\ud800"),
    ],
)
def test_unencodable_argument_values_are_input_errors(where, value):
    """Values httpx could not send are refused before sending, naming the problem."""
    parameters = [{"name": "v", "in": where, "schema": {"type": "string"}}]
    integration = Integration(spec({"/a": get("a", parameters=parameters)}))

    seen, [outcome] = run(
        integration, lambda r: httpx.Response(200), [("a", {"v": value})]
    )

    assert isinstance(outcome, InputValidationError)
    assert [] == seen


def test_overlong_url_is_an_input_error():
    """A path value too long for a URL is refused, not a bare InvalidURL."""
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    integration = Integration(spec({"/a/{id}": get("a", parameters=parameters)}))

    _, [outcome] = run(
        integration, lambda r: httpx.Response(200), [("a", {"id": "x" * 70000})]
    )

    assert isinstance(outcome, InputValidationError)


@pytest.mark.parametrize("value", ["", None])
def test_empty_path_values_are_refused(value):
    """An empty or null path value would drop a segment; it is refused."""
    parameters = [{"name": "id", "in": "path", "required": True}]
    integration = Integration(spec({"/u/{id}/orders": get("a", parameters=parameters)}))

    seen, [outcome] = run(
        integration, lambda r: httpx.Response(200), [("a", {"id": value})]
    )

    assert isinstance(outcome, InputValidationError)
    assert [] == seen


def test_retry_after_beyond_the_deadline_returns_the_rate_limit():
    """A wait that would outlast the call's timeout ends with the 429 result."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    integration = Integration(
        spec({"/a": get("a")}), timeout=5, retry=RetryPolicy(sleep=record)
    )

    seen, [result] = run(
        integration,
        lambda r: httpx.Response(429, headers={"Retry-After": "20"}),
        [("a", {})],
    )

    assert 1 == len(seen) and [] == waits
    assert "rate_limited" == result.error and 20 == result.retry_after


def test_truncated_gzip_is_refused_and_raw_deflate_read():
    """A gzip body cut short is not passed off as complete; raw deflate decodes."""
    body = b'{"items": [1, 2, 3]}' * 20
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(body) + raw.flush()
    answers = iter(
        [
            (gzip.compress(body)[:-12], "gzip"),
            (deflated, "deflate"),
        ]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        content, coding = next(answers)
        return httpx.Response(
            200,
            headers={"Content-Encoding": coding, "Content-Type": "application/json"},
            stream=httpx.ByteStream(content),
        )

    integration = Integration(spec({"/a": get("a")}), retry=RetryPolicy(attempts=1))
    _, (cut, whole) = run(integration, answer, [("a", {}), ("a", {})])

    assert isinstance(cut, UpstreamUnavailableError)
    assert whole.ok
    assert body.decode() == whole.text


def test_duplicate_keys_are_reported():
    """A path written twice loses the first; the report says so."""
    text = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /c:\n    get: {operationId: first, responses: {'200': {description: ok}}}\n"
        "  /c:\n    get: {operationId: second, responses: {'200': {description: ok}}}\n"
    )

    integration = Integration(text, base_url=BASE)

    assert any("'/c' at line 6" in w for w in integration.report.warnings)


def test_undeclared_security_schemes_are_reported():
    """A requirement naming a scheme the spec never declares is a warning."""
    integration = Integration(spec({"/a": get("a", security=[{"Kk": []}])}))

    assert any("Kk" in w for w in integration.report.warnings)


def test_unusable_retry_after_values_are_ignored():
    """Infinite, NaN and absurd Retry-After values give no hint."""
    assert parse_retry_after("inf") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("100000000000") is None


def test_base_url_with_bad_port_is_a_config_error():
    """A port out of range is a ConfigError, not a ValueError."""
    with pytest.raises(ConfigError):
        check_base_url("http://127.0.0.1:99999", setting="base_url")
    with pytest.raises(ConfigError):
        check_base_url("http://[::1", setting="base_url")


def test_unicode_operation_ids_keep_what_they_can():
    """Accented ids keep their letters; ids with none fall back to method and path."""
    assert "creerCommande" == base_name("créerCommande", "POST", "/c")
    assert "post_orders_id" == base_name("注文を作成", "POST", "/orders/{id}")


JWT_FORWARD = {
    "components": {
        "securitySchemes": {
            "User": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    },
    "security": [{"User": []}],
}
VERIFICATION_SECRET = "verification-secret-of-32-bytes-or-more"


def user_token() -> str:
    claims = {"user_id": "u-1", "exp": int(time.time()) + 600}
    return jwt.encode(claims, VERIFICATION_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "answer",
    [
        # A server answering with broken HTTP: h11 quotes the bad line.
        lambda token: httpx.RemoteProtocolError(f"illegal header line: {token}"),
        # An encoding the runtime will not decode is named in the error.
        lambda token: httpx.Response(
            200, headers={"content-encoding": token}, stream=httpx.ByteStream(b"x")
        ),
    ],
)
def test_a_user_token_echoed_in_a_failure_is_redacted(answer):
    """The session's identity token is masked in errors, not only in results."""
    integration = Integration(
        spec({"/me": get("me")}, **JWT_FORWARD),
        auth=JwtForward(),
        verification_secret=VERIFICATION_SECRET,
    )
    token = user_token()

    def reply(request: httpx.Request) -> httpx.Response:
        outcome = answer(token)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    _, (failure,) = run(
        integration, reply, [("me", {})], sessions=[integration.session(token)]
    )

    assert isinstance(failure, UpstreamUnavailableError)
    assert token not in str(failure) and token not in failure.llm_message
    assert "[redacted]" in str(failure)


def test_unknown_tool_suggestions_are_only_the_sessions_tools():
    """An anonymous session is not offered the names of signed-in tools."""
    integration = Integration(
        spec(
            {"/orders": get("listOrders", security=[]), "/order": get("myOrder")},
            **JWT_FORWARD,
        ),
        auth=JwtForward(),
        verification_secret=VERIFICATION_SECRET,
    )
    token = user_token()

    _, outcomes = run(
        integration,
        None,
        [("myOrders", {}), ("myOrders", {})],
        sessions=[integration.session(), integration.session(token)],
    )

    anonymous, signed_in = (str(o) for o in outcomes)
    assert "'myOrder'" not in anonymous
    assert "Did you mean 'myOrder'" in signed_in


@pytest.mark.parametrize(
    "spelling",
    [
        "sk%2Flive%20AbC%2B0123456789",  # percent-encoded
        "sk/live%20AbC%2B0123456789",  # percent-encoded keeping '/'
        "sk%252Flive%2520AbC%252B0123456789",  # encoded twice
        "".join(f"&#{ord(c)};" for c in "sk/live AbC+0123456789"),
        "".join(f"&#x{ord(c):x};" for c in "sk/live AbC+0123456789"),
    ],
)
def test_url_and_html_spellings_of_a_secret_are_redacted(spelling):
    redact = Redactor(["sk/live AbC+0123456789"])

    assert "echo: [redacted]." == redact(f"echo: {spelling}.")


@pytest.mark.parametrize(
    "end",
    [
        "\\u0073k_live_AbC",  # escaped first character
        "sk_live\\u005fAbCd",
        "sk\\/live",  # a slash escaped as PHP does
        "\\u0073k_live_Ab\\u00",  # cut inside an escape
        "%73k_live_AbCd",  # percent escapes
        "sk&lowbar;live_Ab",  # HTML references, named
        "sk&#x5f;live&#x5",  # and numeric, cut inside one
        "sk_live%5",
    ],
)
def test_a_cut_through_an_escaped_secret_masks_its_start(end):
    redact = Redactor(["sk_live_AbCdEf0123456789xyz", "sk/live-other-secret"])

    assert '{"k":"[redacted]' == redact.cut('{"k":"' + end)


def test_a_cut_keeps_text_that_only_resembles_a_secret():
    redact = Redactor(["sk_live_AbCdEf0123456789xyz"])

    assert "hello sk_" == redact.cut("hello sk_")
    assert "\\u0041bc" == redact.cut("\\u0041bc")


# --- odd answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "charset", ["utf8mb4", "no-such", "idna", "zlib", "rot13", "punycode"]
)
def test_a_charset_python_cannot_decode_with_is_read_as_utf8(charset):
    integration = Integration(spec({"/a": get("a")}))
    answer = httpx.Response(
        200,
        content='{"name": "Zoë"}'.encode(),
        headers={"content-type": f"application/json; charset={charset}"},
    )

    _, (result,) = run(integration, lambda r: answer, [("a", {})])

    assert {"name": "Zoë"} == result.data


def test_a_body_in_utf16_labelled_utf8_does_not_spell_a_secret_between_nuls():
    key = "sk_live_AbCdEf0123456789xyz"
    integration = Integration(spec({"/a": get("a")}, **QUERY_KEY), auth=ApiKey(key=key))
    answer = httpx.Response(
        200,
        content=f"key={key}".encode("utf-16-le"),
        headers={"content-type": "text/plain; charset=utf-8"},
    )

    _, (result,) = run(integration, lambda r: answer, [("a", {})])

    assert "[redacted]" in result.to_llm() and key not in result.text


def test_a_secret_echoed_in_the_content_type_is_not_in_the_results_repr():
    key = "sk_live_AbCdEf0123456789xyz"
    integration = Integration(spec({"/a": get("a")}, **QUERY_KEY), auth=ApiKey(key=key))
    answer = httpx.Response(
        200, text="ok", headers={"content-type": f"text/x; k={key}"}
    )

    _, (result,) = run(integration, lambda r: answer, [("a", {})])

    assert key not in repr(result) and key not in str(result.content_type)


def test_httpcore_debug_lines_leave_response_headers_out(caplog):
    """httpcore logs each answer's headers at DEBUG; one may echo a token."""
    with caplog.at_level(logging.DEBUG, logger="httpcore"):
        logging.getLogger("httpcore.http11").debug(
            "receive_response_headers.complete return_value="
            "(b'HTTP/1.1', 200, b'OK', [(b'x-echo', b'eyJ-user-token')])"
        )

    assert "eyJ-user-token" not in caplog.text
    assert "receive_response_headers.complete" in caplog.text


@pytest.mark.parametrize(
    "spelling",
    [
        "sk&#x2F;live AbC+0123456789",  # only the slash escaped, as OWASP does
        "sk&#47;live AbC&#43;0123456789",
        "sk&#0047;live AbC+0123456789",
        "sk&#X2f;live AbC+0123456789",
        "".join(f"%{ord(c):02x}" for c in "sk/live AbC+0123456789"),
        "sk%2flive%20AbC%2B0123456789",  # hex in mixed case
        "\\u0073k/live AbC&#43;0123456789",  # escapes of two kinds at once
        "sk&sol;live AbC&plus;0123456789",  # HTML5 named references
        "sk&#47live AbC+0123456789",  # a numeric one without its ';'
    ],
)
def test_secrets_spelled_with_mixed_character_escapes_are_redacted(spelling):
    redact = Redactor(["sk/live AbC+0123456789"])

    assert "echo: [redacted]." == redact(f"echo: {spelling}.")


# --- arguments only JSON or Python can hold ------------------------------------------


ANYTHING = {
    "post": {
        "operationId": "put",
        "parameters": [
            {"name": "q", "in": "query", "schema": {}},
            {
                "name": "f",
                "in": "query",
                "style": "deepObject",
                "schema": {"type": "object"},
            },
        ],
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "responses": {"200": {"description": "ok"}},
    }
}
FORM = {
    "post": {
        "operationId": "form",
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"t": {"type": "string"}, "o": {}},
                    }
                }
            }
        },
        "responses": {"200": {"description": "ok"}},
    }
}


def deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("put", {"body": float("nan")}, "not JSON numbers"),
        ("put", {"q": float("inf")}, "numbers must be finite"),
        ("put", {"body": {"n": float("-inf")}}, "not JSON numbers"),
        ("put", {"q": 10**5000}, "4,300 digits"),
        ("put", {"f": deep(2000)}, "nested"),
        ("put", {"body": b"bytes"}, "JSON values"),
        ("form", {"t": "\ud800"}, "cannot be encoded"),
        ("form", {"o": deep(2000)}, "nested"),
    ],
)
def test_arguments_that_cannot_be_sent_are_refused_with_a_reason(tool, arguments, said):
    integration = Integration(spec({"/p": ANYTHING, "/f": FORM}))

    seen, (outcome,) = run(
        integration, lambda r: httpx.Response(200), [(tool, arguments)]
    )

    assert [] == seen
    assert isinstance(outcome, InputValidationError), outcome
    assert said in str(outcome)


def test_a_required_key_parameter_of_a_public_operation_is_filled():
    """`security: []` with a required `api_key` parameter: the key is needed
    all the same, and the runtime sends the configured one, never the model."""
    key_param = {
        "name": "api_key",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
    }
    integration = Integration(
        spec({"/a": get("a", security=[], parameters=[key_param])}, **QUERY_KEY),
        auth=ApiKey(key="QKEY-SECRET-1"),
    )
    [tool] = integration.tools

    seen, (result,) = run(integration, lambda r: httpx.Response(200), [("a", {})])

    assert "api_key" not in tool.input_schema["properties"]
    assert "QKEY-SECRET-1" == seen[0].url.params["api_key"]
    [report] = integration.report.operations
    assert any("read as needing it" in note for note in report.notes)


def test_a_tool_no_session_can_call_says_so_in_the_report():
    oauth = {
        "components": {
            "securitySchemes": {
                "o": {"type": "oauth2", "flows": {}},
                "Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            }
        }
    }
    integration = Integration(
        spec({"/a": get("a", security=[{"o": []}]), "/b": get("b")}, **oauth),
        auth=ApiKey(key="k" * 24, header="X-Key"),
    )

    a, b = integration.report.operations

    assert any("no session can call it" in n and "o" in n for n in a.notes)
    assert not any("no session can call it" in n for n in b.notes)


# --- round four: answers and arguments no call may crash on ------------------------


def test_a_retry_after_date_that_overflows_is_no_hint():
    assert None is parse_retry_after("Mon, 01 Jan 2020 00:00:00 +99999999999999999999")


def test_json_nested_deeper_than_python_reads_is_shown_as_text():
    integration = Integration(spec({"/a": get("a")}))
    body = "[" * 100_000 + "]" * 100_000 + "\n"
    answer = httpx.Response(
        200, text=body, headers={"content-type": "application/json"}
    )

    _, (result,) = run(integration, lambda r: answer, [("a", {})])

    assert result.ok and result.truncated
    assert result.data == result.text


@pytest.mark.parametrize(
    "arguments", [{"n": "\ud800"}, {"n": 1, "s": "ab\ud800cd"}, {"n": 1, "\ud800": 1}]
)
def test_a_lone_surrogate_in_an_invalid_argument_is_refused(arguments):
    parameters = [
        {"name": "n", "in": "query", "schema": {"type": "integer"}},
        {"name": "s", "in": "query", "schema": {"type": "string", "maxLength": 3}},
    ]
    integration = Integration(spec({"/a": get("a", parameters=parameters)}))

    seen, (outcome,) = run(
        integration, lambda r: httpx.Response(200), [("a", arguments)]
    )

    assert [] == seen and isinstance(outcome, InputValidationError)


def test_a_json_body_nested_past_the_recursion_limit_is_refused():
    integration = Integration(spec({"/p": ANYTHING, "/f": FORM}))

    seen, (outcome,) = run(
        integration, lambda r: httpx.Response(200), [("put", {"body": deep(990)})]
    )

    assert [] == seen and isinstance(outcome, InputValidationError)


def posting_31(operation_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document with one POST of `body` (3.1 for type lists)."""
    operation = {
        "operationId": operation_id,
        "requestBody": body,
        "responses": {"200": {"description": "ok"}},
    }
    return {**spec({"/p": {"post": operation}}), "openapi": "3.1.0"}


def test_only_the_nulls_a_union_body_refuses_are_left_out():
    card = {
        "type": "object",
        "required": ["card"],
        "properties": {
            "card": {"type": "string"},
            "note": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    }
    body = {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [card, {"type": "array"}]}}
        },
    }
    integration = Integration(posting_31("pay", body))

    seen, _ = run(
        integration,
        lambda r: httpx.Response(200),
        [("pay", {"body": {"card": "c1", "bank": None, "note": None}})],
    )

    assert {"card": "c1", "note": None} == json.loads(seen[0].content)


def test_null_for_an_optional_nullable_body_sends_no_body():
    body = {"content": {"application/json": {"schema": {"type": ["array", "null"]}}}}
    seen, _ = run(
        Integration(posting_31("p", body)),
        lambda r: httpx.Response(200),
        [("p", {"body": None})],
    )

    assert b"" == seen[0].content


def test_httpcore_failure_lines_leave_the_refused_header_out(caplog):
    with caplog.at_level(logging.DEBUG, logger="httpcore"):
        logging.getLogger("httpcore.http11").debug(
            "send_request_headers.failed exception=LocalProtocolError("
            "\"Illegal header value b'sk_live_SECRETVALUE '\")"
        )

    assert "SECRETVALUE" not in caplog.text
    assert "exception=LocalProtocolError" in caplog.text


def test_httpx_lines_show_the_standard_reason_phrase(caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s %d %s"',
            "GET",
            "https://api.test/u",
            "HTTP/1.1",
            200,
            "OK Bearer eyJ-user-token",
        )

    assert "eyJ-user-token" not in caplog.text and '200 OK"' in caplog.text


@pytest.mark.parametrize(
    "key", ["sk_live_SECRETVALUE ", " sk_live_x", "sk\nlive", "clé"]
)
def test_a_key_with_whitespace_or_unsendable_characters_is_refused(key):
    with pytest.raises(ConfigError) as caught:
        Integration(spec({"/a": get("a")}), auth=ApiKey(key=key))

    assert key.strip() not in str(caught.value)


def test_a_short_secret_is_warned_about_without_showing_it():
    integration = Integration(spec({"/a": get("a")}), auth=ApiKey(key="1"))

    [warning] = [w for w in integration.report.warnings if "shorter than 8" in w]
    assert "'1'" not in warning


@pytest.mark.parametrize(
    "scheme",
    [
        {"type": "apiKey", "in": "body", "name": "key"},
        {"type": "apiKey", "in": 5, "name": "key"},
        {"type": "apiKey", "in": "header"},
        {"type": "apiKey", "in": "header", "name": "X Key"},
        {"type": "apiKey", "in": "header", "name": "X-Key\r\nHost: evil.test"},
    ],
)
def test_an_api_key_scheme_that_cannot_be_sent_is_left_out(scheme):
    """The key never goes somewhere the scheme did not mean (a cookie, say)."""
    integration = Integration(
        spec(
            {"/a": get("a", security=[{"K": []}]), "/b": get("b", security=[])},
            components={"securitySchemes": {"K": scheme}},
        ),
        auth=ApiKey(key="k" * 24),
    )

    seen, (outcome,) = run(integration, lambda r: httpx.Response(200), [("a", {})])

    assert [] == seen and isinstance(outcome, AuthRequiredError)
    assert any(
        "apiKey security scheme 'K' cannot be used" in w
        for w in integration.report.warnings
    )


def test_query_parameter_names_are_matched_to_a_key_with_their_case():
    """`API_KEY` is not the `api_key` a scheme sends: it stays an argument."""
    own = {"name": "API_KEY", "in": "query", "schema": {"type": "string"}}
    integration = Integration(
        spec({"/a": get("a", parameters=[own])}, **QUERY_KEY), auth=ApiKey(key="k" * 24)
    )

    [tool] = integration.tools

    assert ["API_KEY"] == list(tool.input_schema["properties"])


def test_security_declared_only_inside_a_referenced_operation_still_counts():
    """Another operation without security of its own is public, not given the
    configured key."""
    document = spec(
        {"/pub": get("pub"), "/sec": {"get": {"$ref": "#/x-ops/sec"}}},
        components={
            "securitySchemes": {"K": {"type": "apiKey", "in": "header", "name": "X-K"}}
        },
    )
    document["x-ops"] = {
        "sec": {
            "operationId": "sec",
            "security": [{"K": []}],
            "responses": {"200": {"description": "ok"}},
        }
    }
    integration = Integration(document, auth=ApiKey(key="k" * 24, header="X-K"))

    seen, _ = run(
        integration, lambda r: httpx.Response(200), [("pub", {}), ("sec", {})]
    )

    assert "x-k" not in seen[0].headers and "x-k" in seen[1].headers


def test_a_required_key_parameter_names_its_scheme_when_nothing_declares_security():
    key_param = {"name": "api_key", "in": "query", "required": True, "schema": {}}
    integration = Integration(
        spec(
            {"/a": get("a", parameters=[key_param])},
            components=QUERY_KEY["components"],
        ),
        auth=ApiKey(key="QKEY-SECRET-1"),
    )

    seen, _ = run(integration, lambda r: httpx.Response(200), [("a", {})])

    assert "QKEY-SECRET-1" == seen[0].url.params["api_key"]


@pytest.mark.parametrize("header", ["X-A\r\nX-Injected: 1", "", "X Key", "X-Key\n"])
def test_a_configured_key_header_name_must_be_sendable(header):
    with pytest.raises(ConfigError, match="not a header name"):
        Integration(spec({"/a": get("a")}), auth=ApiKey(key="k" * 24, header=header))


def test_a_header_parameter_name_ending_in_a_line_break_is_not_sent():
    trace = {"name": "X-Trace\n", "in": "header", "schema": {"type": "string"}}
    integration = Integration(spec({"/a": get("a", parameters=[trace])}))

    [tool] = integration.tools

    assert {} == tool.input_schema["properties"]


def test_a_numeric_reference_without_its_semicolon_ends_with_its_digits():
    """`&#651;` is one character (ϋ), not `A` followed by `1;`."""
    assert "caf&#651;" == Redactor(["A1"])("caf&#651;")
    assert "[redacted]" == Redactor(["A1"])("&#65;1")


@pytest.mark.parametrize(
    "secret",
    ['Pässwort"2024-lang!xyz', "naïve\\backslash-secret-0001", "\t.€-secret-1"],
)
def test_a_secret_echoed_in_utf8_json_is_redacted(secret):
    """UTF-8 JSON (JSON.stringify's) keeps `ä` as is and escapes only `"`,
    `\\` and control characters."""
    body = json.dumps({"echo": secret}, ensure_ascii=False)

    assert '{"echo": "[redacted]"}' == Redactor([secret])(body)


def test_spaces_written_as_plus_with_lower_case_escapes_are_redacted():
    redact = Redactor(["correct horse/battery staple"])

    assert "q=[redacted]" == redact("q=correct+horse%2fbattery+staple")


def test_a_secret_with_a_lone_surrogate_does_not_break_redaction():
    redact = Redactor(["abc\ud800defghijkl"])

    assert "x [redacted] y" == redact("x \\u0061bc\ud800defghijkl y")
