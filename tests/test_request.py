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
