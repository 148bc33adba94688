"""The cases under shared/cases, each mapped onto the library's real API.

Every case folder `Bxx-name/` holds a customer's spec and a `case.md` stating
the configuration, the calls and what must happen; each test below names the
case and the step, variant or session it checks.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from urllib.parse import unquote

import httpx
import pytest
from _cases_support import (
    CASES,
    TOOL_NAME,
    Harness,
    SleepRecorder,
    everything_sent,
    json_answer,
    origin,
    query_pairs,
    required_strings,
    sequence,
    signed_jwt,
    unsigned_jwt,
    user_claims,
    with_payload,
)

from ourguide_caller import (
    ApiKey,
    AuthRequiredError,
    BearerToken,
    ConfigError,
    IdentityTokenError,
    InputValidationError,
    JwtForward,
    RateLimitedError,
    RetryPolicy,
    UnknownToolError,
    UpstreamHTTPError,
)

pytestmark = pytest.mark.skipif(
    not CASES.is_dir(), reason=f"no shared cases at {CASES}"
)

NOT_CALLABLE = (AuthRequiredError, UnknownToolError)


def test_every_case_folder_is_covered():
    """Each case folder with a spec and a case.md has tests in this module."""
    folders = sorted(p.name for p in CASES.iterdir() if (p / "case.md").is_file())

    assert 16 == len(folders)
    assert folders == sorted(COVERED)


def test_mock_transport_answers_built_the_usual_way_are_read():
    """Cases' mock transport: an answer built as `httpx.Response(...)` is read."""
    harness = Harness(
        "B22-empty-204", lambda request: httpx.Response(204), prebuilt=True
    )

    result = harness.call("deleteSession", {"sessionId": "s-1"})

    assert (204, True) == (result.status, result.ok)


# --- B01: tool names longer than provider limits ---------------------------

B01 = "B01-tool-name-length"


def test_b01_names_are_valid_distinct_and_deterministic():
    """B01 step 1: three valid, distinct names; getHealth kept; stable on reload."""
    first = Harness(B01)
    names = first.tool_names()

    assert 3 == len(names)
    assert [] == [n for n in names if not TOOL_NAME.match(n)]
    assert "getHealth" in names
    assert names == Harness(B01).tool_names()


def test_b01_every_tool_reaches_its_own_operation():
    """B01 step 2: calling each tool hits each of the three operations once."""
    harness = Harness(B01, json_answer({}))

    for name in harness.tool_names():
        assert harness.call(name, {}).ok

    assert {
        ("GET", "https://api.example.test/accounts/me/notification-preferences/email"),
        ("GET", "https://api.example.test/accounts/me/notification-preferences/sms"),
        ("GET", "https://api.example.test/health"),
    } == set(harness.sent())
    assert 3 == len(harness.requests)


# --- B03: the same operationId on several operations -----------------------

B03 = "B03-duplicate-operationid"


def test_b03_duplicate_ids_give_six_distinct_tools():
    """B03 step 1: six valid, distinct names; the unique listModels is kept."""
    names = Harness(B03).tool_names()

    assert 6 == len(names)
    assert [] == [n for n in names if not TOOL_NAME.match(n)]
    assert "listModels" in names


def test_b03_no_operation_is_overwritten():
    """B03 step 2: each method of /proxy/{endpoint} and /models is reached once."""
    harness = Harness(B03, json_answer({}))

    for tool in harness.runtime.tools_for(harness.session()):
        arguments = dict.fromkeys(required_strings(tool.input_schema), "models")
        harness.call(tool.name, arguments)

    proxy = "https://api.example.test/proxy/models"
    assert sorted(
        [
            ("GET", proxy),
            ("POST", proxy),
            ("PUT", proxy),
            ("PATCH", proxy),
            ("DELETE", proxy),
            ("GET", "https://api.example.test/models"),
        ]
    ) == sorted(harness.sent())


# --- B05: server variables --------------------------------------------------

B05 = "B05-server-variables"


