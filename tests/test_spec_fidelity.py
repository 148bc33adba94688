"""Regressions for spec-to-call fidelity found by a second adversarial review."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
from _specs import spec

from ourguide_caller import ApiKey, Integration, Runtime


def post(operation_id: str, content: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "requestBody": {"required": True, "content": content},
            "responses": {"200": {"description": "ok"}},
            **fields,
        }
    }


def call(integration: Integration, name: str, arguments: dict[str, Any], **kw: Any):
    """One call through a recording transport: (request or None, outcome)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"echo": request.headers.get("authorization")})

    async def go() -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(answer), **kw)
        async with Runtime(integration, client=client) as runtime:
            try:
                return await runtime.call(runtime.session(), name, arguments)
            except Exception as exc:  # noqa: BLE001 (the outcome is checked)
                return exc
            finally:
                await client.aclose()

    outcome = asyncio.run(go())
    return (seen[0] if seen else None), outcome


def test_all_of_of_closed_objects_is_callable():
    """Two closed allOf members: the union of their properties is accepted."""
    schema = {
        "allOf": [
            {
                "type": "object",
                "properties": {"label": {"type": "string"}},
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"password": {"type": "string"}},
                "required": ["password"],
                "additionalProperties": False,
            },
        ]
    }
    integration = Integration(
        spec({"/c": post("create", {"application/json": {"schema": schema}})})
    )

    request, result = call(integration, "create", {"label": "x", "password": "p"})

    assert result.ok
    assert b'"password":"p"' in request.read().replace(b" ", b"")


def test_yaml_words_like_no_stay_strings_in_enums():
    """`enum: [SE, NO, DK]` keeps `NO` a string that can be sent."""
    text = """
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: https://api.example.test}]
paths:
  /c:
    get:
      operationId: byCountry
      parameters:
        - {name: country, in: query, schema: {type: string, enum: [SE, NO, DK]}}
        - {name: mode, in: query, schema: {type: string, enum: [on, off]}}
      responses: {'200': {description: ok}}
"""
    integration = Integration(text)

    request, result = call(integration, "byCountry", {"country": "NO", "mode": "off"})

    assert result.ok
    assert "NO" == request.url.params["country"]
    assert "off" == request.url.params["mode"]


def test_callers_client_credentials_are_never_sent():
    """A client with its own auth or Authorization header sends neither."""
    integration = Integration(
        spec(
            {
                "/c": {
                    "get": {
                        "operationId": "c",
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        )
    )

    for options in (
        {"auth": ("user", "CLIENT-SECRET")},
        {"headers": {"Authorization": "Bearer CLIENT-SECRET"}},
    ):
        request, result = call(integration, "c", {}, **options)

        assert "authorization" not in request.headers
        assert result.ok


def test_json_media_type_found_in_any_spelling():
    """`Application/JSON; charset=utf-8` after XML is still chosen as JSON."""
    object_schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    content = {
        "application/xml": {"schema": object_schema},
        "Application/JSON; charset=utf-8": {"schema": object_schema},
    }
    integration = Integration(spec({"/c": post("create", content)}))

    request, result = call(integration, "create", {"name": "ada"})

    assert result.ok
    assert "json" in request.headers["content-type"].lower()
    assert {"name": "ada"} == __import__("json").loads(request.read())


def test_form_fields_follow_their_encoding():
    """Arrays repeat by default, join when explode is false; nulls are omitted."""
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "note": {"type": "string", "nullable": True},
        },
    }
    content = {
        "application/x-www-form-urlencoded": {
            "schema": schema,
            "encoding": {"ids": {"style": "form", "explode": False}},
        }
    }
    integration = Integration(spec({"/c": post("create", content)}))

    request, _ = call(
        integration, "create", {"tags": ["a", "b"], "ids": [1, 2], "note": None}
    )

    form = httpx.QueryParams(request.read().decode())
    assert ["a", "b"] == form.get_list("tags")
    assert ["1,2"] == form.get_list("ids")
    assert "note" not in form


def test_multipart_arrays_are_repeated_parts():
    """Each item of a multipart array is its own part."""
    schema = {
        "type": "object",
        "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
        },
    }
    integration = Integration(
        spec({"/u": post("upload", {"multipart/form-data": {"schema": schema}})})
    )

    request, _ = call(integration, "upload", {"files": ["one", "two"]})

    body = request.read().decode()
    assert 2 == body.count('name="files"')
    assert '["one"' not in body


