"""Tests for the OpenAPI Schema Object -> JSON Schema 2020-12 converter."""

from __future__ import annotations

import copy
import datetime
import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
import yaml

from ourguide_caller._errors import SpecError
from ourguide_caller._refs import RefResolver, join_pointer
from ourguide_caller._schema import (
    MAX_INLINE_DEPTH,
    MAX_LITERAL_DEPTH,
    MAX_NOTES,
    SchemaConverter,
)

SOURCE = "spec.yaml"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"


def converter(
    doc: dict[str, Any] | None = None, *, dialect: str = "3.0", budget: int = 4000
) -> SchemaConverter:
    resolver = RefResolver(doc or {}, source=SOURCE)
    return SchemaConverter(resolver, dialect=dialect, inline_budget=budget)  # type: ignore[arg-type]


def assert_valid_schema(schema: Any) -> None:
    """Valid against the 2020-12 meta-schema and compiles in the Rust engine."""
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema_rs.validator_for(schema)


def convert_one(
    schema: Any,
    *,
    doc: dict[str, Any] | None = None,
    dialect: str = "3.0",
    drop_read_only: bool = True,
) -> tuple[Any, dict[str, Any], list[str]]:
    """Convert `schema` in a session of its own: (fragment, finished root, notes)."""
    session = converter(doc, dialect=dialect).session()
    fragment = session.convert(schema, "/x", drop_read_only=drop_read_only)
    root = session.finish({"type": "object", "properties": {"value": fragment}})
    assert_valid_schema(root)
    return fragment, root, session.notes


def components(**schemas: Any) -> dict[str, Any]:
    return {"components": {"schemas": schemas}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# -- nullable and types -------------------------------------------------------


def test_nullable_widens_type() -> None:
    out, _, notes = convert_one({"type": "string", "nullable": True, "maxLength": 3})

    assert out == {"type": ["string", "null"], "maxLength": 3}
    assert notes == []


def test_nullable_adds_none_to_enum() -> None:
    out, root, _ = convert_one({"type": "string", "enum": ["a", "b"], "nullable": True})

    assert out == {"type": ["string", "null"], "enum": ["a", "b", None]}
    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"value": None})
    assert not validator.is_valid({"value": "c"})


def test_nullable_without_type_wraps_in_any_of() -> None:
    schema = {
        "description": "an id or a name",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
    }

    out, root, _ = convert_one(schema)

    assert out == {
        "description": "an id or a name",
        "anyOf": [
            {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            {"type": "null"},
        ],
    }
    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"value": None})
    assert not validator.is_valid({"value": 1.5})


def test_nullable_alone_or_false_changes_nothing() -> None:
    # Without type/enum/composition, null already passes every keyword.
    assert convert_one({"nullable": True, "minLength": 2})[0] == {"minLength": 2}
    assert convert_one({"type": "integer", "nullable": False})[0] == {"type": "integer"}


def test_nullable_const_becomes_enum() -> None:
    out, _, _ = convert_one({"const": "x", "nullable": True})

    assert out == {"enum": ["x", None]}


def test_nullable_in_31_is_read_leniently_with_a_note() -> None:
    out, _, notes = convert_one({"type": "integer", "nullable": True}, dialect="3.1")

    assert out == {"type": ["integer", "null"]}
    assert len(notes) == 1 and "nullable" in notes[0] and "#/x/nullable" in notes[0]


def test_31_type_arrays_and_null_type_are_kept() -> None:
    out, _, notes = convert_one(
        {"type": ["string", "null"], "properties": {"n": {"type": "null"}}},
        dialect="3.1",
    )

    assert out == {"type": ["string", "null"], "properties": {"n": {"type": "null"}}}
    assert notes == []


def test_30_type_list_is_kept_with_a_note() -> None:
    out, _, notes = convert_one({"type": ["string", "integer", "string"]})

    assert out == {"type": ["string", "integer"]}
    assert any("list of types" in n for n in notes)


def test_boolean_schemas_are_kept() -> None:
    schema = {
        "properties": {"any": True, "never": False},
        "additionalProperties": False,
    }

    out, _, notes = convert_one(schema, dialect="3.1")

    assert out == schema
    assert notes == []


