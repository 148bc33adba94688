"""Spec -> tools: arguments, collisions, filters, hints, servers and bodies."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from ourguide_caller import (
    ConfigError,
    Integration,
    OperationFilter,
    Runtime,
    SpecError,
    UnknownToolError,
    load_spec,
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


# ------------------------------------------------------- findings of a review


def test_collision_suffix_keeps_argument_names_within_64_characters():
    """A long name in three locations stays provider-safe and maps back."""
    long = "a" * 60
    parameters = [
        {"name": long, "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": long, "in": "query", "schema": {"type": "string"}},
    ]
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {long: {"type": "string"}}}
            }
        }
    }
    path = "/x/{" + long + "}"
    integration = Integration(
        spec({path: {"post": op("x", parameters=parameters, requestBody=body)}})
    )
    names = list(integration.tool("x").input_schema["properties"])

    assert len(set(names)) == 3
    assert all(re.fullmatch(r"[a-zA-Z0-9_.-]{1,64}", n) for n in names), names
    path_name = next(n for n in names if n.endswith("__path"))
    query_name = next(n for n in names if n.endswith("__query"))
    [request] = record(
        integration, [("x", {long: "b", path_name: "p", query_name: "q"})]
    )
    assert request.url.path == "/v1/x/p"
    assert request.url.params[long] == "q"
    assert json.loads(request.content) == {long: "b"}


def test_unsendable_parameter_names_are_left_out_or_skip_the_operation():
    optional = {"name": "X Trace", "in": "header", "schema": {"type": "string"}}
    required = {**optional, "name": "X:Id", "required": True}
    empty_query = {"name": "", "in": "query", "schema": {"type": "string"}}
    integration = Integration(
        spec(
            {
                "/a": {"get": op("a", parameters=[optional, empty_query])},
                "/b": {"get": op("b", parameters=[required])},
            }
        )
    )

    assert integration.tool("a").input_schema["properties"] == {}
    [notes] = [o.notes for o in integration.report.operations if o.path == "/a"]
    assert any("'X Trace' is left out" in n for n in notes)
    assert any("query parameter '' is left out" in n for n in notes)
    skipped = [o for o in integration.report.operations if o.skipped]
    assert [o.path for o in skipped] == ["/b"]
    assert "'X:Id'" in skipped[0].skipped


def test_declared_path_parameter_missing_from_the_template_is_left_out():
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    integration = Integration(
        spec({"/items/{itemId}": {"get": op("g", parameters=parameters)}})
    )
    tool = integration.tool("g")

    assert tool.input_schema["required"] == ["itemId"]
    assert "id" not in tool.input_schema["properties"]
    assert any(
        "'id' is not in the path" in n for n in integration.report.operations[0].notes
    )
    [request] = record(integration, [("g", {"itemId": "7"})])
    assert request.url.path == "/v1/items/7"


def test_flags_written_as_strings_are_read_as_booleans():
    paths = {
        "/a": {"get": op("a", deprecated="true")},
        "/b": {"post": op("b", **{"x-openai-isConsequential": "false"})},
        "/c": {"get": op("c", **{"x-openai-isConsequential": "maybe"})},
    }
    integration = Integration(spec(paths))

    assert [t.name for t in integration.tools] == ["b", "c"]
    assert integration.tool("b").consequential is False
    assert integration.tool("c").consequential is True


def test_filter_criteria_given_as_one_string_mean_that_one_value():
    paths = {
        "/g": {"get": op("g", tags=["orders"])},
        "/getUser": {"get": op("getUser", tags=["users"])},
    }
    by_id = Integration(spec(paths), operations=OperationFilter(operation_ids="g"))
    by_tag = Integration(spec(paths), operations=OperationFilter(tags="orders"))

    assert [t.name for t in by_id.tools] == ["g"]
    assert [t.name for t in by_tag.tools] == ["g"]


def test_method_keys_outside_openapi_are_read_or_reported():
    item = {
        "GET": op("upper"),
        "query": op("search"),
        "paramters": [],
    }
    integration = Integration(spec({"/a": item}))

    assert [t.name for t in integration.tools] == ["upper"]
    assert any("'GET' is read as 'get'" in w for w in integration.report.warnings)
    assert any("'paramters' is not a field" in w for w in integration.report.warnings)
    [query] = [o for o in integration.report.operations if o.method == "QUERY"]
    assert "3.2" in query.skipped


def test_body_in_a_format_the_runtime_cannot_write_is_given_as_text():
    xml_body = {
        "content": {
            "application/xml": {
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}}
            }
        }
    }
    integration = Integration(spec({"/x": {"post": op("x", requestBody=xml_body)}}))
    tool = integration.tool("x")

    assert tool.input_schema["properties"]["body"]["type"] == "string"
    assert any("application/xml" in n for n in integration.report.operations[0].notes)
    [request] = record(integration, [("x", {"body": "<a>1</a>"})])
    assert request.content == b"<a>1</a>"
    assert request.headers["content-type"] == "application/xml"


def test_operation_id_that_is_not_a_string_is_noted_and_replaced():
    integration = Integration(spec({"/a": {"get": op("x", operationId={"x": 1})}}))

    assert [t.name for t in integration.tools] == ["get_a"]
    assert "not a string" in integration.report.operations[0].notes[0]


@pytest.mark.parametrize("paths", [[], "abc", 3])
def test_paths_that_are_not_an_object_are_a_spec_error(paths):
    with pytest.raises(SpecError, match="`paths` must be an object"):
        Integration(spec(paths))


def test_an_encoding_that_is_not_an_object_is_noted_and_ignored():
    """`encoding: [1]` on a multipart body builds the tool and says why."""
    body = {
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"f": {"type": "string"}}},
                "encoding": [1],
            }
        }
    }
    integration = Integration(spec({"/up": {"post": op("up", requestBody=body)}}))

    (entry,) = integration.report.operations

    assert ["f"] == list(integration.tool("up").input_schema["properties"])
    assert any("encoding is not an object" in note for note in entry.notes)


def test_an_unpaired_brace_in_a_path_asks_for_no_argument():
    """`/a/{x` names no variable: nothing is asked that would be thrown away."""
    integration = Integration(spec({"/a/{x": {"get": op("a")}}))

    (entry,) = integration.report.operations

    assert {} == integration.tool("a").input_schema["properties"]
    assert any("brace without its pair" in note for note in entry.notes)


@pytest.mark.parametrize("said", ["false", "no", 0])
def test_flags_written_as_words_or_numbers_are_read(said):
    """`required: "false"` is not required; `explode: "no"` joins the array."""
    parameter = {
        "name": "ids",
        "in": "query",
        "required": said,
        "explode": said,
        "schema": {"type": "array", "items": {"type": "string"}},
    }
    integration = Integration(spec({"/a": {"get": op("a", parameters=[parameter])}}))

    (request,) = record(integration, [("a", {"ids": ["x", "y"]})])

    assert [] == integration.tool("a").input_schema.get("required", [])
    assert "ids=x,y" == request.url.query.decode()


@pytest.mark.parametrize("said", ["yes", 1, "True"])
def test_deprecated_written_as_a_word_or_number_is_left_out(said):
    """`deprecated: "yes"` is deprecated, so the default filter leaves it out."""
    paths = {"/a": {"get": op("a", deprecated=said), "post": op("b")}}

    integration = Integration(spec(paths))

    assert ["b"] == [tool.name for tool in integration.tools]


def test_an_unknown_tool_name_offers_the_close_ones():
    """A misspelt tool name is answered with the names it was likely meant as."""
    integration = Integration(spec({"/o": {"get": op("getOrder"), "post": op("x")}}))

    with pytest.raises(UnknownToolError) as caught:
        integration.tool("getOrdr")

    assert "Did you mean 'getOrder'?" in caught.value.llm_message
    assert "'x'" not in caught.value.llm_message


def test_a_bad_spec_location_beside_a_loaded_spec_is_a_config_error():
    """The location is checked when the spec comes already loaded, too."""
    loaded = load_spec(spec({"/o": {"get": op("getOrder")}}))

    with pytest.raises(ConfigError) as caught:
        Integration(loaded, spec_location="http://[::1")

    assert "spec_location" == caught.value.setting


@pytest.mark.parametrize("level", ["document", "operation"])
def test_one_server_written_without_its_list_is_read(level):
    """`servers: {url: ...}` is one server: used, and noted."""
    server = {"url": "https://other.example.test/v2"}
    operation = op("a", servers=server) if level == "operation" else op("a")
    document = spec({"/a": {"get": operation}})
    if level == "document":
        document["servers"] = server

    integration = Integration(document)

    assert "https://other.example.test/v2" == integration.tool("a").base_url
    assert any("one server, not a list" in w for w in integration.report.warnings)


def test_servers_of_the_wrong_kind_say_so_when_calls_have_nowhere_to_go():
    """`servers: "https://..."` is not taken for a missing servers list."""
    document = spec({"/a": {"get": op("a")}}, servers="https://api.example.test")

    integration = Integration(document)

    assert integration.tool("a").base_url is None
    assert any("#/servers is str" in w for w in integration.report.warnings)
