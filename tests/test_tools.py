"""Spec -> tools: arguments, collisions, filters, hints, servers and bodies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from ourguide_caller import (
    ConfigError,
    Integration,
    OperationFilter,
    Runtime,
)


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.test/v1"}],
        "paths": paths,
    }
    document.update(extra)
    return document


def op(operation_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "responses": {"200": {"description": "ok"}},
        **fields,
    }


def record(integration: Integration, calls: list[tuple[str, dict[str, Any]]]):
    """Run the calls through a recording transport; return the requests."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async def run() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with Runtime(integration, client=client) as runtime:
            for name, arguments in calls:
                await runtime.call(runtime.session(), name, arguments)
        await client.aclose()

    asyncio.run(run())
    return seen


def test_same_name_in_query_and_header_both_kept():
    """A name used in two locations gives two arguments, each mapped back."""
    parameters = [
        {"name": "trace", "in": "query", "schema": {"type": "string"}},
        {"name": "trace", "in": "header", "schema": {"type": "string"}},
    ]
    integration = Integration(spec({"/a": {"get": op("a", parameters=parameters)}}))
    tool = integration.tool("a")

    assert {"trace", "trace__header"} == set(tool.input_schema["properties"])
    [request] = record(integration, [("a", {"trace": "q", "trace__header": "h"})])
    assert "q" == request.url.params["trace"]
    assert "h" == request.headers["trace"]
    renamed = integration.report.operations[0].renamed_arguments
    assert [("header 'trace'", "trace__header")] == list(renamed)


def test_filter_by_tag_method_path_and_deprecated():
    """Filters keep what matches and report the rest with a reason."""
    paths = {
        "/orders": {"get": op("listOrders", tags=["orders"])},
        "/orders/{id}": {
            "delete": op("deleteOrder", tags=["orders"]),
            "get": op("getOrder", tags=["orders"], deprecated=True),
        },
        "/admin/users": {"get": op("listUsers", tags=["admin"])},
    }

    default = Integration(spec(paths))
    chosen = Integration(
        spec(paths), operations=OperationFilter(tags={"orders"}, methods={"GET"})
    )
    no_admin = Integration(
        spec(paths), operations=OperationFilter(exclude_paths={"/admin/*"})
    )

    assert {"listOrders", "deleteOrder", "listUsers"} == {t.name for t in default.tools}
    assert ["listOrders"] == [t.name for t in chosen.tools]
    assert {"listOrders", "deleteOrder"} == {t.name for t in no_admin.tools}
    reasons = {op.path + " " + op.method: op.filtered for op in default.report.filtered}
    assert "deprecated" in reasons["/orders/{id} GET"]
    assert 0 == len(default.report.skipped)


def test_side_effect_hints():
    """GET is read-only, DELETE destructive, and the spec's own flag wins."""
    paths = {
        "/a": {
            "get": op("read"),
            "delete": op("remove"),
            "post": op("notify", **{"x-openai-isConsequential": False}),
        }
    }
    tools = {t.name: t for t in Integration(spec(paths)).tools}

    assert tools["read"].read_only and not tools["read"].consequential
    assert tools["remove"].destructive and tools["remove"].consequential
    assert not tools["notify"].consequential


def test_allow_reserved_keeps_reserved_characters_but_never_ampersand():
    """allowReserved values keep `/` and `:`; `&` and `#` stay encoded."""
    parameters = [
        {
            "name": "path",
            "in": "query",
            "allowReserved": True,
            "schema": {"type": "string"},
        },
        {"name": "plain", "in": "query", "schema": {"type": "string"}},
    ]
    integration = Integration(
        spec({"/files": {"get": op("files", parameters=parameters)}})
    )

    [request] = record(
        integration, [("files", {"path": "/a/b:c&x=1#f", "plain": "/a"})]
    )

    query = request.url.query.decode()
    assert "path=/a/b:c%26x%3D1%23f" in query
    assert "plain=%2Fa" in query
    assert "/a/b:c&x=1#f" == request.url.params["path"]


def test_multipart_file_field_takes_text():
    """A binary multipart field is sent as a file part with the given text."""
    body = {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {"type": "string"},
                    },
                    "required": ["file"],
                }
            }
        },
        "required": True,
    }
    integration = Integration(
        spec({"/upload": {"post": op("upload", requestBody=body)}})
    )
    schema = integration.tool("upload").input_schema

    [request] = record(integration, [("upload", {"file": "hello", "purpose": "x"})])

    assert "as text" in schema["properties"]["file"]["description"]
    content = request.read().decode()
    assert 'name="file"; filename="file"' in content
    assert "hello" in content
    assert request.headers["content-type"].startswith("multipart/form-data")