# -- readOnly / writeOnly -----------------------------------------------------


PET = {
    "type": "object",
    "required": ["id", "name", "ghost"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
        "owner": {"$ref": "#/components/schemas/Owner"},
    },
}
OWNER = {"type": "object", "readOnly": True, "properties": {"id": {"type": "integer"}}}


def test_read_only_properties_are_dropped_and_required_fixed() -> None:
    doc = components(Pet=PET, Owner=OWNER)

    out, _, _ = convert_one(ref("Pet"), doc=doc)

    # `owner` is read-only through its $ref target; `ghost` names no property
    # and stays (valid JSON Schema), `id` goes with its property.
    assert out == {
        "type": "object",
        "required": ["name", "ghost"],
        "properties": {
            "name": {"type": "string"},
            "password": {"type": "string", "writeOnly": True},
        },
    }


def test_read_only_properties_are_kept_on_request() -> None:
    doc = components(Pet=PET, Owner=OWNER)

    out, _, _ = convert_one(ref("Pet"), doc=doc, drop_read_only=False)

    assert list(out["properties"]) == ["id", "name", "password", "owner"]
    assert out["required"] == ["id", "name", "ghost"]


def test_read_only_beside_ref_counts_in_31_only() -> None:
    doc = components(Id={"type": "integer"})
    schema = {
        "properties": {"id": {"$ref": "#/components/schemas/Id", "readOnly": True}}
    }

    assert convert_one(schema, doc=doc, dialect="3.1")[0] == {"properties": {}}
    kept, _, notes = convert_one(schema, doc=doc, dialect="3.0")
    assert kept == {"properties": {"id": {"type": "integer"}}}
    assert any("ignored readOnly beside $ref" in n for n in notes)


# -- composition -------------------------------------------------------------


def test_all_of_of_objects_is_merged() -> None:
    doc = components(
        Base={
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}},
        }
    )
    schema = {
        "description": "A dog.",
        "allOf": [
            ref("Base"),
            {
                "type": "object",
                "required": ["bark", "id"],
                "properties": {"bark": {"type": "boolean"}, "kind": {"type": "string"}},
            },
        ],
    }

    out, root, _ = convert_one(schema, doc=doc)

    assert out == {
        "description": "A dog.",
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "bark": {"type": "boolean"},
        },
        "required": ["id", "bark"],
    }
    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"value": {"id": 1, "bark": True}})
    assert not validator.is_valid({"value": {"id": 1}})


def test_all_of_of_closed_objects_becomes_their_closed_union() -> None:
    """Members that each forbid extra properties merge into one closed object
    with all their properties, the reading that lets a call succeed."""
    converter = SchemaConverter(RefResolver({}, source="s"), dialect="3.0")
    members = [
        {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"b": {"type": "string"}},
            "required": ["b"],
            "additionalProperties": False,
        },
    ]

    schema = converter.session().convert({"allOf": members}, "/x")

    assert {"a", "b"} == set(schema["properties"])
    assert False is schema["additionalProperties"]
    assert jsonschema_rs.validator_for(schema).is_valid({"a": "1", "b": "2"})


CLOSED_A = {"properties": {"a": {"type": "string"}}, "additionalProperties": False}
OPEN_B = {"properties": {"b": {"type": "string"}}, "required": ["b"]}


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        ({"allOf": [CLOSED_A, OPEN_B]}, "#/x:"),
        ({"properties": {"p": {"allOf": [OPEN_B, CLOSED_A]}}}, "#/x/properties/p:"),
        # Closed parts meeting at a property two parts declare.
        (
            {"allOf": [{"properties": {"p": CLOSED_A}}, {"properties": {"p": OPEN_B}}]},
            "#/x/properties/p:",
        ),
    ],
)
def test_the_closed_union_reading_is_noted(schema: Any, where: str) -> None:
    """Reading an allOf with closed parts as their closed union is lenient,
    so the report says where it was done."""
    closed_ab = {**CLOSED_A, "properties": {**CLOSED_A["properties"], "b": {}}}

    _, _, notes = convert_one(schema)
    # Nothing is widened when the closed part already has every property.
    _, _, exact = convert_one({"allOf": [closed_ab, OPEN_B]})

    [note] = notes
    assert note.startswith(where)
    assert "closed union" in note
    assert [] == exact