def _no_placeholder(url: str) -> bool:
    return not any(mark in url.upper() for mark in ("{", "}", "%7B", "%7D"))


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (None, "https://eu.api.example.test/v2/status"),
        ({"region": "us"}, "https://us.api.example.test/v2/status"),
    ],
    ids=["A-defaults", "B-configured-value"],
)
def test_b05_server_variables_fill_the_url(variables, expected):
    """B05 variants A, B: variables take configured values, else defaults."""
    harness = Harness(B05, json_answer({"healthy": True}), server_variables=variables)

    result = harness.call("getStatus", {})

    assert [("GET", expected)] == harness.sent()
    assert _no_placeholder(str(harness.requests[0].url))
    assert result.ok


def test_b05_value_outside_enum_is_a_config_error():
    """B05 variant C: `region: apac` gives ConfigError naming region, no request."""
    sent = []
    with pytest.raises(ConfigError) as caught:
        harness = Harness(B05, server_variables={"region": "apac"})
        sent = harness.requests
        harness.call("getStatus", {})

    assert "region" in str(caught.value)
    assert "server_variables.region" == caught.value.setting
    assert [] == sent


# --- B06: doubled or lost base path ----------------------------------------

B06 = "B06-double-base-path"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, "https://api.example.test/api/users/u-123"),
        (
            "https://staging.example.test/api",
            "https://staging.example.test/api/users/u-123",
        ),
        (
            "https://staging.example.test/api/",
            "https://staging.example.test/api/users/u-123",
        ),
        (
            "https://gw.example.test/tenant-7/api",
            "https://gw.example.test/tenant-7/api/users/u-123",
        ),
    ],
    ids=["A-no-override", "B-repeats-prefix", "C-trailing-slash", "D-deeper-prefix"],
)
def test_b06_override_replaces_the_server_url(base_url, expected):
    """B06 variants A-D: the override replaces the server; /api once, no //."""
    harness = Harness(B06, json_answer({"id": "u-123"}), base_url=base_url)

    assert harness.call("getUser", {"userId": "u-123"}).ok

    assert [("GET", expected)] == harness.sent()
    path = harness.requests[0].url.raw_path.decode()
    assert 1 == path.count("/api")
    assert "//" not in path


# --- B08: path parameter encoding ------------------------------------------

B08 = "B08-path-param-encoding"
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _segment_problems(request: httpx.Request, value: str) -> list[str]:
    """What is wrong with a request under the case's "segment check"."""
    problems = []
    if b"" != request.url.query or "" != request.url.fragment:
        problems.append("has a query or fragment")
    parts = request.url.raw_path.decode().split("?")[0].split("/")
    if 5 != len(parts) or ["", "v1", "records"] != parts[:3] or "detail" != parts[4]:
        return [*problems, f"path splits into {parts}"]
    raw = parts[3]
    if unquote(raw) != value:
        problems.append(f"segment {raw!r} decodes to {unquote(raw)!r}")
    if any(c in raw for c in "/?# ") or _BARE_PERCENT.search(raw):
        problems.append(f"segment {raw!r} holds a raw delimiter or bare %")
    return problems


@pytest.mark.parametrize(
    ("value", "raw_segment"),
    [
        ("a/b", "a%2Fb"),
        ("a?x=1#frag", None),
        ("a b", "a%20b"),
        ("100%", "100%25"),
    ],
    ids=["1-slash", "2-query-fragment", "3-space", "4-percent"],
)
def test_b08_value_fills_exactly_one_segment(value, raw_segment):
    """B08 calls 1-4: the value is percent-encoded into a single segment."""
    harness = Harness(B08, json_answer({}))

    harness.call("getRecordDetail", {"recordId": value})

    assert 1 == len(harness.requests)
    request = harness.requests[0]
    assert ("GET", "api.example.test") == (request.method, request.url.host)
    assert [] == _segment_problems(request, value)
    segment = request.url.raw_path.decode().split("/")[3]
    if raw_segment is not None:
        assert raw_segment.upper() == segment.upper()
    else:
        assert "%3F" in segment.upper() and "%23" in segment.upper()


def test_b08_traversal_value_stays_in_its_segment():
    """B08 call 5: `../../admin/config` is one encoded segment, or refused."""
    harness = Harness(B08, json_answer({}))
    value = "../../admin/config"

    try:
        harness.call("getRecordDetail", {"recordId": value})
    except InputValidationError:
        assert [] == harness.requests
        return

    assert 1 == len(harness.requests)
    assert [] == _segment_problems(harness.requests[0], value)
    assert "/admin/" not in harness.requests[0].url.raw_path.decode()


