"""Parameter and multipart serialisation as OpenAPI 3.1's "Style Examples"
table spells it, checked on the exact bytes sent."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from _specs import spec

from ourguide_caller import InputValidationError, Integration, Runtime

ARRAY = {"type": "array", "items": {"type": "string"}}
OBJECT = {
    "type": "object",
    "properties": {
        "R": {"type": "integer"},
        "G": {"type": "integer"},
        "B": {"type": "integer"},
    },
}
COLORS = ["blue", "black", "brown"]
RGB = {"R": 100, "G": 200, "B": 150}


def get(path: str, *parameters: dict[str, Any], version: str = "3.0.3") -> Integration:
    """An integration whose one operation, `op`, takes `parameters`."""
    operation = {
        "operationId": "op",
        "parameters": list(parameters),
        "responses": {"200": {"description": "ok"}},
    }
    return Integration(spec({path: {"get": operation}}, openapi=version))


def post_multipart(
    schema: dict[str, Any], version: str = "3.0.3", **media: Any
) -> Integration:
    operation = {
        "operationId": "op",
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema, **media}},
        },
        "responses": {"200": {"description": "ok"}},
    }
    return Integration(spec({"/u": {"post": operation}}, openapi=version))


def color(where: str, schema: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "color", "in": where, "required": True, "schema": schema, **fields}


def send(integration: Integration, arguments: dict[str, Any]) -> httpx.Request:
    """The request one call of `op` sends (through a recording transport)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async def go() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with Runtime(integration, client=client) as runtime:
            await runtime.call(runtime.session(), "op", arguments)
        await client.aclose()

    asyncio.run(go())
    [request] = seen
    return request


def refused(integration: Integration, arguments: dict[str, Any]) -> Exception:
    """The error a call of `op` raises; nothing may have been sent."""
    seen: list[httpx.Request] = []

    async def go() -> None:
        transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
        client = httpx.AsyncClient(transport=transport)
        async with Runtime(integration, client=client) as runtime:
            await runtime.call(runtime.session(), "op", arguments)
        await client.aclose()

    with pytest.raises(InputValidationError) as caught:
        asyncio.run(go())
    assert [] == seen
    return caught.value


# --- 1. label and matrix -----------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "explode", "value", "expected"),
    [
        ("label", True, RGB, "/c/.R=100.G=200.B=150"),
        ("label", True, COLORS, "/c/.blue.black.brown"),
        ("label", False, RGB, "/c/.R,100,G,200,B,150"),
        ("label", False, COLORS, "/c/.blue,black,brown"),
        ("matrix", True, RGB, "/c/;R=100;G=200;B=150"),
        ("matrix", True, COLORS, "/c/;color=blue;color=black;color=brown"),
        ("matrix", False, RGB, "/c/;color=R,100,G,200,B,150"),
        ("matrix", False, COLORS, "/c/;color=blue,black,brown"),
        ("matrix", True, "blue", "/c/;color=blue"),
        ("simple", True, RGB, "/c/R=100,G=200,B=150"),
        ("simple", False, RGB, "/c/R,100,G,200,B,150"),
    ],
)
def test_label_and_matrix_path_styles(style, explode, value, expected):
    """Path values follow the style table, exploded objects included."""
    schema = OBJECT if isinstance(value, dict) else ARRAY
    schema = schema if not isinstance(value, str) else {"type": "string"}
    parameter = color("path", schema, style=style, explode=explode)

    request = send(get("/c/{color}", parameter), {"color": value})

    assert expected.encode() == request.url.raw_path


def test_label_explode_items_stay_encoded():
    """A `.` or `=` in an exploded label item cannot pass for a delimiter."""
    parameter = color("path", OBJECT, style="label", explode=True)
    parameter["schema"] = {"type": "object", "additionalProperties": True}

    request = send(get("/c/{color}", parameter), {"color": {"a/b": "x=y;z"}})

    assert b"/c/.a%2Fb=x%3Dy%3Bz" == request.url.raw_path


# --- 2. content: application/json --------------------------------------------------

FILTER = {"a": 1, "b": "x y"}
FILTER_JSON = '{"a":1,"b":"x y"}'


def json_parameter(name: str, where: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {}}}
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "content": {"application/json": {"schema": schema}},
    }


def test_json_content_parameters_are_json_everywhere():
    """`content: application/json` parameters are JSON text in the path (one
    encoded segment), query, header and cookie."""
    integration = get(
        "/c/{p}",
        json_parameter("p", "path"),
        json_parameter("q", "query"),
        json_parameter("X-Filter", "header"),
        json_parameter("ck", "cookie"),
    )

    request = send(
        integration, {"p": FILTER, "q": FILTER, "X-Filter": FILTER, "ck": FILTER}
    )

    encoded = b"%7B%22a%22%3A1%2C%22b%22%3A%22x%20y%22%7D"
    assert b"/c/" + encoded + b"?q=" + encoded.replace(b"%20", b"+") == (
        request.url.raw_path
    )
    assert FILTER_JSON == request.headers["x-filter"]
    assert "ck=" + FILTER_JSON == request.headers["cookie"]