@pytest.mark.parametrize(
    "members",
    [
        # Same property, different definitions.
        [
            {"properties": {"a": {"type": "string"}}},
            {"properties": {"a": {"type": "integer"}}},
        ],
        # Not object-ish.
        [{"type": "string"}, {"maxLength": 3}],
    ],
)
def test_all_of_that_cannot_be_merged_exactly_is_kept(members: list[Any]) -> None:
    out, _, _ = convert_one({"allOf": members})

    assert out == {"allOf": members}


def test_one_of_and_any_of_are_converted_member_by_member() -> None:
    doc = components(
        Cat={"type": "object", "properties": {"lives": {"type": "integer"}}},
        Dog={
            "type": "object",
            "properties": {"bark": {"type": "string", "nullable": True}},
        },
    )
    schema = {
        "oneOf": [ref("Cat"), ref("Dog")],
        "anyOf": [{"type": "object", "example": {"lives": 9}}],
        "discriminator": {"propertyName": "kind"},
    }

    out, _, notes = convert_one(schema, doc=doc)

    assert out == {
        "oneOf": [
            {"type": "object", "properties": {"lives": {"type": "integer"}}},
            {"type": "object", "properties": {"bark": {"type": ["string", "null"]}}},
        ],
        "anyOf": [{"type": "object", "examples": [{"lives": 9}]}],
    }
    assert notes == []


def test_31_keywords_are_kept() -> None:
    schema = {
        "type": "object",
        "if": {"properties": {"kind": {"const": "a"}}},
        "then": {"required": ["a"]},
        "else": {"required": ["b"]},
        "dependentSchemas": {"x": {"required": ["y"]}},
        "patternProperties": {"^x-": {"type": "string"}},
        "propertyNames": {"maxLength": 10},
        "unevaluatedProperties": False,
        "prefixItems": [{"type": "string"}],
        "contains": {"type": "integer"},
    }

    out, _, notes = convert_one(schema, dialect="3.1")

    assert out == schema
    assert notes == []


# -- plain keywords ----------------------------------------------------------


def test_example_becomes_examples() -> None:
    out, _, _ = convert_one({"type": "string", "example": "abc"})

    assert out == {"type": "string", "examples": ["abc"]}


def test_exclusive_bounds_in_30_boolean_form() -> None:
    schema = {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": False,
    }

    out, root, _ = convert_one(schema)

    assert out == {"type": "number", "maximum": 10, "exclusiveMinimum": 0}
    validator = jsonschema_rs.validator_for(root)
    assert not validator.is_valid({"value": 0})
    assert validator.is_valid({"value": 0.5})
    assert validator.is_valid({"value": 10})


def test_exclusive_bounds_in_31_numeric_form() -> None:
    out, _, notes = convert_one(
        {"exclusiveMinimum": 1, "exclusiveMaximum": 5}, dialect="3.1"
    )

    assert out == {"exclusiveMinimum": 1, "exclusiveMaximum": 5}
    assert notes == []


def test_documentation_keywords_are_dropped_and_unknown_ones_noted() -> None:
    schema = {
        "type": "string",
        "xml": {"name": "x"},
        "externalDocs": {"url": "https://example.com"},
        "x-internal": True,
        "$comment": "c",
        "frobnicate": 1,
        "$dynamicRef": "#meta",
        "format": "uuid",
        "deprecated": True,
        "title": "T",
    }

    out, _, notes = convert_one(schema, dialect="3.1")

    assert out == {"type": "string", "format": "uuid", "deprecated": True, "title": "T"}
    assert len(notes) == 2
    assert "'frobnicate'" in notes[0] and "#/x" in notes[0]
    assert "$dynamicRef" in notes[1]


def test_lenient_readings_are_noted() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "required": True, "maxLength": "10"},
            "b": {"type": "string", "pattern": "(?<name>x)"},
        },
    }

    out, _, notes = convert_one(schema)

    assert out == {
        "type": "object",
        "properties": {
            "a": {"type": "string", "maxLength": 10},
            "b": {"type": "string"},
        },
    }
    assert any(
        "required: true" in n and "#/x/properties/a/required" in n for n in notes
    )
    assert any("'10' is read as a number" in n for n in notes)
    assert any("pattern" in n and "dropped" in n for n in notes)


