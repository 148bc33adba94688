"""Arguments as the runtime reads them before sending: nulls that mean "not
given", and bodies kept whole, encoded exactly as bodies spread into
arguments."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from _specs import spec

from ourguide_caller import InputValidationError, Integration, Runtime


def operation(**fields: Any) -> dict[str, Any]:
    return {"operationId": "op", "responses": {"200": {"description": "ok"}}, **fields}


def with_body(schema: Any, media_type: str = "application/json", **media: Any):
    body = {"required": True, "content": {media_type: {"schema": schema, **media}}}
    return Integration(spec({"/o": {"post": operation(requestBody=body)}}))


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


def refused(integration: Integration, arguments: dict[str, Any]) -> list[str]:
    """The arguments a call of `op` is refused for; nothing may be sent."""
    transport = httpx.MockTransport(lambda r: pytest.fail("sent"))

    async def go() -> None:
        client = httpx.AsyncClient(transport=transport)
        async with Runtime(integration, client=client) as runtime:
            await runtime.call(runtime.session(), "op", arguments)
        await client.aclose()

    with pytest.raises(InputValidationError) as caught:
        asyncio.run(go())
    return list(caught.value.arguments)


# --- null for an optional argument ---------------------------------------------


PARAMETERS = [
    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}},
    {"name": "status", "in": "query", "schema": {"enum": ["a", "b"]}},
    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
    {"name": "must", "in": "query", "required": True, "schema": {"type": "string"}},
]
GET = Integration(spec({"/o/{id}": {"get": operation(parameters=PARAMETERS)}}))


def test_null_for_optional_parameters_means_left_out():
    """An optional parameter whose schema refuses null is left out for null."""
    arguments = {"id": "1", "must": "m", "limit": None, "status": None}

    request = send(GET, {**arguments, "X-Trace": None})

    assert b"/o/1?must=m" == request.url.raw_path
    assert "x-trace" not in request.headers


def test_null_for_a_required_argument_stays_an_error():
    """A required null is refused, and only it, beside an optional one."""
    arguments = {"id": "1", "must": None, "limit": None}

    assert ["/must"] == refused(GET, arguments)


def test_other_problems_are_told_without_the_nulls_left_out():
    arguments = {"id": "1", "must": "m", "limit": 99, "status": None}

    assert ["/limit"] == refused(GET, arguments)


BODY = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "note": {"type": "string"},
        "parent": {"type": "string", "nullable": True},
    },
}


def test_null_for_optional_body_properties():
    """Left out where the schema refuses null; sent as null where it allows it
    (a PATCH may mean to clear the field)."""
    request = send(with_body(BODY), {"name": "n", "note": None, "parent": None})

    assert {"name": "n", "parent": None} == json.loads(request.content)


def test_null_for_optional_properties_of_a_whole_body():
    """A body kept whole (minProperties) gets the same reading one level down."""
    whole = with_body({**BODY, "minProperties": 1})

    request = send(whole, {"body": {"name": "n", "note": None}})

    assert {"name": "n"} == json.loads(request.content)
    assert ["/body/name"] == refused(whole, {"body": {"name": None}})


def test_null_for_a_required_whole_body_is_refused():
    """A whole body that is an array (or a union) may not be null; the null is
    told to the model, not a crash."""
    listed = with_body({"type": "array", "items": {"type": "string"}})
    union = with_body({"oneOf": [{"type": "string"}, {"type": "integer"}]})

    assert ["/body"] == refused(listed, {"body": None})
    assert ["/body"] == refused(union, {"body": None})


def test_nulls_of_a_merge_patch_follow_the_schema():
    """A null the schema refuses means "not given", in a merge patch too: a
    model that fills every field with null must not erase them. Where the
    schema allows null (`nullable`), the null is sent and clears the field."""
    patch = with_body(BODY, "application/merge-patch+json")

    request = send(patch, {"name": "n", "parent": None, "note": None})

    assert {"name": "n", "parent": None} == json.loads(request.content)


def test_an_optional_body_with_required_properties_is_all_or_nothing():
    """Kept whole as an optional `body`: left out, nothing is sent; given,
    its required properties must be there (a null for one is not "left out")."""
    optional = Integration(
        spec(
            {
                "/o": {
                    "post": operation(
                        requestBody={"content": {"application/json": {"schema": BODY}}}
                    )
                }
            }
        )
    )

    assert b"" == send(optional, {}).content
    assert ["/body/name"] == refused(optional, {"body": {"note": "n"}})
    assert ["/body/name"] == refused(optional, {"body": {"name": None}})
    assert {"name": "n"} == json.loads(send(optional, {"body": {"name": "n"}}).content)


def test_null_for_an_optional_property_of_a_union_body():
    """A oneOf body tells its errors at the body, not at the null: the null
    is left out all the same when that makes the body valid."""
    card = {
        "type": "object",
        "required": ["card"],
        "properties": {"card": {"type": "string"}, "note": {"type": "string"}},
    }
    bank = {
        "type": "object",
        "required": ["iban"],
        "properties": {"iban": {"type": "string"}},
    }
    union = with_body({"oneOf": [card, bank]})

    request = send(union, {"body": {"card": "4242", "note": None}})

    assert {"card": "4242"} == json.loads(request.content)
    assert ["/body"] == refused(union, {"body": {"card": None}})


def test_null_for_a_required_body_that_allows_it_is_sent_as_null():
    nullable = with_body({"type": "array", "items": {}, "nullable": True})

    request = send(nullable, {"body": None})

    assert (b"null", "application/json") == (
        request.content,
        request.headers["content-type"],
    )


# --- form and multipart bodies kept whole ------------------------------------------


FIELDS = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "scans": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "meta": {"type": "object", "properties": {"a": {"type": "integer"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
# Each keeps the body one argument, `body`.
WHOLE = {
    "additionalProperties": {**FIELDS, "additionalProperties": True},
    "minProperties": {**FIELDS, "minProperties": 1},
    "allOf": {"allOf": [FIELDS, {"not": {"required": ["forbidden"]}}]},
}
ENCODING = {
    "meta": {"contentType": "application/json"},
    "tags": {"style": "form", "explode": False},
}
VALUES = {"file": "F", "scans": ["s1", "s2"], "meta": {"a": 1}, "tags": ["a", "b"]}


def parts_of(request: httpx.Request) -> list[bytes]:
    """A multipart body's parts, each its headers and content as sent."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    chunks = request.read().split(b"--" + boundary)
    return [chunk.strip(b"\r\n") for chunk in chunks[1:-1]]