def test_json_header_and_cookie_escape_what_they_cannot_carry():
    """Non-ASCII text is `\\u` escaped (still the same JSON value) and a `;`
    cannot end the cookie."""
    integration = get(
        "/c", json_parameter("X-Filter", "header"), json_parameter("ck", "cookie")
    )
    value = {"b": "café; admin=1"}

    request = send(integration, {"X-Filter": value, "ck": value})

    assert '{"b":"caf\\u00e9; admin=1"}' == request.headers["x-filter"]
    assert 'ck={"b":"caf\\u00e9\\u003b admin=1"}' == request.headers["cookie"]


# --- 3. null header and cookie values ----------------------------------------------


def test_null_optional_header_and_cookie_are_left_out():
    """A null optional header or cookie is not sent at all, as with queries."""
    nullable = {"type": ["string", "null"]}
    integration = get(
        "/c",
        {"name": "X-Opt", "in": "header", "schema": nullable},
        {"name": "ck", "in": "cookie", "schema": nullable},
        {"name": "other", "in": "cookie", "schema": nullable},
        version="3.1.0",
    )

    request = send(integration, {"X-Opt": None, "ck": None, "other": "kept"})

    assert "x-opt" not in request.headers
    assert "other=kept" == request.headers["cookie"]


# --- 4. joined query arrays --------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "value", "query"),
    [
        ("form", ["a,b", "c"], "color=a%2Cb,c"),
        ("form", ["a", "b", "c"], "color=a,b,c"),
        ("form", RGB, "color=R,100,G,200,B,150"),
        ("spaceDelimited", COLORS, "color=blue%20black%20brown"),
        ("spaceDelimited", ["a b", "c+d"], "color=a+b%20c%2Bd"),
        ("pipeDelimited", COLORS, "color=blue|black|brown"),
        ("pipeDelimited", ["a|b", "c,d"], "color=a%7Cb|c%2Cd"),
        ("form", ["&x=1", "#", "%41"], "color=%26x%3D1,%23,%2541"),
    ],
)
def test_joined_query_values_keep_the_delimiter_literal(style, value, query):
    """The delimiter goes literally; the same character inside an item stays
    percent-encoded, so the value splits back into its items."""
    schema = OBJECT if isinstance(value, dict) else ARRAY
    parameter = color("query", schema, style=style, explode=False)

    request = send(get("/c", parameter), {"color": value})

    assert b"/c?" + query.encode() == request.url.raw_path


def test_joined_query_values_with_allow_reserved():
    """allowReserved keeps reserved characters but not the delimiter inside an
    item, and never `& # = %`."""
    integration = get(
        "/c",
        color("query", ARRAY, explode=False, allowReserved=True),
        {
            "name": "q",
            "in": "query",
            "allowReserved": True,
            "schema": {"type": "string"},
        },
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
    )

    request = send(
        integration,
        {"color": ["x/y", "z,w", "a&b=#%"], "q": "a/b?c,d&e", "limit": 5},
    )

    assert (
        b"/c?limit=5&color=x/y,z%2Cw,a%26b%3D%23%25&q=a/b?c,d%26e"
        == request.url.raw_path
    )


@pytest.mark.parametrize("explode", [True, False])
def test_allow_reserved_encodes_what_changes_a_querys_meaning(explode):
    """`+` (a space to form decoders), `;`, `&`, `=` and `#` are encoded even
    under allowReserved, alone or in a joined array; `/`, `:` and `?` are not."""
    integration = get(
        "/c",
        {"name": "q", "in": "query", "allowReserved": True, "schema": {}},
        color("query", ARRAY, explode=explode, allowReserved=True),
    )

    request = send(integration, {"q": "a/b:c?x+y;z&k=v#f", "color": ["1+1"]})

    query = request.url.raw_path.split(b"?", 1)[1]
    assert b"q=a/b:c?x%2By%3Bz%26k%3Dv%23f" in query
    assert b"color=1%2B1" in query
    assert ("q", "a/b:c?x+y;z&k=v#f") in request.url.params.multi_items()


def test_joined_query_value_that_cannot_be_encoded_names_its_argument():
    """A lone surrogate in a joined value is the argument's problem."""
    parameter = color("query", ARRAY, explode=False)

    error = refused(get("/c", parameter), {"color": ["\ud800"]})

    assert ("/color",) == error.arguments


# --- 5. cookie objects -------------------------------------------------------------