def test_yaml_values_become_json() -> None:
    schema = {"type": "string", "format": "date", "example": datetime.date(2024, 1, 2)}

    out, _, notes = convert_one(schema)

    assert out["examples"] == ["2024-01-02"]
    assert len(notes) == 1 and "date" in notes[0]


def test_notes_are_bounded() -> None:
    schema = {f"unknown{i:02d}": True for i in range(MAX_NOTES + 7)}

    _, _, notes = convert_one(schema)

    assert len(notes) == MAX_NOTES + 1
    assert notes[-1] == "... and 7 more note(s)"


# -- references --------------------------------------------------------------


CATEGORY = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "parent": {"$ref": "#/components/schemas/Category"},
        "children": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Category"},
        },
    },
}


def test_recursive_schema_goes_to_defs_and_validates() -> None:
    doc = components(Category=CATEGORY)
    session = converter(doc).session()

    fragment = session.convert(ref("Category"), "/paths/~1c/post/requestBody")
    root = session.finish({"type": "object", "properties": {"category": fragment}})

    assert_valid_schema(root)
    stub = {"$ref": "#/$defs/Category"}
    assert fragment["properties"]["parent"] == stub
    assert fragment["properties"]["children"]["items"] == stub
    assert list(root["$defs"]) == ["Category"]
    assert root["$defs"]["Category"]["properties"]["parent"] == stub

    validator = jsonschema_rs.validator_for(root)
    good = {"name": "root", "children": [{"name": "leaf", "children": []}]}
    assert validator.is_valid({"category": good})
    bad = {"name": "root", "children": [{"name": "a", "children": [{"children": []}]}]}
    assert not validator.is_valid({"category": bad})
    # The definition is exact, not a cut: no note.
    assert session.notes == []


def test_schema_converted_at_its_own_pointer_refers_to_itself() -> None:
    doc = components(Category=CATEGORY)
    session = converter(doc).session()

    fragment = session.convert(CATEGORY, "/components/schemas/Category")

    assert fragment["properties"]["parent"] == {"$ref": "#/$defs/Category"}


def test_mutual_recursion() -> None:
    doc = components(
        A={"type": "object", "properties": {"n": {"type": "integer"}, "b": ref("B")}},
        B={"type": "object", "properties": {"a": ref("A")}},
    )

    out, root, _ = convert_one(ref("A"), doc=doc)

    inner_b = {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}
    a_body = {"type": "object", "properties": {"n": {"type": "integer"}, "b": inner_b}}
    assert out == a_body
    assert root["$defs"] == {"A": a_body}

    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"value": {"n": 1, "b": {"a": {"b": {"a": {"n": 2}}}}}})
    assert not validator.is_valid({"value": {"b": {"a": {"b": {"a": {"n": "x"}}}}}})


def test_ref_siblings_in_30_are_ignored_except_description() -> None:
    doc = components(Name={"type": "string", "description": "inner"})
    schema = {
        "$ref": "#/components/schemas/Name",
        "description": "outer",
        "maxLength": 2,
    }

    out, _, notes = convert_one(schema, doc=doc)

    assert out == {"type": "string", "description": "outer"}
    assert any("ignored maxLength beside $ref" in n for n in notes)


def test_ref_siblings_in_31_apply() -> None:
    doc = components(Name={"type": "string", "minLength": 1})
    schema = {"$ref": "#/components/schemas/Name", "maxLength": 2}

    out, root, _ = convert_one(schema, doc=doc, dialect="3.1")

    assert out == {"maxLength": 2, "allOf": [{"type": "string", "minLength": 1}]}
    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"value": "ab"})
    assert not validator.is_valid({"value": "abc"})


def test_31_ref_with_object_siblings_is_merged() -> None:
    doc = components(Base={"type": "object", "properties": {"id": {"type": "integer"}}})
    schema = {
        "$ref": "#/components/schemas/Base",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }

    out, _, _ = convert_one(schema, doc=doc, dialect="3.1")

    assert out == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "id": {"type": "integer"}},
        "required": ["name"],
    }