@pytest.mark.parametrize("value", ["..", "."], ids=["6-dot-dot", "7-dot"])
def test_b08_dot_segments_are_refused(value):
    """B08 calls 6, 7: a `.` or `..` value is InputValidationError, no request."""
    harness = Harness(B08, json_answer({}))

    with pytest.raises(InputValidationError):
        harness.call("getRecordDetail", {"recordId": value})

    assert [] == harness.requests


def test_b08_all_calls_stay_under_records():
    """B08 global: at most 5 requests, all /v1/records/.../detail, none to admin."""
    harness = Harness(B08, json_answer({}))
    values = ["a/b", "a?x=1#frag", "a b", "100%", "../../admin/config", "..", "."]

    for value in values:
        try:
            harness.call("getRecordDetail", {"recordId": value})
        except InputValidationError:
            pass

    paths = [r.url.raw_path.decode() for r in harness.requests]
    assert len(paths) <= 5
    assert [] == [
        p for p in paths if not (p.startswith("/v1/records/") and p.endswith("/detail"))
    ]
    assert [] == [p for p in paths if "/admin/" in p]


# --- B09: array query parameters --------------------------------------------

B09 = "B09-query-array-explode"


def test_b09_arrays_follow_style_and_explode():
    """B09 call 1: form/no-explode, form/explode, pipe and space delimited."""
    harness = Harness(B09, json_answer([]))
    arguments = {
        "tags": ["red", "blue", "green"],
        "ids": [1, 2],
        "codes": ["A", "B"],
        "fields": ["name", "price"],
    }

    harness.call("listItems", arguments)

    assert 1 == len(harness.requests)
    request = harness.requests[0]
    assert ("GET", "https://api.example.test/items") == (
        request.method,
        str(request.url.copy_with(query=None)),
    )
    assert sorted(
        [
            ("tags", "red,blue,green"),
            ("ids", "1"),
            ("ids", "2"),
            ("codes", "A|B"),
            ("fields", "name price"),
        ]
    ) == query_pairs(request)


def test_b09_single_element_array():
    """B09 call 2: a one-item form array is one plain pair."""
    harness = Harness(B09, json_answer([]))

    harness.call("listItems", {"tags": ["red"]})

    assert [("tags", "red")] == query_pairs(harness.requests[0])


# --- B12: body property sharing a name with a parameter ---------------------

B12 = "B12-path-body-collision"


def _replace_user_tool(harness: Harness):
    return harness.runtime.integration().tool("replaceUser")


def test_b12_four_distinct_arguments():
    """B12 step 1: path id, query name, body id and body name stay distinct."""
    tool = _replace_user_tool(Harness(B12))
    where = {(a.location, a.wire_name): a.name for a in tool.arguments}

    assert {
        ("path", "id"): "id__path",
        ("query", "name"): "name__query",
        ("body", "id"): "id",
        ("body", "name"): "name",
        ("body", "email"): "email",
    } == where
    assert {"id__path", "name__query", "id", "name", "email"} == set(
        tool.input_schema["properties"]
    )
    required = set(tool.input_schema["required"])
    assert {"id__path", "id", "name"} <= required
    assert "name__query" not in required


def test_b12_call_places_each_argument():
    """B12 step 2: path, query and JSON body each get their own values."""
    harness = Harness(B12, json_answer({}))
    arguments = {
        "id__path": "u-123",
        "name__query": "import-job",
        "id": "u-999",
        "name": "Ada",
        "email": "ada@example.test",
    }

    assert harness.call("replaceUser", arguments).ok

    assert 1 == len(harness.requests)
    request = harness.requests[0]
    assert ("PUT", "https://api.example.test/users/u-123") == (
        request.method,
        str(request.url.copy_with(query=None)),
    )
    assert [("name", "import-job")] == query_pairs(request)
    assert "application/json" == request.headers["content-type"]
    assert {"id": "u-999", "name": "Ada", "email": "ada@example.test"} == json.loads(
        request.content
    )


def test_b12_missing_body_id_is_caught_locally():
    """B12 step 3: without the body id the call is refused before sending."""
    harness = Harness(B12, json_answer({}))

    with pytest.raises(InputValidationError):
        harness.call("replaceUser", {"id__path": "u-123", "name": "Ada"})

    assert [] == harness.requests