@pytest.mark.parametrize(
    ("explode", "cookie"),
    [(True, "R=100; G=200; B=150"), (False, "color=R,100,G,200,B,150")],
)
def test_cookie_objects(explode, cookie):
    """An exploded form object is one cookie per property."""
    parameter = color("cookie", OBJECT, style="form", explode=explode)

    request = send(get("/c", parameter), {"color": RGB})

    assert cookie == request.headers["cookie"]


def test_exploded_cookie_property_that_is_no_cookie_name_is_refused():
    """A property name with `=` or a space cannot become a cookie name."""
    parameter = color("cookie", {"type": "object"}, style="form", explode=True)

    error = refused(get("/c", parameter), {"color": {"a=b c": "1"}})

    assert ("/color",) == error.arguments


# --- 6. multipart files ------------------------------------------------------------


def parts_of(request: httpx.Request) -> list[bytes]:
    """The body's parts, each its headers and content as sent."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    body = request.read()
    assert body.endswith(b"--" + boundary + b"--\r\n")
    chunks = body.split(b"--" + boundary)
    return [chunk.strip(b"\r\n") for chunk in chunks[1:-1]]


def test_multipart_file_arrays_byte_and_content_media_type():
    """Items of a binary array are file parts; `format: byte` is a text part;
    a `contentMediaType` field is a file part of that type."""
    schema = {
        "type": "object",
        "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "b64": {"type": "string", "format": "byte"},
            "photo": {"type": "string", "contentMediaType": "image/png"},
            "scans": {
                "type": "array",
                "items": {"type": "string", "contentMediaType": "application/pdf"},
            },
            "encoded": {
                "type": "string",
                "contentMediaType": "image/png",
                "contentEncoding": "base64",
            },
        },
    }
    integration = post_multipart(schema, version="3.1.0")

    request = send(
        integration,
        {
            "files": ["one", "two"],
            "b64": "aGVsbG8=",
            "photo": "PNG",
            "scans": ["pdf"],
            "encoded": "UE5H",
        },
    )

    disposition = b"Content-Disposition: form-data; "
    assert [
        disposition + b'name="files"; filename="files-1"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\none",
        disposition + b'name="files"; filename="files-2"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\ntwo",
        disposition + b'name="b64"\r\n\r\naGVsbG8=',
        disposition + b'name="photo"; filename="photo"\r\n'
        b"Content-Type: image/png\r\n\r\nPNG",
        disposition + b'name="scans"; filename="scans-1"\r\n'
        b"Content-Type: application/pdf\r\n\r\npdf",
        disposition + b'name="encoded"\r\n\r\nUE5H',
    ] == parts_of(request)


def test_content_media_type_ranges_are_sent_as_octet_stream():
    """`image/*` names no one type: the file part says application/octet-stream."""
    schema = {
        "type": "object",
        "properties": {"img": {"type": "string", "contentMediaType": "image/*"}},
    }

    request = send(post_multipart(schema, version="3.1.0"), {"img": "x"})

    assert [
        b'Content-Disposition: form-data; name="img"; filename="img"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nx"
    ] == parts_of(request)


def test_file_fields_are_described_to_the_model():
    """Array-of-file and contentMediaType fields say they take file content."""
    schema = {
        "type": "object",
        "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "photo": {"type": "string", "contentMediaType": "image/png"},
            "b64": {"type": "string", "format": "byte"},
        },
    }

    properties = (
        post_multipart(schema, version="3.1.0").tool("op").input_schema["properties"]
    )

    assert "one item per file" in properties["files"]["description"].lower()
    assert "file content" in properties["photo"]["description"].lower()
    assert "description" not in properties["b64"]


# --- 7. non-ASCII header values ----------------------------------------------------


def test_non_ascii_header_value_says_headers_are_ascii():
    """A header value with non-ASCII text is the argument's problem, and the
    model is told header values must be ASCII."""
    parameter = {"name": "X-Name", "in": "header", "schema": {"type": "string"}}

    error = refused(get("/c", parameter), {"X-Name": "café"})

    assert ("/X-Name",) == error.arguments
    assert "must be ASCII" in str(error)


def test_multipart_encoding_content_type_names_each_parts_type():
    """`encoding.<field>.contentType` is the part's Content-Type, file or not;
    of a list the first concrete type is used."""
    schema = {
        "type": "object",
        "properties": {
            "meta": {"type": "object", "properties": {"a": {"type": "integer"}}},
            "photo": {"type": "string", "format": "binary"},
        },
    }
    encoding = {
        "meta": {"contentType": "application/json"},
        "photo": {"contentType": "image/*, image/png"},
    }
    integration = post_multipart(schema, encoding=encoding)

    request = send(integration, {"meta": {"a": 1}, "photo": "PNG"})

    disposition = b"Content-Disposition: form-data; "
    assert [
        disposition + b'name="meta"\r\nContent-Type: application/json\r\n\r\n{"a":1}',
        disposition + b'name="photo"; filename="photo"\r\n'
        b"Content-Type: image/png\r\n\r\nPNG",
    ] == parts_of(request)
