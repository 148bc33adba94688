"""Exports for OpenAI, Anthropic and MCP follow each provider's rules.

Tools come from small inline specs; what an export had to change is checked
both in the `changes` list and in the one warning it logs. The last test runs
every export over the Stripe and Cloudflare specs when they are present.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
import time
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from ourguide_caller import Integration, Tool
from ourguide_caller._export import (
    ExportChange,
    drop_strict_nulls,
    to_anthropic,
    to_mcp,
    to_openai,
)

BASE_URL = "https://api.example.test"
LOGGER = "ourguide_caller._export"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"

OPENAI_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ANTHROPIC_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ANTHROPIC_PROPERTY = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
MCP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")

# What OpenAI's strict mode takes (Structured Outputs, "Supported schemas").
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "description",
        "title",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
STRICT_FORMATS = frozenset(
    {
        "date-time",
        "time",
        "date",
        "duration",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "uuid",
    }
)


# -- helpers -------------------------------------------------------------------


def _operation(operation_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "responses": {"200": {"description": "ok"}},
        **extra,
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": schema}},
    }


def _tools(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> list[Tool]:
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Test API", "version": "1"},
        "paths": paths,
    }
    if schemas:
        spec["components"] = {"schemas": schemas}
    return Integration(spec, base_url=BASE_URL).tools


def _posting(
    schema: dict[str, Any],
    schemas: dict[str, Any] | None = None,
    operation_id: str = "makeThing",
) -> Tool:
    """The one tool of a spec whose only operation posts `schema`."""
    operation = _operation(operation_id, requestBody=_body(schema))
    paths = {"/things": {"post": operation}}
    (tool,) = _tools(paths, schemas)
    return tool


def _shop_tools() -> list[Tool]:
    """A read, a write and a delete, with path, query and body arguments."""
    item = {
        "get": _operation(
            "getThing",
            summary="Get a thing",
            parameters=[
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {"name": "fields", "in": "query", "schema": {"type": "array"}},
            ],
        ),
        "delete": _operation(
            "deleteThing",
            summary="Delete a thing",
            parameters=[
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
        ),
    }
    create = {
        "post": _operation(
            "makeThing",
            summary="Make a thing",
            description="Makes a thing from a name.",
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 40},
                        "note": {"type": "string"},
                    },
                }
            ),
        )
    }
    return _tools({"/things/{id}": item, "/things": create})


def _strict_problems(schema: dict[str, Any]) -> list[str]:
    """Every way `schema` breaks the strict-mode rules the export implements."""
    problems: list[str] = []
    defs = schema.get("$defs", {})
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("/: the root is not a plain object schema")

    def visit(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path}: {node!r} is not a schema object")
            return
        unknown = set(node) - STRICT_KEYWORDS
        if unknown:
            problems.append(f"{path}: keywords {sorted(unknown)}")
        if "$defs" in node and path:
            problems.append(f"{path}: $defs below the top level")
        if "$ref" in node:
            ref = node["$ref"]
            if set(node) != {"$ref"}:
                problems.append(f"{path}: keywords beside $ref")
            if ref != "#" and ref.removeprefix("#/$defs/") not in defs:
                problems.append(f"{path}: dangling $ref {ref}")
            return
        if not {"type", "anyOf", "enum", "const"} & set(node):
            problems.append(f"{path}: no type")
        if "anyOf" in node and set(node) - {"anyOf", "description", "title"}:
            problems.append(f"{path}: keywords beside anyOf")

        kind = node.get("type", [])
        kinds = [kind] if isinstance(kind, str) else kind
        if "object" in kinds:
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties is not false")
            if sorted(node.get("required", [])) != sorted(node.get("properties", {})):
                problems.append(f"{path}: not every property is required")
        if "array" in kinds and "items" not in node:
            problems.append(f"{path}: array without items")
        if "format" in node and node["format"] not in STRICT_FORMATS:
            problems.append(f"{path}: format {node['format']!r}")

        for name, sub in node.get("properties", {}).items():
            visit(sub, f"{path}/properties/{name}")
        if "items" in node:
            visit(node["items"], f"{path}/items")
        for index, branch in enumerate(node.get("anyOf", [])):
            visit(branch, f"{path}/anyOf/{index}")

    visit(schema, "")
    for name, body in defs.items():
        visit(body, f"/$defs/{name}")
    return problems


def _meta_valid(schema: dict[str, Any]) -> None:
    jsonschema_rs.meta.validate({"$schema": DRAFT_2020_12, **schema})


def _schemas(tools: list[Tool]) -> list[dict[str, Any]]:
    """Every schema every export (strict included) makes of `tools`."""
    found = [e["function"]["parameters"] for e in to_openai(tools, max_tools=None)]
    strict = to_openai(tools, strict=True, max_tools=None)
    found += [e["function"]["parameters"] for e in strict]
    found += [e["input_schema"] for e in to_anthropic(tools)]
    found += [e["inputSchema"] for e in to_mcp(tools)]
    return found


def _export_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING
    ]


# -- shapes ----------------------------------------------------------------------


def test_openai_entries_are_chat_completions_function_tools():
    """Each OpenAI entry is a function tool with name, description and parameters."""
    exported = to_openai(_shop_tools())

    assert ["getThing", "deleteThing", "makeThing"] == [
        e["function"]["name"] for e in exported
    ]
    for entry in exported:
        assert "function" == entry["type"]
        assert {"name", "description", "parameters"} == set(entry["function"])
        assert "object" == entry["function"]["parameters"]["type"]


def test_anthropic_entries_carry_an_object_input_schema():
    """Each Anthropic entry has name, description and an object input_schema."""
    exported = to_anthropic(_shop_tools())

    for entry in exported:
        assert {"name", "description", "input_schema"} == set(entry)
        assert "object" == entry["input_schema"]["type"]
    assert ["name"] == exported[2]["input_schema"]["required"]


def test_mcp_entries_carry_behaviour_hints_and_a_title():
    """MCP entries have inputSchema, hints and the summary as title."""
    by_name = {e["name"]: e for e in to_mcp(_shop_tools())}

    for entry in by_name.values():
        assert {"name", "description", "inputSchema", "annotations"} == set(entry)
        assert "object" == entry["inputSchema"]["type"]
    assert {
        "title": "Get a thing",
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": True,
    } == by_name["getThing"]["annotations"]
    assert "Make a thing" == by_name["makeThing"]["annotations"]["title"]
    assert by_name["deleteThing"]["annotations"]["destructiveHint"] is True
    assert by_name["makeThing"]["annotations"]["idempotentHint"] is False


def test_openai_array_without_items_gets_an_empty_items_schema():
    """OpenAI refuses an array schema without items, so `items: {}` is added."""
    (get_thing, *_) = _shop_tools()
    exported = to_openai([get_thing])

    fields = exported[0]["function"]["parameters"]["properties"]["fields"]
    assert {} == fields["items"]
    assert "items" not in get_thing.input_schema["properties"]["fields"]


def test_a_compliant_export_records_and_logs_nothing(caplog: pytest.LogCaptureFixture):
    """Tools that already follow the rules come out without changes or a warning."""
    changes: list[ExportChange] = []
    tools = _shop_tools()[1:]

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        to_openai(tools, changes=changes)
        to_anthropic(tools, changes=changes)
        to_mcp(tools, changes=changes)

    assert [] == changes
    assert [] == _export_warnings(caplog)


# -- descriptions and limits -----------------------------------------------------


def test_openai_description_is_cut_at_1024_and_said_once(
    caplog: pytest.LogCaptureFixture,
):
    """A 1,840-character description is cut to 1,024, recorded and logged once."""
    paths = {"/things": {"get": _operation("listThings", description="x" * 1840)}}
    tools = _tools(paths)
    changes: list[ExportChange] = []

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        exported = to_openai(tools, changes=changes)

    description = exported[0]["function"]["description"]
    assert 1024 == len(description)
    assert description.endswith("\u2026")
    assert [("listThings", "description")] == [(c.tool, c.kind) for c in changes]
    assert "description cut from 1,840 to 1,024 characters" in changes[0].what
    (warning,) = _export_warnings(caplog)
    assert "1 description(s) cut" in warning
    assert 1840 == len(tools[0].description)


def test_anthropic_keeps_a_long_description_that_openai_cuts():
    """Anthropic takes a 1,840-character description as it is."""
    tools = _tools(
        {"/things": {"get": _operation("listThings", description="y" * 1840)}}
    )
    changes: list[ExportChange] = []

    exported = to_anthropic(tools, changes=changes)

    assert 1840 == len(exported[0]["description"])
    assert [] == changes


def test_openai_keeps_the_first_128_of_130_tools():
    """Over the 128-tool limit the first 128 stay, with one list-level change."""
    paths = {f"/r{i:03}": {"get": _operation(f"op{i:03}")} for i in range(130)}
    tools = _tools(paths)
    changes: list[ExportChange] = []

    exported = to_openai(tools, changes=changes)

    assert [f"op{i:03}" for i in range(128)] == [
        e["function"]["name"] for e in exported
    ]
    (change,) = changes
    assert (None, "limit") == (change.tool, change.kind)
    assert change.what.startswith("2 tool(s) left out over the limit of 128")
    assert "op128, op129" in change.what
    assert "OperationFilter" in change.what


def test_max_tools_can_be_lifted_or_lowered():
    """max_tools=None keeps every tool, a smaller number keeps that many."""
    tools = _shop_tools()
    changes: list[ExportChange] = []

    assert 3 == len(to_openai(tools, max_tools=None))
    assert ["getThing"] == [
        e["function"]["name"] for e in to_openai(tools, max_tools=1, changes=changes)
    ]
    assert "2 tool(s) left out over the limit of 1 " in changes[0].what
    with pytest.raises(ValueError, match="max_tools"):
        to_openai(tools, max_tools=-1)


def test_tools_with_a_repeated_or_invalid_name_are_dropped():
    """A repeated name, or one the provider refuses, drops the tool, said once."""
    tools = _shop_tools()
    renamed = dataclasses.replace(tools[0], name="get thing")
    changes: list[ExportChange] = []

    exported = to_anthropic([*tools, tools[0], renamed], changes=changes)

    assert ["getThing", "deleteThing", "makeThing"] == [e["name"] for e in exported]
    assert [("getThing", "dropped"), ("get thing", "dropped")] == [
        (c.tool, c.kind) for c in changes
    ]
    assert "same name" in changes[0].what
    assert "^[a-zA-Z0-9_-]{1,64}$" in changes[1].what


def test_anthropic_drops_a_tool_with_an_argument_name_it_refuses():
    """Anthropic refuses top-level property names outside [a-zA-Z0-9_.-]."""
    tool = _shop_tools()[2]
    schema = {**tool.input_schema, "properties": {"full name": {"type": "string"}}}
    odd = dataclasses.replace(tool, input_schema=schema)
    changes: list[ExportChange] = []

    assert [] == to_anthropic([odd], changes=changes)
    assert "argument name 'full name'" in changes[0].what
    assert 1 == len(to_mcp([odd]))


def test_top_level_combinators_are_removed_where_refused():
    """anyOf at the top level goes for OpenAI and Anthropic, stays for MCP."""
    tool = _shop_tools()[2]
    schema = {
        **tool.input_schema,
        "anyOf": [{"required": ["name"]}, {"required": ["note"]}],
    }
    combined = dataclasses.replace(tool, input_schema=schema)
    changes: list[ExportChange] = []

    openai = to_openai([combined], changes=changes)[0]["function"]["parameters"]
    anthropic = to_anthropic([combined], changes=changes)[0]["input_schema"]
    mcp = to_mcp([combined], changes=changes)[0]["inputSchema"]

    assert "anyOf" not in openai and "anyOf" not in anthropic
    assert schema["anyOf"] == mcp["anyOf"]
    assert 2 == len(changes)
    assert all("top-level keyword 'anyOf' removed" in c.what for c in changes)


# -- strict mode -----------------------------------------------------------------


def test_strict_makes_optional_fields_required_and_nullable():
    """Optional properties become required and nullable; every object is closed."""
    tool = _posting(
        {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "note": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "address": {
                    "type": "object",
                    "required": ["line1"],
                    "properties": {
                        "line1": {"type": "string"},
                        "city": {"type": "string"},
                    },
                },
            },
        }
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    function = entry["function"]
    parameters = function["parameters"]
    properties = parameters["properties"]
    address = properties["address"]
    assert function["strict"] is True
    assert ["id", "note", "tags", "address"] == parameters["required"]
    assert {"type": "string"} == properties["id"]
    assert {"type": ["string", "null"]} == properties["note"]
    assert ["array", "null"] == properties["tags"]["type"]
    assert ["object", "null"] == address["type"]
    assert ["line1", "city"] == address["required"]
    assert address["additionalProperties"] is False
    assert {"type": ["string", "null"]} == address["properties"]["city"]
    assert [] == _strict_problems(parameters)
    assert [] == changes


def test_strict_keeps_a_recursive_schema_valid():
    """A self-referencing schema stays a $defs entry whose body is strict too."""
    node = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "children": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Node"},
            },
        },
    }
    tool = _posting({"$ref": "#/components/schemas/Node"}, {"Node": node})
    assert "$defs" in tool.input_schema

    (entry,) = to_openai([tool], strict=True)

    parameters = entry["function"]["parameters"]
    (name,) = parameters["$defs"]
    body = parameters["$defs"][name]
    assert entry["function"]["strict"] is True
    assert {"$ref": f"#/$defs/{name}"} == body["properties"]["children"]["items"]
    assert body["additionalProperties"] is False
    assert [] == _strict_problems(parameters)
    _meta_valid(parameters)


def test_strict_removes_unsupported_keywords_and_says_where():
    """patternProperties, maxLength and an unsupported format go, each recorded."""
    tool = _posting(
        {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 80},
                "site": {"type": "string", "format": "uri"},
                "when": {"type": "string", "format": "date-time"},
                "meta": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "patternProperties": {"^x-": {"type": "string"}},
                    "additionalProperties": False,
                },
            },
        }
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    properties = entry["function"]["parameters"]["properties"]
    assert entry["function"]["strict"] is True
    assert "patternProperties" not in properties["meta"]
    assert "maxLength" not in properties["title"]
    assert "format" not in properties["site"]
    assert "date-time" == properties["when"]["format"]
    assert [
        "keyword 'maxLength' removed at /properties/title",
        "format 'uri' removed at /properties/site",
        "keyword 'patternProperties' removed at /properties/meta",
    ] == [c.what for c in changes]
    assert {"makeThing"} == {c.tool for c in changes}
    assert [] == _strict_problems(entry["function"]["parameters"])


@pytest.mark.parametrize(
    "extra",
    [True, {"type": "string"}],
    ids=["additionalProperties-true", "additionalProperties-schema"],
)
def test_strict_exports_a_free_form_object_without_strict_mode(extra: Any):
    """A free-form object cannot be strict: the tool goes non-strict, said once."""
    tool = _posting(
        {
            "type": "object",
            "properties": {
                "metadata": {"type": "object", "additionalProperties": extra}
            },
        }
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    assert entry["function"]["strict"] is False
    assert (
        to_openai([tool])[0]["function"]["parameters"]
        == entry["function"]["parameters"]
    )
    (change,) = changes
    assert ("makeThing", "strict") == (change.tool, change.kind)
    assert "exported without strict mode" in change.what
    assert "/properties/metadata is a free-form object" in change.what


def test_strict_reads_one_of_as_any_of_and_merges_all_of():
    """oneOf becomes anyOf and allOf becomes one closed object, both recorded."""
    named = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    }
    # Both members declare `name` differently, so the tool keeps the allOf.
    aged = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "age": {"type": "integer", "minimum": 0},
        },
    }
    tool = _posting(
        {
            "type": "object",
            "properties": {
                "who": {"allOf": [{"$ref": "#/components/schemas/Named"}, aged]},
                "pet": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            },
        },
        {"Named": named},
    )
    assert "allOf" in tool.input_schema["properties"]["who"]
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    properties = entry["function"]["parameters"]["properties"]
    who = properties["who"]
    pet = properties["pet"]
    assert entry["function"]["strict"] is True
    assert ["object", "null"] == who["type"]
    assert ["name", "age"] == who["required"]
    assert {"type": "string"} == who["properties"]["name"]
    assert {"type": ["integer", "null"], "minimum": 0} == who["properties"]["age"]
    assert [{"type": "string"}, {"type": "integer"}, {"type": "null"}] == pet["anyOf"]
    assert [
        "'allOf' merged into one schema at /properties/who",
        "keyword 'minLength' removed at /properties/who/properties/name",
        "'oneOf' read as 'anyOf' (the runtime still checks oneOf) at /properties/pet",
    ] == [c.what for c in changes]
    assert [] == _strict_problems(entry["function"]["parameters"])


def test_strict_takes_the_type_from_examples_when_the_schema_has_none():
    """A typeless property whose examples are all strings is read as a string."""
    tool = _posting(
        {"type": "object", "properties": {"zone": {"examples": ["023e105f4ecef8ad"]}}}
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    assert {"type": ["string", "null"]} == entry["function"]["parameters"][
        "properties"
    ]["zone"]
    assert "type 'string' taken from the examples or default" in "\n".join(
        c.what for c in changes
    )


def test_strict_exports_an_untyped_value_without_strict_mode():
    """A property that accepts any value keeps the tool out of strict mode."""
    tool = _posting(
        {"type": "object", "properties": {"anything": {"description": "Any."}}}
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    assert entry["function"]["strict"] is False
    assert "/properties/anything accepts any value" in changes[0].what


def test_strict_enum_optional_field_is_wrapped_with_null():
    """An optional enum allows null through anyOf, keeping its description outside."""
    tool = _posting(
        {
            "type": "object",
            "properties": {
                "unit": {"type": "string", "enum": ["F", "C"], "description": "Unit."}
            },
        }
    )

    (entry,) = to_openai([tool], strict=True)

    assert {
        "description": "Unit.",
        "anyOf": [{"type": "string", "enum": ["F", "C"]}, {"type": "null"}],
    } == entry["function"]["parameters"]["properties"]["unit"]


def test_strict_keeps_an_enum_of_arrays_typed_array():
    """Enum values of the type the node names stay, whatever that type is."""
    sizes = {"type": "array", "items": {"type": "integer"}, "enum": [[1, 2], [3]]}
    tool = _posting(
        {"type": "object", "properties": {"sizes": sizes}, "required": ["sizes"]}
    )

    (entry,) = to_openai([tool], strict=True)

    assert entry["function"]["strict"] is True
    exported = entry["function"]["parameters"]["properties"]["sizes"]
    assert [[1, 2], [3]] == exported["enum"]


@pytest.mark.parametrize("size", [50, 400])
def test_a_long_ring_of_definitions_is_exported_without_strict_mode(size):
    """Definitions that each refer to the next, round a long ring, are measured
    without exhausting the stack; deeper than strict mode allows, not strict."""
    schemas = {
        f"S{i}": {
            "type": "object",
            "properties": {"next": {"$ref": f"#/components/schemas/S{(i + 1) % size}"}},
        }
        for i in range(size)
    }
    tool = _posting({"$ref": "#/components/schemas/S0"}, schemas)

    changes: list[ExportChange] = []
    (entry,) = to_openai([tool], strict=True, changes=changes)

    assert "strict" not in entry["function"] or not entry["function"]["strict"]
    assert any("deep" in change.what for change in changes)


def _nested(levels: int) -> dict[str, Any]:
    """An object schema `levels` objects deep, counting itself."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"leaf": {"type": "string"}},
    }
    for _ in range(levels - 1):
        schema = {"type": "object", "properties": {"inner": schema}}
    return schema


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        (_nested(11), "11 levels of nesting; strict mode takes at most 10"),
        (
            {
                "type": "object",
                "properties": {"code": {"type": "integer", "enum": list(range(1001))}},
            },
            "1,001 enum values; strict mode takes at most 1,000",
        ),
    ],
    ids=["too-deep", "too-many-enum-values"],
)
def test_strict_limits_keep_a_tool_out_of_strict_mode(
    schema: dict[str, Any], reason: str
):
    """A schema over a strict-mode limit is exported non-strict, saying which."""
    changes: list[ExportChange] = []

    (entry,) = to_openai([_posting(schema)], strict=True, changes=changes)

    assert entry["function"]["strict"] is False
    assert reason in changes[0].what