# --- B13: self-referencing schema --------------------------------------------

B13 = "B13-recursive-ref"
B13_RESPONSE = {
    "id": "c-1",
    "name": "root",
    "children": [
        {
            "id": "c-2",
            "name": "leaf",
            "parent": {"id": "c-1", "name": "root"},
            "children": [],
        }
    ],
}


@pytest.mark.timeout(10)
def test_b13_recursive_schema_loads_finitely():
    """B13 step 1: loading finishes; both tools listed with finite schemas."""
    harness = Harness(B13)
    tools = harness.runtime.tools_for(harness.session())

    assert {"createCategory", "getCategory"} == {t.name for t in tools}
    for tool in tools:
        assert len(json.dumps(tool.input_schema)) < 200_000


@pytest.mark.timeout(10)
def test_b13_nested_call_and_recursive_response():
    """B13 step 2: the nested body is sent as given; the response is read."""
    harness = Harness(B13, json_answer(B13_RESPONSE, status=201))
    arguments = {"name": "root", "children": [{"name": "leaf", "children": []}]}

    result = harness.call("createCategory", arguments)

    assert [("POST", "https://api.example.test/categories")] == harness.sent()
    assert arguments == json.loads(harness.requests[0].content)
    assert result.ok
    assert "c-2" in result.to_llm()


@pytest.mark.timeout(10)
def test_b13_nested_validation_still_works():
    """B13 step 3: a nested item without `name` is refused before sending."""
    harness = Harness(B13, json_answer({}))

    with pytest.raises(InputValidationError):
        harness.call("createCategory", {"name": "root", "children": [{"children": []}]})

    assert [] == harness.requests


# --- B16: operation-level `security: []` -------------------------------------

B16 = "B16-security-empty-override"


@pytest.mark.parametrize(
    ("name", "url", "authorization"),
    [
        ("ping", "https://api.example.test/public/ping", None),
        ("getReport", "https://api.example.test/private/report", "Bearer t-static-789"),
        ("getFeed", "https://api.example.test/maybe/feed", "Bearer t-static-789"),
    ],
    ids=["1-ping-public", "2-report-global", "3-feed-optional"],
)
def test_b16_with_credentials(name, url, authorization):
    """B16 session 1: `security: []` is public; global and optional auth send it."""
    harness = Harness(
        B16,
        json_answer({}),
        credentials={"ServiceToken": BearerToken(token="t-static-789")},
    )

    assert harness.call(name, {}).ok

    assert [("GET", url)] == harness.sent()
    assert authorization == harness.requests[0].headers.get("authorization")


def test_b16_without_credentials_listing():
    """B16 session 2: without credentials ping and getFeed are listed, not getReport."""
    assert {"ping", "getFeed"} == Harness(B16).tool_names()


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("ping", "https://api.example.test/public/ping"),
        ("getFeed", "https://api.example.test/maybe/feed"),
    ],
    ids=["1-ping", "2-feed-anonymous-alternative"],
)
def test_b16_without_credentials_public_calls(name, url):
    """B16 session 2 calls 1, 2: sent without an Authorization header."""
    harness = Harness(B16, json_answer({}))

    assert harness.call(name, {}).ok

    assert [("GET", url)] == harness.sent()
    assert "authorization" not in harness.requests[0].headers


def test_b16_without_credentials_report_is_not_callable():
    """B16 session 2 call 3: getReport is refused with no request."""
    harness = Harness(B16, json_answer({}))

    with pytest.raises(NOT_CALLABLE):
        harness.call("getReport", {})

    assert [] == harness.requests


# --- B18: credential parameters hidden from the model ----------------------

B18 = "B18-credential-params-hidden"


def _b18() -> Harness:
    return Harness(
        B18, json_answer([]), credentials={"ApiKeyAuth": ApiKey(key="k-test-123")}
    )


def test_b18_schema_has_no_credential_parameters():
    """B18 step 1: `month` is an argument; X-API-Key and Authorization are not."""
    schema = _b18().runtime.integration().tool("listReports").input_schema
    names = {n.lower() for n in schema["properties"]}
    required = {n.lower() for n in schema.get("required", [])}

    assert "month" in names
    assert set() == {"x-api-key", "authorization"} & (names | required)


