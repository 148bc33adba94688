"""Every schema a tool ships can be met, and strict mode never promises more
than the runtime accepts.

Two properties are checked here. A tool's input schema must be satisfiable:
data errors in a document (a required name a closed object does not allow,
an enum its own type refuses, an empty enum) are read leniently and noted,
never shipped as a tool nobody can call. And a tool exported with
`strict: true` must accept, after `drop_strict_nulls`, every argument set
valid under its strict schema; the corpus sample at the end generates such
arguments and checks them against the tool's own schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from _specs import spec

from ourguide_caller import ExportChange, Integration, drop_strict_nulls, to_openai
from ourguide_caller._corpus import corpus_entries
from ourguide_caller._runtime import _lenient
from ourguide_caller._tools import Tool

REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"


def _tool(body: Any, components: dict[str, Any] | None = None) -> Integration:
    document = spec(
        {
            "/c": {
                "post": {
                    "operationId": "op",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                }
            }
        }
    )
    if components:
        document["components"] = {"schemas": components}
    return Integration(document, name="t", base_url="https://api.example.test")


def _valid(tool: Tool, arguments: Any) -> list[str]:
    validator = jsonschema_rs.validator_for(_lenient(tool.input_schema))
    return [error.message for error in validator.iter_errors(arguments)]


def _notes(integration: Integration) -> list[str]:
    return [note for op in integration.report.operations for note in op.notes]


# -- closed objects ------------------------------------------------------------


def test_closed_union_reading_holds_below_the_top_level():
    """The reviewer's minimal case: the outer schema narrows `r`, a property
    its closed allOf member declares closed too; both `r`s merge."""
    body = {
        "allOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "r": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"p": {}, "q": {}},
                    }
                },
            }
        ],
        "properties": {
            "r": {
                "additionalProperties": False,
                "properties": {"q": {}},
                "required": ["p"],
            }
        },
    }
    integration = _tool(body)
    tool = integration.tool("op")

    assert [] == _valid(tool, {"r": {"p": "1", "q": "2"}})
    assert _valid(tool, {"r": {"q": "2"}})  # `p` is still required
    assert _valid(tool, {"r": {"p": "1", "z": "3"}})  # and `r` still closed


def test_closed_union_merges_members_that_keep_other_keywords():
    """A closed member with a keyword that cannot be merged (`anyOf` here)
    still gives its properties to the union; the rest stays in allOf."""
    body = {
        "allOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
            },
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"c": {"type": "integer"}},
                "required": ["c"],
            },
        ]
    }
    tool = _tool(body).tool("op")

    # The allOf left keeps the body from being flattened into arguments.
    assert [] == _valid(tool, {"body": {"a": "x", "c": 1}})
    assert _valid(tool, {"body": {"c": 1}})  # the anyOf still holds
    assert _valid(tool, {"body": {"a": "x", "c": 1, "d": 2}})


def test_required_name_a_closed_object_does_not_allow_is_dropped_and_noted():
    body = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rules": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"inbound": {"type": "string"}},
                "required": ["inbound", "policy"],
            }
        },
    }
    integration = _tool(body)
    tool = integration.tool("op")

    assert [] == _valid(tool, {"rules": {"inbound": "x"}})
    assert _valid(tool, {"rules": {}})  # `inbound` is still required
    (note,) = [n for n in _notes(integration) if "allowed by no property" in n]
    assert "/rules/required/policy" in note


def test_required_name_of_a_left_out_read_only_property_is_not_kept():
    """`id` is readOnly in the closed base, so a request leaves it out; the
    extension's `required: [id]` must not make the tool uncallable."""
    components = {
        "Base": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "readOnly": True},
                "name": {"type": "string"},
            },
        }
    }
    body = {"allOf": [{"$ref": "#/components/schemas/Base"}], "required": ["id"]}
    tool = _tool(body, components).tool("op")

    assert [] == _valid(tool, {"name": "x"})


# -- enum and type -------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # YAML scalars typed by hand: the type's spelling is meant.
        ({"type": "string", "enum": [1, 2]}, {"type": "string", "enum": ["1", "2"]}),
        (
            {"type": "string", "enum": [True, "local", False]},
            {"type": "string", "enum": ["true", "local", "false"]},
        ),
        ({"type": "integer", "enum": ["1", 2]}, {"type": "integer", "enum": [1, 2]}),
        # A value with no spelling in the type widens the type.
        (
            {"type": "string", "enum": ["a", None]},
            {"type": ["string", "null"], "enum": ["a", None]},
        ),
        # An array's enum of item values is the items' enum.
        (
            {"type": "array", "items": {"type": "string"}, "enum": ["a", "b"]},
            {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        ),
        # An empty enum allows nothing; it is dropped.
        ({"type": "string", "enum": []}, {"type": "string"}),
    ],
)
def test_enum_values_are_made_to_fit_the_type(schema, expected):
    integration = _tool(
        {"type": "object", "properties": {"v": schema}, "required": ["v"]}
    )
    tool = integration.tool("op")

    assert expected == tool.input_schema["properties"]["v"]
    assert _notes(integration), "each reading is noted in the build report"


def test_nullable_enum_with_null_needs_no_reading():
    integration = _tool(
        {
            "type": "object",
            "properties": {
                "v": {"type": "string", "nullable": True, "enum": ["a", None]}
            },
        }
    )

    assert {"type": ["string", "null"], "enum": ["a", None]} == integration.tool(
        "op"
    ).input_schema["properties"]["v"]
    assert [] == _notes(integration)


# -- strict export -------------------------------------------------------------


def _strict(body: Any) -> tuple[dict[str, Any], list[ExportChange]]:
    changes: list[ExportChange] = []
    (entry,) = to_openai([_tool(body).tool("op")], strict=True, changes=changes)
    return entry["function"], changes