def test_strict_accepts_ten_levels_of_nesting():
    """Ten levels of objects, counting the arguments object, are within the limit."""
    (entry,) = to_openai([_posting(_nested(10))], strict=True)

    assert entry["function"]["strict"] is True


def test_strict_moves_keywords_beside_any_of_into_the_branches():
    """An "at least one of" object becomes one closed object per branch."""
    tool = _posting(
        {
            "type": "object",
            "properties": {
                "patch": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "size": {"type": "integer"},
                    },
                    "anyOf": [{"required": ["name"]}, {"required": ["size"]}],
                }
            },
        }
    )
    changes: list[ExportChange] = []

    (entry,) = to_openai([tool], strict=True, changes=changes)

    patch = entry["function"]["parameters"]["properties"]["patch"]
    first, second, null = patch["anyOf"]
    assert entry["function"]["strict"] is True
    assert {"type": "string"} == first["properties"]["name"]
    assert {"type": ["integer", "null"]} == first["properties"]["size"]
    assert {"type": ["string", "null"]} == second["properties"]["name"]
    assert {"type": "null"} == null
    assert "keywords beside anyOf moved into each branch at /properties/patch" in [
        c.what for c in changes
    ]
    assert [] == _strict_problems(entry["function"]["parameters"])

    model_sent = {"patch": {"name": None, "size": 3}}
    assert {"patch": {"size": 3}} == drop_strict_nulls(tool, model_sent)