def test_nested_deep_object_query_uses_brackets():
    """deepObject values nest as `deep[b][c]=1`, not as JSON text."""
    parameters = [
        {
            "name": "deep",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {"type": "object"},
        }
    ]
    integration = Integration(
        spec(
            {
                "/q": {
                    "get": {
                        "operationId": "q",
                        "parameters": parameters,
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        )
    )

    request, _ = call(integration, "q", {"deep": {"b": {"c": 1}, "l": ["x", "y"]}})

    params = request.url.params
    assert "1" == params["deep[b][c]"]
    assert ["x", "y"] == [params["deep[l][0]"], params["deep[l][1]"]]


def test_lower_case_and_base64_echoes_are_redacted():
    """An echo in lower-case percent-encoding or base64 is redacted too."""
    key = "k+y/Secret=="
    integration = Integration(
        spec(
            {
                "/c": {
                    "get": {
                        "operationId": "c",
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        ),
        auth=ApiKey(key=key),
    )
    echoes = [
        "k%2by%2fSecret%3d%3d",
        base64.b64encode(key.encode()).decode(),
        "k+y/Secret==",
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=" | ".join(echoes))

    async def go() -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with Runtime(integration, client=client) as runtime:
            return await runtime.call(runtime.session(), "c", {})

    text = asyncio.run(go()).to_llm()

    assert all(echo not in text for echo in echoes)


def test_argument_names_stay_unique_when_a_parameter_looks_suffixed():
    """A query parameter named `id__path` does not collide with the path id."""
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "id__path", "in": "query", "schema": {"type": "integer"}},
    ]
    body = {
        "application/json": {
            "schema": {"type": "object", "properties": {"id": {"type": "string"}}}
        }
    }
    integration = Integration(spec({"/c/{id}": post("c", body, parameters=parameters)}))
    tool = integration.tool("c")

    names = [a.name for a in tool.arguments]
    request, result = call(
        integration, "c", {"id": "b", "id__path_2": "p", "id__path": 3}
    )

    assert len(names) == len(set(names))
    assert result.ok
    assert "/c/p" == request.url.path and "3" == request.url.params["id__path"]


def test_operation_id_keeps_its_name_against_a_derived_one():
    """An explicit operationId wins over a name derived from method and path."""
    ok = {"200": {"description": "ok"}}
    paths = {
        "/users": {"get": {"responses": ok}},
        "/accounts": {"get": {"operationId": "get_users", "responses": ok}},
    }

    names = {t.path: t.name for t in Integration(spec(paths)).tools}

    assert "get_users" == names["/accounts"]
    assert names["/users"].startswith("get_users_")


def test_overlapping_one_of_accepts_values_matching_several():
    """A value valid under two oneOf branches is accepted by the argument check."""
    schema = {
        "type": "object",
        "properties": {
            "config": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "object", "properties": {"a": {}}},
                ]
            }
        },
    }
    integration = Integration(
        spec({"/c": post("c", {"application/json": {"schema": schema}})})
    )

    _, result = call(integration, "c", {"config": {}})

    assert result.ok


def test_body_with_whole_object_keywords_stays_one_argument():
    """minProperties on a body keeps it whole, so it is still checked."""
    schema = {
        "type": "object",
        "minProperties": 1,
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
    }
    integration = Integration(
        spec({"/c": post("c", {"application/json": {"schema": schema}})})
    )

    assert ["body"] == list(integration.tool("c").input_schema["properties"])