def test_anchor_refs_resolve_through_the_resolver() -> None:
    doc = components(Id={"$anchor": "id", "type": "integer"})
    resolver = RefResolver(
        doc, source=SOURCE, anchors={"#id": "/components/schemas/Id"}
    )
    session = SchemaConverter(resolver, dialect="3.1").session()

    assert session.convert({"$ref": "#id"}, "/x") == {"type": "integer"}


def wide_doc(count: int) -> dict[str, Any]:
    """A root that refers to `count` small schemas, some sharing a leaf."""
    schemas: dict[str, Any] = {"Leaf": {"type": "string", "maxLength": 5}}
    for i in range(count):
        schemas[f"S{i:02d}"] = {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "leaf": ref("Leaf")},
        }
    schemas["Root"] = {
        "type": "object",
        "properties": {f"p{i:02d}": ref(f"S{i:02d}") for i in range(count)},
    }
    return components(**schemas)


def test_inline_budget_switches_to_defs() -> None:
    doc = wide_doc(12)
    session = converter(doc, budget=20).session()

    fragment = session.convert(ref("Root"), "/x")
    root = session.finish({"type": "object", "properties": {"body": fragment}})

    assert_valid_schema(root)
    props = fragment["properties"]
    inlined = [name for name, sub in props.items() if "$ref" not in sub]
    # Root is 1 node and each S is 3 (object, a, leaf), so 19 nodes are out
    # after p05. p06 starts within the budget, passes it on `a`, and from then
    # on every $ref is cut: its leaf and all later properties.
    assert inlined == ["p00", "p01", "p02", "p03", "p04", "p05", "p06"]
    assert props["p05"]["properties"]["leaf"] == {"type": "string", "maxLength": 5}
    assert props["p06"]["properties"]["leaf"] == {"$ref": "#/$defs/Leaf"}
    assert props["p07"] == {"$ref": "#/$defs/S07"}
    assert list(root["$defs"]) == ["Leaf"] + [f"S{i:02d}" for i in range(7, 12)]
    # Over budget, definitions refer to each other rather than inline.
    assert root["$defs"]["S07"]["properties"]["leaf"] == {"$ref": "#/$defs/Leaf"}
    assert len(session.notes) == 1 and "inline budget of 20" in session.notes[0]
    assert "#/components/schemas/S06/properties/leaf" in session.notes[0]


def finished(conv: SchemaConverter, name: str) -> str:
    session = conv.session()
    fragment = session.convert(ref(name), "/x")
    root = session.finish({"type": "object", "properties": {"body": fragment}})
    return json.dumps([root, session.notes])


def test_output_does_not_depend_on_memo_or_session_order() -> None:
    doc = wide_doc(12)
    doc["components"]["schemas"].update(
        Category=CATEGORY,
        A={"type": "object", "properties": {"b": ref("B"), "c": ref("Category")}},
        B={"type": "object", "properties": {"a": ref("A"), "s": ref("S03")}},
        C={"type": "object", "properties": {"a": ref("A"), "r": ref("Root")}},
    )
    names = ["Root", "S01", "Category", "A", "B", "C", "Leaf"]

    for budget in (0, 7, 20, 4000):
        forward = converter(doc, budget=budget)
        first = {name: finished(forward, name) for name in names}
        again = {name: finished(forward, name) for name in names}
        backward = converter(doc, budget=budget)
        reverse = {name: finished(backward, name) for name in reversed(names)}
        fresh = {name: finished(converter(doc, budget=budget), name) for name in names}

        assert first == again == reverse == fresh, budget


def test_def_names_are_unique_safe_and_per_session() -> None:
    doc = components(
        Item={"type": "string"},
        Box={"properties": {"Item": {"type": "integer"}}},
        **{"My Schema!": {"type": "boolean"}},
    )
    schema = {
        "properties": {
            "a": {"$ref": "#/components/schemas/Box/properties/Item"},
            "b": ref("Item"),
            "c": {"$ref": "#/components/schemas/My Schema!"},
        }
    }
    conv = converter(doc, budget=0)

    # A tool that only uses the second `Item` still gets the short name, even
    # though the converter saw the other `Item` first.
    first = conv.session()
    first.convert(ref("Item"), "/y")
    first.finish({})
    session = conv.session()
    fragment = session.convert(schema, "/x")
    root = session.finish({"type": "object", "properties": {"body": fragment}})

    assert_valid_schema(root)
    assert list(root["$defs"]) == ["Item", "Item_2", "My_Schema_"]
    assert root["$defs"]["Item"] == {"type": "integer"}
    assert fragment["properties"]["a"] == {"$ref": "#/$defs/Item"}
    body = root["properties"]["body"]["properties"]
    assert body["b"] == {"$ref": "#/$defs/Item_2"}