@pytest.mark.parametrize(
    "body",
    [
        # box post_invites: a required name with no property (open object).
        {
            "type": "object",
            "properties": {
                "actionable_by": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"login": {"type": "string"}},
                }
            },
        },
        # `not` is a shape strict mode cannot express.
        {
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string"},
            },
            "not": {"required": ["a", "b"]},
        },
        # patternProperties that also constrain a declared property.
        {
            "type": "object",
            "properties": {"x-a": {"type": "string"}},
            "patternProperties": {"^x-": {"maxLength": 2}},
            "additionalProperties": False,
        },
    ],
    ids=["required-without-property", "not", "pattern-on-declared"],
)
def test_strict_is_refused_where_it_would_lose_a_constraint(body):
    function, changes = _strict(body)

    assert function["strict"] is False
    assert ["strict"] == [c.kind for c in changes]


# -- strict arguments on the corpus ------------------------------------------

FORMATS = {
    "date-time": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "time": "03:04:05Z",
    "duration": "P1D",
    "email": "a@example.test",
    "hostname": "example.test",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
}

# Removed by the strict export on purpose (see _export._STRICT_REMOVABLE) or,
# for `pattern`, kept as it is but beyond this small generator.
UNCHECKED = ("pattern", "minLength", "maxLength", "uniqueItems")


class _Depth(Exception):
    """The generator went too deep (recursive schemas)."""


def _example(
    schema: Mapping[str, Any], root: Mapping[str, Any], pick: int, depth: int = 0
) -> Any:
    """A value valid under a strict-mode schema. `pick` chooses: 0 sends null
    wherever null is allowed, 1 and 2 avoid null and take the first or the
    last anyOf branch and enum value."""
    if depth > 40:
        raise _Depth
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        target = root if schema["$ref"] == "#" else root["$defs"][name]
        return _example(target, root, pick, depth + 1)
    if "anyOf" in schema:
        branches = schema["anyOf"]
        if pick == 0 and {"type": "null"} in branches:
            return None
        real = [b for b in branches if b != {"type": "null"}]
        return _example(real[0 if pick == 1 else -1], root, pick, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = schema["enum"]
        if pick == 0 and None in values:
            return None
        real = [v for v in values if v is not None]
        return real[0 if pick == 1 else -1]
    kind = schema["type"]
    kinds = [kind] if isinstance(kind, str) else kind
    if pick == 0 and "null" in kinds:
        return None
    return _typed([k for k in kinds if k != "null"][0], schema, root, pick, depth)


def _typed(
    kind: str, schema: Mapping[str, Any], root: Mapping[str, Any], pick: int, depth: int
) -> Any:
    if kind == "object":
        return {
            name: _example(sub, root, pick, depth + 1)
            for name, sub in schema["properties"].items()
        }
    if kind == "array":
        count = max(schema.get("minItems", 0), 0 if pick == 0 else 1)
        count = min(count, schema.get("maxItems", count))
        return [_example(schema["items"], root, pick, depth + 1) for _ in range(count)]
    if kind == "string":
        return FORMATS.get(schema.get("format"), "x")
    if kind == "boolean":
        return pick == 1
    if kind == "null":
        return None
    return _number(kind, schema)


def _number(kind: str, schema: Mapping[str, Any]) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
    if "maximum" in schema or "exclusiveMaximum" in schema:
        high = schema.get("maximum", schema.get("exclusiveMaximum", 0) - 1)
        low = min(max(low, 0), high) if low <= high else low
    step = schema.get("multipleOf")
    if step:
        low = step * -(-low // step)
    return int(low) if kind == "integer" and float(low).is_integer() else low


def _without(schema: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(schema, dict):
        return {
            k: (v if k in ("enum", "const") else _without(v, keys))
            for k, v in schema.items()
            if not (k in keys and not isinstance(v, dict | list))
            or k in ("properties", "$defs")
        }
    if isinstance(schema, list):
        return [_without(v, keys) for v in schema]
    return schema


def strict_failures(tools: list[Tool]) -> list[str]:
    """For each tool exported strict, arguments its strict schema allows that
    its own schema refuses (after `drop_strict_nulls`)."""
    by_name = {tool.name: tool for tool in tools}
    failures = []
    for entry in to_openai(tools, strict=True, max_tools=None):
        function = entry["function"]
        if not function["strict"]:
            continue
        tool = by_name[function["name"]]
        check = jsonschema_rs.validator_for(
            _without(_lenient(tool.input_schema), UNCHECKED)
        )
        for pick in (0, 1, 2):
            try:
                arguments = _example(
                    function["parameters"], function["parameters"], pick
                )
            except _Depth:
                continue
            sent = drop_strict_nulls(tool, arguments)
            errors = [e.message for e in check.iter_errors(sent)]
            if errors:
                failures.append(
                    f"{tool.name} {errors[0][:200]} for {json.dumps(sent)[:300]}"
                )
                break
    return failures


# Specs whose strict exports lost constraints before, and two of the largest.
SAMPLE = [
    "cloudflare",
    "stripe",
    "box",
    "linode",
    "discord",
    "zoom",
    "mistral",
    "adyen-balanceplatform",
    "openai",
]


@pytest.mark.corpus
@pytest.mark.skipif(not REAL.is_dir(), reason=f"no real-world specs at {REAL}")
@pytest.mark.parametrize("name", SAMPLE)
def test_strict_valid_arguments_pass_the_tools_own_check(name):
    path = dict(corpus_entries(REAL))[name]
    integration = Integration(path, name=name, base_url="https://api.example.test")

    assert [] == strict_failures(integration.tools)