@pytest.mark.parametrize("kind", WHOLE)
def test_a_multipart_body_kept_whole_is_encoded_as_one_spread(kind):
    """File parts, `encoding.contentType` and the model's description are the
    same whether the body's fields are arguments or one `body` argument."""
    spread = with_body(FIELDS, "multipart/form-data", encoding=ENCODING)
    whole = with_body(WHOLE[kind], "multipart/form-data", encoding=ENCODING)

    expected = parts_of(send(spread, VALUES))
    sent = parts_of(send(whole, {"body": VALUES}))

    assert ["body"] == list(whole.tool("op").input_schema["properties"])
    assert expected == sent
    assert b'name="file"; filename="file"' in sent[0]
    assert b"Content-Type: application/json" in sent[3]
    body_schema = whole.tool("op").input_schema["properties"]["body"]
    if "properties" in body_schema:
        described = body_schema["properties"]["file"]["description"]
        assert "file part" in described


@pytest.mark.parametrize("kind", WHOLE)
def test_a_form_body_kept_whole_follows_its_encoding(kind):
    """`explode: false` joins an array in a urlencoded body kept whole too."""
    media = "application/x-www-form-urlencoded"
    spread = with_body(FIELDS, media, encoding=ENCODING)
    whole = with_body(WHOLE[kind], media, encoding=ENCODING)
    values = {"meta": {"a": 1}, "tags": ["a", "b"]}

    expected = send(spread, values).content
    sent = send(whole, {"body": values}).content

    assert expected == sent
    assert b"meta%5Ba%5D=1&tags=a%2Cb" == sent


def test_a_multipart_body_whose_schema_is_no_object_takes_fields():
    """A multipart body is named fields with a boundary only the runtime can
    write: a string schema is read as an object of fields, and noted."""
    integration = with_body({"type": "string"}, "multipart/form-data")

    request = send(integration, {"body": {"note": "n"}})

    assert [b'Content-Disposition: form-data; name="note"\r\n\r\nn'] == parts_of(
        request
    )
    [note] = integration.report.operations[0].notes
    assert "not an object; the model gives the fields as an object" in note
    assert ["/body"] == refused(integration, {"body": "raw text"})


def test_a_urlencoded_body_whose_schema_is_a_string_is_sent_as_written():
    """`a=1&b=2` is a urlencoded body as it stands: sent with its type."""
    integration = with_body({"type": "string"}, "application/x-www-form-urlencoded")

    request = send(integration, {"body": "a=1&b=2"})

    assert b"a=1&b=2" == request.content
    assert "application/x-www-form-urlencoded" == request.headers["content-type"]
    assert ["/body"] == refused(
        with_body({"type": "array"}, "application/x-www-form-urlencoded"),
        {"body": ["a"]},
    )