def _assert_b18_request(request: httpx.Request) -> None:
    assert ("GET", "https://api.example.test/reports") == (
        request.method,
        str(request.url.copy_with(query=None)),
    )
    assert [("month", "2025-01")] == query_pairs(request)
    assert ["k-test-123"] == request.headers.get_list("x-api-key")
    assert "authorization" not in request.headers


def test_b18_runtime_supplies_the_key():
    """B18 call 1: the key header is sent once, from the configuration."""
    harness = _b18()

    assert harness.call("listReports", {"month": "2025-01"}).ok

    assert 1 == len(harness.requests)
    _assert_b18_request(harness.requests[0])


def test_b18_model_cannot_inject_credentials():
    """B18 call 2: model-given credentials are refused or never sent."""
    harness = _b18()
    arguments = {
        "month": "2025-01",
        "X-API-Key": "k-from-model",
        "Authorization": "Bearer t-from-model",
    }

    try:
        harness.call("listReports", arguments)
    except InputValidationError:
        assert [] == harness.requests
    else:
        assert 1 == len(harness.requests)
        _assert_b18_request(harness.requests[0])

    sent = "".join(everything_sent(r) for r in harness.requests)
    assert "k-from-model" not in sent
    assert "t-from-model" not in sent


# --- B19: credentials and redirects -----------------------------------------

B19 = "B19-redirect-credential-leak"
B19_ROUTES = {
    "https://api.example.test/exports/e-1": (
        302,
        "https://files.other-host.test/blob/e-1",
    ),
    "https://api.example.test/exports/e-2": (
        307,
        "https://api.example.test/exports/e-2/v2",
    ),
    "https://api.example.test/exports/e-3": (
        301,
        "http://api.example.test/exports/e-3",
    ),
}


def _b19_answer(request: httpx.Request) -> httpx.Response:
    redirect = B19_ROUTES.get(str(request.url))
    if redirect is None:
        return httpx.Response(200, json={"ok": True})
    status, location = redirect
    return httpx.Response(status, headers={"Location": location})


def _b19() -> Harness:
    return Harness(
        B19,
        _b19_answer,
        credentials={
            "ApiKeyAuth": ApiKey(key="k-test-123"),
            "ServiceToken": BearerToken(token="t-static-789"),
        },
    )


@pytest.mark.parametrize(
    "export_id",
    ["e-1", "e-2", "e-3"],
    ids=["1-cross-host", "2-same-origin", "3-https-to-http"],
)
def test_b19_credentials_never_leave_the_origin(export_id):
    """B19: the first request has both credentials; other origins get none."""
    harness = _b19()
    home = origin(httpx.URL("https://api.example.test"))

    result = harness.call("getExport", {"exportId": export_id})

    first = harness.requests[0]
    assert f"https://api.example.test/exports/{export_id}" == str(first.url)
    assert "k-test-123" == first.headers.get("x-api-key")
    assert "Bearer t-static-789" == first.headers.get("authorization")
    elsewhere = [r for r in harness.requests if origin(r.url) != home]
    for request in elsewhere:
        assert "x-api-key" not in request.headers
        assert "authorization" not in request.headers
        assert "k-test-123" not in everything_sent(request)
        assert "t-static-789" not in everything_sent(request)
    if len(harness.requests) > 1 and export_id == "e-2":
        assert result.ok


def test_b19_injected_client_that_follows_redirects_sends_no_credentials_away():
    """B19, whole kind: with a client that follows redirects, nothing leaks."""
    harness = Harness(
        B19,
        _b19_answer,
        client={"follow_redirects": True},
        credentials={
            "ApiKeyAuth": ApiKey(key="k-test-123"),
            "ServiceToken": BearerToken(token="t-static-789"),
        },
    )
    home = origin(httpx.URL("https://api.example.test"))

    for export_id in ["e-1", "e-2", "e-3"]:
        harness.call("getExport", {"exportId": export_id})

    leaked = [
        str(r.url)
        for r in harness.requests
        if origin(r.url) != home
        and any(s in everything_sent(r) for s in ("k-test-123", "t-static-789"))
    ]
    assert [] == leaked


# --- B20: Retry-After --------------------------------------------------------

B20 = "B20-retry-after"
B20_URL = ("GET", "https://api.example.test/quotes?symbol=ACME")