def test_form_body_nested_values_use_brackets():
    """Form bodies send nested objects and lists in bracket notation."""
    body = {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "metadata": {"type": "object"},
                        "items": {"type": "array"},
                    },
                }
            }
        }
    }
    integration = Integration(spec({"/c": {"post": op("create", requestBody=body)}}))

    [request] = record(
        integration, [("create", {"metadata": {"k": "v"}, "items": [{"price": "p1"}]})]
    )

    form = httpx.QueryParams(request.read().decode())
    assert "v" == form["metadata[k]"]
    assert "p1" == form["items[0][price]"]


def test_whole_body_when_not_an_object():
    """An array body is carried whole by the `body` argument."""
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "integer"}}
            }
        },
        "required": True,
    }
    integration = Integration(spec({"/n": {"put": op("put", requestBody=body)}}))

    [request] = record(integration, [("put", {"body": [1, 2]})])

    assert ["body"] == integration.tool("put").input_schema["required"]
    assert [1, 2] == json.loads(request.read())


def test_operation_and_path_servers_win_over_document_servers():
    """Operation servers win over path-item servers, which win over the document's."""
    paths = {
        "/a": {
            "servers": [{"url": "https://path.example.test"}],
            "get": op("pathLevel"),
            "post": op("opLevel", servers=[{"url": "https://op.example.test/x"}]),
        },
        "/b": {"get": op("docLevel")},
    }
    tools = {t.name: t for t in Integration(spec(paths)).tools}

    assert "https://path.example.test" == tools["pathLevel"].base_url
    assert "https://op.example.test/x" == tools["opLevel"].base_url
    assert "https://api.example.test/v1" == tools["docLevel"].base_url


def test_undeclared_server_variable_needs_a_value():
    """A template variable the server does not declare must be configured."""
    document = spec(
        {"/s": {"get": op("sync")}},
        servers=[{"url": "https://device.example.test/{merchant}/v1"}],
    )

    unset = Integration(document)
    configured = Integration(document, server_variables={"merchant": "m-1"})

    assert unset.tool("sync").base_url is None
    assert any("merchant" in w for w in unset.report.warnings)
    assert "https://device.example.test/m-1/v1" == configured.tool("sync").base_url


def test_calling_without_a_base_url_is_a_config_error_before_sending():
    """No servers and no base_url: the call fails with advice, nothing sent."""
    document = spec({"/s": {"get": op("status")}})
    del document["servers"]
    integration = Integration(document)

    with pytest.raises(ConfigError, match="base_url"):
        record(integration, [("status", {})])


def test_placeholder_hosts_are_reported():
    """A vendor placeholder host in servers gives a warning in the report."""
    document = spec(
        {"/s": {"get": op("status")}},
        servers=[
            {
                "url": "https://{sub}.yourOktaDomain.okta.com",
                "variables": {"sub": {"default": "x"}},
            }
        ],
    )

    integration = Integration(document)

    assert any("placeholder" in w for w in integration.report.warnings)
    assert [] == Integration(document, base_url="https://acme.okta.com").report.warnings


def test_non_url_server_is_a_config_error():
    """A server like `<local-terminal-IP-address>` is refused, not called."""
    document = spec(
        {"/s": {"get": op("status")}},
        servers=[{"url": "https://<local-terminal-IP-address>:8443/nexo"}],
    )

    integration = Integration(document)

    assert integration.tool("status").base_url is None
    assert any("placeholder" in w for w in integration.report.warnings)


def test_relative_server_resolves_against_spec_location():
    """A relative server URL resolves against the URL the spec came from."""
    document = spec({"/s": {"get": op("status")}}, servers=[{"url": "/api/v31"}])

    integration = Integration(
        document, spec_location="https://pets.example.test/openapi.json"
    )

    assert "https://pets.example.test/api/v31" == integration.tool("status").base_url


def test_report_is_printable_and_structured():
    """The build report lists every operation in text and as a dict."""
    paths = {"/a": {"get": op("a")}, "/b": {"get": op("b", deprecated=True)}}
    report = Integration(spec(paths)).report

    text = str(report)
    data = report.as_dict()

    assert "GET     /a -> a" in text
    assert "left out" in text
    assert 1 == data["tools"] and 1 == data["filtered"]