def test_export_change_reads_as_tool_and_what():
    """str() of a change names the tool first; a list-level change has no tool."""
    assert "getThing: description cut" == str(
        ExportChange("getThing", "description cut")
    )
    assert "2 tool(s) left out" == str(
        ExportChange(None, "2 tool(s) left out", "limit")
    )


# -- strict arguments ------------------------------------------------------------


def test_drop_strict_nulls_removes_only_the_nulls_that_mean_not_given():
    """Nulls of optional arguments go, at the top level and nested; others stay."""
    tool = _posting(
        {
            "type": "object",
            "required": ["id", "parent"],
            "properties": {
                "id": {"type": "string"},
                "parent": {"type": ["string", "null"]},
                "note": {"type": "string"},
                "address": {
                    "type": "object",
                    "required": ["line1"],
                    "properties": {
                        "line1": {"type": "string"},
                        "city": {"type": "string"},
                    },
                },
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"qty": {"type": "integer"}},
                    },
                },
            },
        }
    )
    arguments = {
        "id": "t-1",
        "parent": None,
        "note": None,
        "address": {"line1": "1 Main St", "city": None},
        "lines": [{"qty": None}, {"qty": 2}],
        "unknown": None,
    }
    before = copy.deepcopy(arguments)

    cleaned = drop_strict_nulls(tool, arguments)

    assert {
        "id": "t-1",
        "parent": None,
        "address": {"line1": "1 Main St"},
        "lines": [{}, {"qty": 2}],
        "unknown": None,
    } == cleaned
    assert before == arguments
    del cleaned["unknown"]
    assert jsonschema_rs.validator_for(tool.input_schema).is_valid(cleaned)