def test_results_are_never_mutated_by_later_work() -> None:
    doc = wide_doc(3)
    doc["components"]["schemas"]["Category"] = CATEGORY
    conv = converter(doc)
    session = conv.session()
    first = session.convert(ref("Root"), "/x")
    snapshot = copy.deepcopy(first)

    first["description"] = "the caller owns the top level"
    second = session.convert(ref("Root"), "/x")
    session.finish({"properties": {"a": first, "b": second}})
    other = conv.session()
    other.convert(ref("Category"), "/y")
    other.finish({})

    assert "description" not in second
    assert second == snapshot


def test_long_ref_chains_are_cut_by_depth() -> None:
    count = MAX_INLINE_DEPTH + 20
    schemas = {
        f"L{i}": {"type": "object", "properties": {"next": ref(f"L{i + 1}")}}
        for i in range(count)
    }
    schemas[f"L{count}"] = {"type": "string"}

    out, root, notes = convert_one(ref("L0"), doc=components(**schemas))

    assert root["$defs"]
    assert any("nested more than" in n for n in notes)


# -- errors --------------------------------------------------------------------


def test_dangling_ref_is_a_spec_error_with_pointer() -> None:
    session = converter(components()).session()
    schema = {"properties": {"a": {"$ref": "#/components/schemas/Nope"}}}

    with pytest.raises(SpecError) as caught:
        session.convert(schema, "/paths/~1a/get/parameters/0/schema")

    assert (
        caught.value.pointer == "/paths/~1a/get/parameters/0/schema/properties/a/$ref"
    )


@pytest.mark.parametrize(
    ("schema", "pointer", "words"),
    [
        ({"properties": ["a", "b"]}, "/x/properties", "mapping of property names"),
        ({"type": "strng"}, "/x/type", "not a JSON Schema type"),
        ({"properties": {"a": 42}}, "/x/properties/a", "expected a schema"),
        ({"required": "name"}, "/x/required", "list of property names"),
        ({"required": [True]}, "/x/required/0", "Quote the name"),
        ({"items": [1]}, "/x/items/0", "expected a schema"),
        ({"minLength": -1}, "/x/minLength", "non-negative integer"),
        ({"enum": "a"}, "/x/enum", "list of the allowed values"),
    ],
)
def test_invalid_schema_is_a_spec_error(schema: Any, pointer: str, words: str) -> None:
    session = converter().session()

    with pytest.raises(SpecError) as caught:
        session.convert(schema, "/x")

    assert caught.value.pointer == pointer
    assert caught.value.source == SOURCE
    assert words in caught.value.reason


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def test_deep_nesting_is_a_spec_error_not_a_recursion_error() -> None:
    session = converter().session()

    with pytest.raises(SpecError) as caught:
        session.convert(nested(MAX_LITERAL_DEPTH * 2), "/x")

    # Depth counts JSON levels: each property is two (`properties`, its name).
    first_too_deep = MAX_LITERAL_DEPTH // 2 + 1
    assert caught.value.pointer == "/x" + "/properties/a" * first_too_deep
    assert "nested more than" in caught.value.reason