def _b20(*responses: httpx.Response) -> tuple[Harness, SleepRecorder]:
    sleep = SleepRecorder()
    policy = RetryPolicy(attempts=3, backoff=0.5, max_retry_after=30.0, sleep=sleep)
    return Harness(B20, sequence(*responses), retry=policy), sleep


def _limited(status: int, retry_after: str) -> httpx.Response:
    return httpx.Response(status, headers={"Retry-After": retry_after})


def test_b20_delta_seconds_wins_over_backoff():
    """B20 variant A: `Retry-After: 2` gives one wait of 2-3 s, then success."""
    harness, sleep = _b20(_limited(429, "2"), httpx.Response(200, json=[]))

    result = harness.call("listQuotes", {"symbol": "ACME"})

    assert [B20_URL, B20_URL] == harness.sent()
    assert 1 == len(sleep.waits)
    assert 2.0 <= sleep.waits[0] <= 3.0
    assert result.ok


def test_b20_http_date():
    """B20 variant B: an HTTP-date 4 s ahead gives one wait of 3-5 s."""
    # HTTP-dates have whole seconds: the one nearest to now + 4 s.
    date = email.utils.formatdate(round(time.time() + 4), usegmt=True)
    harness, sleep = _b20(_limited(429, date), httpx.Response(200, json=[]))

    result = harness.call("listQuotes", {"symbol": "ACME"})

    assert [B20_URL, B20_URL] == harness.sent()
    assert 1 == len(sleep.waits)
    assert 3.0 <= sleep.waits[0] <= 5.0
    assert result.ok


def test_b20_retry_after_beyond_the_cap_ends_the_call():
    """B20 variant C: `Retry-After: 3600` is not waited for; rate-limited result."""
    harness, sleep = _b20(_limited(429, "3600"))

    result = harness.call("listQuotes", {"symbol": "ACME"})

    assert [B20_URL] == harness.sent()
    assert [] == [w for w in sleep.waits if w > 30.0]
    assert (429, "rate_limited", 3600.0) == (
        result.status,
        result.error,
        result.retry_after,
    )
    with pytest.raises(RateLimitedError) as caught:
        result.raise_for_status()
    assert 3600.0 == caught.value.retry_after
    assert isinstance(caught.value, UpstreamHTTPError)
    assert 429 == caught.value.status


def test_b20_503_with_retry_after():
    """B20 variant D: two 503s with `Retry-After: 1` give two 1-2 s waits."""
    harness, sleep = _b20(
        _limited(503, "1"), _limited(503, "1"), httpx.Response(200, json=[])
    )

    result = harness.call("listQuotes", {"symbol": "ACME"})

    assert [B20_URL] * 3 == harness.sent()
    assert 2 == len(sleep.waits)
    assert [] == [w for w in sleep.waits if not 1.0 <= w <= 2.0]
    assert result.ok


def test_b20_unparseable_retry_after_falls_back_to_backoff():
    """B20 variant E: `Retry-After: soon` gives a normal backoff wait."""
    harness, sleep = _b20(_limited(429, "soon"), httpx.Response(200, json=[]))

    result = harness.call("listQuotes", {"symbol": "ACME"})

    assert [B20_URL, B20_URL] == harness.sent()
    assert 1 == len(sleep.waits)
    assert 0.25 <= sleep.waits[0] <= 30.0
    assert result.ok


# --- B22: empty successful responses -----------------------------------------

B22 = "B22-empty-204"
PARSE_ERRORS = ("decode", "expecting value", "jsondecodeerror", "parse", "invalid json")


def _no_parse_error(text: str) -> bool:
    return not any(word in text.lower() for word in PARSE_ERRORS)


def test_b22_204_is_a_success():
    """B22 call 1: a 204 without body is a success reporting no content."""
    harness = Harness(B22, lambda request: httpx.Response(204))

    result = harness.call("deleteSession", {"sessionId": "s-1"})

    assert [("DELETE", "https://api.example.test/sessions/s-1")] == harness.sent()
    assert result.ok
    text = result.to_llm()
    assert "204" in text or "no content" in text.lower()
    assert _no_parse_error(text)