def test_drop_strict_nulls_follows_refs_and_refuses_non_objects():
    """Nulls inside a $defs schema are found through $ref; a list is refused."""
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Node"},
            },
        },
    }
    tool = _posting({"$ref": "#/components/schemas/Node"}, {"Node": node})

    cleaned = drop_strict_nulls(
        tool, {"name": "root", "children": [{"name": None, "children": None}]}
    )

    assert {"name": "root", "children": [{}]} == cleaned
    with pytest.raises(TypeError, match="mapping"):
        drop_strict_nulls(tool, [1, 2])  # type: ignore[arg-type]


# -- every schema, every format ----------------------------------------------------


def test_exports_are_valid_json_schema_and_leave_the_tools_untouched():
    """Every exported schema passes the 2020-12 meta-schema; no tool is modified."""
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 20},
            "next": {"$ref": "#/components/schemas/Node"},
        },
    }
    tools = [
        *_shop_tools(),
        _posting(
            {
                "type": "object",
                "properties": {
                    "node": {"$ref": "#/components/schemas/Node"},
                    "meta": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    },
                    "pick": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
                },
            },
            {"Node": node},
            operation_id="makeNode",
        ),
    ]
    before = [copy.deepcopy(t.input_schema) for t in tools]

    schemas = _schemas(tools)

    assert 4 * len(tools) == len(schemas)
    for schema in schemas:
        _meta_valid(schema)
    assert before == [t.input_schema for t in tools]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "relative",
    ["stripe/spec3.yaml", "cloudflare/openapi.json"],
    ids=["stripe", "cloudflare"],
)
def test_real_specs_export_within_every_providers_rules(relative: str):
    """Every tool of a big real spec exports within each provider's rules, quickly."""
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    tools = Integration(path, base_url=BASE_URL).tools
    before = [copy.deepcopy(t.input_schema) for t in tools[:50]]

    started = time.perf_counter()
    openai = to_openai(tools, max_tools=None)
    strict = to_openai(tools, strict=True, max_tools=None)
    anthropic = to_anthropic(tools)
    mcp = to_mcp(tools)
    elapsed = time.perf_counter() - started

    for exported in (openai, strict):
        assert len(tools) == len(exported)
        for entry in exported:
            assert OPENAI_NAME.fullmatch(entry["function"]["name"])
            assert len(entry["function"]["description"]) <= 1024
    assert len(tools) == len(anthropic) == len(mcp)
    for entry in anthropic:
        assert ANTHROPIC_NAME.fullmatch(entry["name"])
        assert all(
            ANTHROPIC_PROPERTY.fullmatch(n) for n in entry["input_schema"]["properties"]
        )
    assert all(MCP_NAME.fullmatch(entry["name"]) for entry in mcp)

    strict_ones = [e["function"] for e in strict if e["function"]["strict"]]
    problems = {f["name"]: _strict_problems(f["parameters"]) for f in strict_ones}
    assert {} == {name: found for name, found in problems.items() if found}
    assert len(strict_ones) > len(tools) // 2
    for entry in strict:
        _meta_valid(entry["function"]["parameters"])
    assert before == [t.input_schema for t in tools[:50]]
    assert elapsed < 10