def test_deepest_accepted_output_still_compiles_in_the_rust_validator() -> None:
    # References inlined down to the inline limit, then a schema nested to the
    # literal limit, then an example nested as deep as values may be.
    links = MAX_INLINE_DEPTH // 2
    schemas: dict[str, Any] = {
        f"L{i}": {"type": "object", "properties": {"next": ref(f"L{i + 1}")}}
        for i in range(links)
    }
    value: Any = "leaf"
    for _ in range(40):
        value = {"a": value}
    deepest = nested(MAX_LITERAL_DEPTH // 2)
    inner = deepest
    while "properties" in inner:
        inner = inner["properties"]["a"]
    inner["example"] = value
    schemas[f"L{links}"] = deepest
    session = converter(components(**schemas)).session()

    fragment = session.convert(ref("L0"), "/x")
    root = session.finish({"type": "object", "properties": {"body": fragment}})

    assert "$defs" not in root
    validator = jsonschema_rs.validator_for(root)
    assert validator.is_valid({"body": {"next": {}}})


# -- real documents ------------------------------------------------------------

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def request_schemas(doc: dict[str, Any], resolver: RefResolver) -> list[list[Any]]:
    """Per operation, the (schema, pointer) pairs of its parameters and body."""
    operations = []
    for path, item in doc.get("paths", {}).items():
        item_ptr = join_pointer("/paths", path)
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_ptr = join_pointer(item_ptr, method)
            found = []
            params = [
                (p, join_pointer(item_ptr, "parameters", i))
                for i, p in enumerate(item.get("parameters", []))
            ]
            params += [
                (p, join_pointer(op_ptr, "parameters", i))
                for i, p in enumerate(op.get("parameters", []))
            ]
            for param, ptr in params:
                param, ptr = resolver.deref(param, ptr)
                if "schema" in param:
                    found.append((param["schema"], join_pointer(ptr, "schema")))
            if "requestBody" in op:
                body, ptr = resolver.deref(
                    op["requestBody"], join_pointer(op_ptr, "requestBody")
                )
                for media_type, media in body.get("content", {}).items():
                    if "schema" in media:
                        found.append(
                            (
                                media["schema"],
                                join_pointer(ptr, "content", media_type, "schema"),
                            )
                        )
            operations.append(found)
    return operations


def patterns(schema: Any, seen: set[int]) -> list[str]:
    """Every regex in an output schema (each shared piece visited once)."""
    found: list[str] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if "pattern" in node:
            found.append(node["pattern"])
        found.extend(node.get("patternProperties", {}))
        for key, value in node.items():
            if key in ("properties", "patternProperties", "dependentSchemas", "$defs"):
                stack.extend(value.values())
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
                stack.extend(value)
            elif isinstance(value, dict) and key not in ("default", "const"):
                stack.append(value)
    return found


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "dialect"),
    [("cloudflare/openapi.json", "3.0"), ("mistral/openapi.yaml", "3.1")],
)
def test_every_request_schema_of_real_specs(name: str, dialect: str) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    text = path.read_text(encoding="utf-8")
    doc = (
        json.loads(text)
        if path.suffix == ".json"
        else yaml.load(text, Loader=yaml.CSafeLoader)
    )
    resolver = RefResolver(doc, source=name)
    operations = request_schemas(doc, resolver)

    started = time.perf_counter()
    conv = SchemaConverter(resolver, dialect=dialect)  # type: ignore[arg-type]
    roots = []
    for found in operations:
        session = conv.session()
        props = {
            f"p{i}": session.convert(schema, ptr)
            for i, (schema, ptr) in enumerate(found)
        }
        roots.append(session.finish({"type": "object", "properties": props}))
    elapsed = time.perf_counter() - started

    assert len(operations) > 100
    assert elapsed < 3.0
    # Python's check_schema takes ~1 ms per node on these outputs (tens of
    # seconds in all), so every tool is checked against the same meta-schema
    # by the Rust engine, plus the regex format check that check_schema adds,
    # and 20 tools spread over the document also go through check_schema.
    seen: set[int] = set()
    for root in roots:
        jsonschema_rs.meta.validate(root)
        jsonschema_rs.validator_for(root)
        for pattern in patterns(root, seen):
            re.compile(pattern)
    for i in range(0, len(roots), len(roots) // 20):
        jsonschema.Draft202012Validator.check_schema(roots[i])


def test_integers_too_long_for_a_float_are_still_numbers() -> None:
    """A 400-digit `maximum` is a valid (if odd) bound, not a crash."""
    big = 10**400

    fragment, _, _ = convert_one({"type": "integer", "maximum": big, "maxLength": big})

    assert fragment["maximum"] == big
    assert jsonschema_rs.validator_for(fragment).is_valid(5)