@pytest.mark.parametrize("body", [b"", b"\n"], ids=["2-empty", "3-whitespace"])
def test_b22_empty_json_body_is_a_success(body):
    """B22 calls 2, 3: an empty or blank JSON 200 is a success with no data."""
    harness = Harness(
        B22,
        lambda request: httpx.Response(
            200,
            content=body,
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(len(body)),
            },
        ),
    )

    result = harness.call("touchSession", {"sessionId": "s-1"})

    assert [("POST", "https://api.example.test/sessions/s-1/touch")] == harness.sent()
    assert result.ok
    assert result.data is None
    assert _no_parse_error(result.to_llm())


# --- B24: huge responses ------------------------------------------------------

B24 = "B24-huge-response"
B24_LOGS = [
    {"ts": "2025-01-01T00:00:00Z", "line": f"{'a' * 80} {n}"} for n in range(20_000)
]


def _b24_answer(request: httpx.Request) -> httpx.Response:
    if "timeout" == request.url.params.get("q"):
        return httpx.Response(200, json=B24_LOGS)
    return httpx.Response(200, json=[{"ts": "t1", "line": "fine"}])


def _sizes(n: int) -> set[str]:
    return {str(n), f"{n:,}"}


def test_b24_huge_response_is_cut_with_a_marker():
    """B24 call 1: at most 20 000 chars plus a short marker giving the size."""
    harness = Harness(B24, _b24_answer, max_result_chars=20_000)
    raw = json.dumps(B24_LOGS).encode()
    compact = json.dumps(B24_LOGS, separators=(",", ":"))

    result = harness.call("searchLogs", {"q": "timeout"})

    assert 1 == len(harness.requests)
    assert len(raw) > 1_900_000
    assert result.ok
    text = result.to_llm()
    assert len(text) <= 20_000 + 300
    marker = text[-300:]
    assert "truncat" in marker.lower()
    counted = re.search(r"20,?000 (items|objects|elements|entries)", marker)
    sized = any(s in marker for s in _sizes(len(raw)) | _sizes(len(compact)))
    assert counted or sized, marker
    assert "2025-01-01T00:00:00Z" in text
    assert f"{'a' * 80} 0" in text


def test_b24_small_response_is_untouched():
    """B24 call 2: a small response is passed on whole, without a marker."""
    harness = Harness(B24, _b24_answer, max_result_chars=20_000)

    result = harness.call("searchLogs", {"q": "ok"})

    assert result.ok
    assert "fine" in result.to_llm()
    assert "truncat" not in result.to_llm().lower()


# --- B26: unsigned or wrongly signed user JWTs ------------------------------

B26 = "B26-jwt-alg-none"
SECRET = "test-shared-secret-0123456789abcdef"
OTHER_SECRET = "another-secret-9876543210fedcba-xyz"


def _b26() -> Harness:
    return Harness(
        B26,
        json_answer({}),
        credentials={"UserJwt": JwtForward()},
        verification_secret=SECRET,
    )


def _tampered() -> str:
    now = int(time.time())
    token = signed_jwt(user_claims(now=now), SECRET)
    return with_payload(token, user_claims("u-999", now=now))


B26_TOKENS = {
    "1-alg-none": (
        lambda: unsigned_jwt(user_claims(), "none"),
        "algorithm_not_allowed",
    ),
    "2-alg-NONE": (
        lambda: unsigned_jwt(user_claims(), "NONE"),
        "algorithm_not_allowed",
    ),
    "3-wrong-secret": (
        lambda: signed_jwt(user_claims(), OTHER_SECRET),
        "bad_signature",
    ),
    "4-hs512": (
        lambda: signed_jwt(user_claims(), SECRET, "HS512"),
        "algorithm_not_allowed",
    ),
    "5-tampered": (_tampered, "bad_signature"),
    "6-not-a-jwt": (lambda: "u-123", "malformed"),
}


@pytest.mark.parametrize("kind", list(B26_TOKENS))
def test_b26_refused_token_is_an_identity_error(kind):
    """B26: a session from each bad token raises IdentityTokenError with its reason."""
    mint, reason = B26_TOKENS[kind]
    harness = _b26()

    with pytest.raises(IdentityTokenError) as caught:
        harness.session(mint())

    assert reason == caught.value.reason


