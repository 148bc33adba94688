"""Where subschemas sit in a JSON Schema, and a copy-on-write walk over them.

Converted schemas are shared between tools, so code that changes a schema
(renaming `$defs`, adapting it to a provider) must copy only what it
changes and leave the shared original alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "ANNOTATIONS",
    "SUB_LIST",
    "SUB_MAP",
    "SUB_ONE",
    "changed_subschemas",
    "changed_subschemas_at",
]

# Keywords whose value is one subschema, a mapping of them, or a list of them.
SUB_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)
SUB_MAP = ("properties", "patternProperties", "dependentSchemas", "$defs")
SUB_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")

# Keywords that describe a schema without constraining what it accepts.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


def changed_subschemas(
    schema: dict[str, Any], change: Callable[[Any], Any]
) -> dict[str, Any]:
    """Apply `change` to every direct subschema of `schema`; return only the
    keywords whose value changed (by identity), with their new values."""
    changed: dict[str, Any] = {}
    for key in SUB_ONE:
        if key in schema:
            new = change(schema[key])
            if new is not schema[key]:
                changed[key] = new
    for key in SUB_MAP:
        sub = schema.get(key)
        if isinstance(sub, dict):
            mapped = {name: change(s) for name, s in sub.items()}
            if any(mapped[name] is not sub[name] for name in sub):
                changed[key] = mapped
    for key in SUB_LIST:
        sub = schema.get(key)
        if isinstance(sub, list):
            listed = [change(s) for s in sub]
            if any(a is not b for a, b in zip(listed, sub, strict=True)):
                changed[key] = listed
    return changed


def changed_subschemas_at(
    schema: dict[str, Any], change: Callable[[Any, str], Any]
) -> dict[str, Any]:
    """`changed_subschemas`, with `change` also given each subschema's JSON
    pointer relative to `schema` (for messages that say where)."""
    changed: dict[str, Any] = {}
    for key in SUB_ONE:
        if key in schema:
            new = change(schema[key], "/" + key)
            if new is not schema[key]:
                changed[key] = new
    for key in SUB_MAP:
        sub = schema.get(key)
        if isinstance(sub, dict):
            mapped = {
                name: change(s, f"/{key}/{_escape(name)}") for name, s in sub.items()
            }
            if any(mapped[name] is not sub[name] for name in sub):
                changed[key] = mapped
    for key in SUB_LIST:
        sub = schema.get(key)
        if isinstance(sub, list):
            listed = [change(s, f"/{key}/{i}") for i, s in enumerate(sub)]
            if any(a is not b for a, b in zip(listed, sub, strict=True)):
                changed[key] = listed
    return changed


def _escape(name: Any) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")
