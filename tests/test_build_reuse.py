"""Parameters and bodies written the same way on many operations are converted
once per document; every tool must still get exactly what converting its own
copy would give, notes and `$defs` included."""

from __future__ import annotations

import copy
from typing import Any

from _specs import spec
from jsonschema import Draft202012Validator

from ourguide_caller import Integration
from ourguide_caller._refs import RefResolver
from ourguide_caller._schema import SchemaConverter


def op(operation_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "responses": {"200": {"description": "ok"}},
        **fields,
    }


# Written out again on every operation, as generated specs do.
FORMAT = {
    "name": "format",
    "in": "query",
    "description": "Format results are returned in.",
    "schema": {"type": "string", "enum": ["JSON", "CSV"], "example": "json"},
}
# `exclusiveMinimum: true` without `minimum` raises a note each time.
ODD = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "exclusiveMinimum": True},
}
NODE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"root": {"$ref": "#/components/schemas/Node"}},
            }
        }
    },
}
COMPONENTS = {
    "schemas": {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Node"},
                },
            },
        }
    }
}


def many_operations(count: int) -> dict[str, Any]:
    paths = {
        f"/things{i}": {
            "post": op(
                f"make{i}",
                parameters=[copy.deepcopy(FORMAT), copy.deepcopy(ODD)],
                requestBody=copy.deepcopy(NODE_BODY),
            )
        }
        for i in range(count)
    }
    return spec(paths, components=copy.deepcopy(COMPONENTS))


def alone(document: dict[str, Any], path: str) -> Integration:
    """The same document with only one of its operations."""
    single = copy.deepcopy(document)
    single["paths"] = {path: single["paths"][path]}
    return Integration(single)


def test_every_tool_gets_what_its_own_conversion_gives() -> None:
    document = many_operations(5)
    together = Integration(document)

    for tool in together.tools:
        own = alone(document, tool.path).tools[0]
        assert tool.input_schema == own.input_schema
        assert tool.arguments == own.arguments
        assert tool.body == own.body


def test_a_note_is_reported_on_every_operation_that_raises_it() -> None:
    report = Integration(many_operations(4)).report

    noted = [
        op.tool
        for op in report.operations
        if any("exclusiveMinimum" in note for note in op.notes)
    ]
    assert noted == ["make0", "make1", "make2", "make3"]


def test_recursive_body_keeps_its_defs_in_every_tool() -> None:
    tools = Integration(many_operations(3)).tools

    for tool in tools:
        root = tool.input_schema["properties"]["root"]
        assert root["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
        assert "Node" in tool.input_schema["$defs"]


def test_reused_pieces_validate_arguments_in_every_tool() -> None:
    good = {"format": "CSV", "root": {"name": "a", "children": [{"name": "b"}]}}
    bad = {"format": "XML", "root": {"children": [{"name": 3}]}}

    for tool in Integration(many_operations(2)).tools:
        validator = Draft202012Validator(tool.input_schema)
        assert list(validator.iter_errors(good)) == []
        assert len(list(validator.iter_errors(bad))) == 2


def test_session_reuse_counts_toward_the_inline_budget() -> None:
    document = many_operations(1)
    converter = SchemaConverter(RefResolver(document, source="t"), dialect="3.0")
    first = converter.session()

    mark = first.mark()
    first.convert({"$ref": "#/components/schemas/Node"}, "/x")
    assert first.self_contained_since(mark) is None  # recursion needs $defs

    mark = first.mark()
    first.convert({"type": "object", "properties": {"a": {"type": "string"}}}, "/y")
    nodes = first.self_contained_since(mark)
    assert nodes == 2

    second = converter.session()
    before = second.mark()
    second.reuse(nodes)
    assert second.self_contained_since(before) == nodes