@pytest.mark.parametrize("kind", list(B26_TOKENS))
def test_b26_refused_token_gives_an_anonymous_session(kind):
    """B26: with a bad token the session is anonymous and the token never sent."""
    mint, reason = B26_TOKENS[kind]
    token = mint()
    harness = _b26()
    session = harness.session(token, on_invalid="anonymous")

    assert (False, reason) == (session.identified, session.token_error.reason)

    names = harness.tool_names(session)
    assert "listNews" in names
    assert "getMe" not in names
    with pytest.raises(NOT_CALLABLE):
        harness.call("getMe", {}, session)
    assert [] == harness.requests

    assert harness.call("listNews", {}, session).ok

    assert [("GET", "https://api.example.test/news")] == harness.sent()
    assert "authorization" not in harness.requests[0].headers
    assert token not in everything_sent(harness.requests[0])


def test_b26_control_token_is_forwarded_exactly():
    """B26 control: a correctly signed HS256 token lists getMe and is forwarded."""
    token = signed_jwt(user_claims(), SECRET)
    harness = _b26()
    session = harness.session(token)

    assert "getMe" in harness.tool_names(session)
    assert harness.call("getMe", {}, session).ok

    assert [("GET", "https://api.example.test/me")] == harness.sent()
    assert f"Bearer {token}" == harness.requests[0].headers["authorization"]


# --- B28: JWT-only tools hidden from anonymous sessions ---------------------

B28 = "B28-jwt-only-hidden"


def _b28() -> Harness:
    return Harness(
        B28,
        json_answer({}),
        credentials={"UserJwt": JwtForward(), "ShopKey": ApiKey(key="k-shop-321")},
        verification_secret=SECRET,
    )


def test_b28_anonymous_listing():
    """B28 session 1: anonymous sees listNews and searchCatalogue only."""
    harness = _b28()
    tools = harness.runtime.tools_for(harness.session())

    assert {"listNews", "searchCatalogue"} == {t.name for t in tools}
    described = " ".join(t.description for t in tools)
    assert "listMyOrders" not in described
    assert "getLoyaltyBalance" not in described


@pytest.mark.parametrize(
    "name", ["listMyOrders", "getLoyaltyBalance"], ids=["1-jwt-only", "2-jwt-and-key"]
)
def test_b28_anonymous_cannot_call_hidden_tools(name):
    """B28 session 1 calls 1, 2: hidden tools are refused by name, no request."""
    harness = _b28()

    with pytest.raises(NOT_CALLABLE):
        harness.call(name, {})

    assert [] == harness.requests


def test_b28_anonymous_search_uses_the_shop_key():
    """B28 session 1 call 3: searchCatalogue goes with the shop key only."""
    harness = _b28()

    assert harness.call("searchCatalogue", {}).ok

    assert [("GET", "https://api.example.test/catalogue")] == harness.sent()
    assert "k-shop-321" == harness.requests[0].headers.get("x-api-key")
    assert "authorization" not in harness.requests[0].headers


def test_b28_signed_in_listing():
    """B28 session 2: a signed-in user sees all four tools."""
    harness = _b28()
    session = harness.session(signed_jwt(user_claims(), SECRET))

    assert {
        "listNews",
        "listMyOrders",
        "searchCatalogue",
        "getLoyaltyBalance",
    } == harness.tool_names(session)


@pytest.mark.parametrize(
    ("name", "path", "bearer", "key"),
    [
        ("listMyOrders", "/me/orders", True, False),
        ("getLoyaltyBalance", "/me/loyalty", True, True),
        ("searchCatalogue", "/catalogue", True, False),
        ("listNews", "/news", False, False),
    ],
    ids=["1-orders", "2-loyalty", "3-catalogue-first-alternative", "4-news"],
)
def test_b28_signed_in_calls(name, path, bearer, key):
    """B28 session 2: each tool carries exactly the credentials it asks for."""
    token = signed_jwt(user_claims(), SECRET)
    harness = _b28()
    session = harness.session(token)

    assert harness.call(name, {}, session).ok

    assert [("GET", "https://api.example.test" + path)] == harness.sent()
    headers = harness.requests[0].headers
    assert (f"Bearer {token}" if bearer else None) == headers.get("authorization")
    assert ("k-shop-321" if key else None) == headers.get("x-api-key")


COVERED = {
    B01,
    B03,
    B05,
    B06,
    B08,
    B09,
    B12,
    B13,
    B16,
    B18,
    B19,
    B20,
    B22,
    B24,
    B26,
    B28,
}
