"""Tools in the formats agent services take: OpenAI, Anthropic and MCP.

Each provider has rules a tool list must follow or the whole request is
refused. An export follows them: where a tool breaks one, the export changes
it the same way every time and says so once, with a warning on this module's
logger per export call and, item by item, in the `changes` list the caller
may pass in:

    changes: list[ExportChange] = []
    tools = to_openai(integration.tools, strict=True, changes=changes)

Limits applied, and where they come from (as documented when this was
written; providers change them, so the constants below are the one place to
update):

* OpenAI (Chat Completions `tools`): function names match
  `^[a-zA-Z0-9_-]{1,64}$` and a request takes at most 128 functions (API
  reference, `FunctionObject.name` and `tools`); a description longer than
  1,024 characters is refused (the API's own `string_above_max_length` error);
  an array schema without `items` is refused ("array schema missing items"),
  so `"items": {}` is added; the root must be a plain object schema.
* OpenAI strict mode (Structured Outputs guide, "Supported schemas"): every
  object has `additionalProperties: false` and lists every property in
  `required`; the keywords taken are `type`, `properties`, `required`,
  `additionalProperties`, `items`, `anyOf`, `enum`, `const`, `$ref`/`$defs`
  (recursion included), `description`, `title`, `pattern`, `format` (only
  date-time, time, date, duration, email, hostname, ipv4, ipv6, uuid), the
  numeric bounds and `multipleOf`, and `minItems`/`maxItems`; the root is an
  object, not `anyOf`; at most 5,000 properties, 10 levels of nesting,
  120,000 characters of property names, definition names, enum and const
  values, 1,000 enum values, and 15,000 characters for one string enum of
  more than 250 values.
* Anthropic (Messages API tool use): tool names match `^[a-zA-Z0-9_-]{1,64}$`
  (newer documentation allows 128 characters; 64 fits both), `input_schema`
  is an object schema without `oneOf`, `allOf` or `anyOf` at the top level
  (the API's own error message), and top-level property names match
  `^[a-zA-Z0-9_.-]{1,64}$` (the API's own error message). Anthropic documents
  no description limit; descriptions are cut at 10,000 characters, our own
  bound so one tool cannot take thousands of tokens of every request.
* MCP (`tools/list`, specification 2025-11-25): `inputSchema` is a JSON Schema
  object with `type: "object"` (2020-12 by default), tool names should match
  `^[A-Za-z0-9_.-]{1,128}$` and be unique; behaviour hints and a display
  title go in `annotations`.

Every export drops a tool whose name breaks the provider's rule, or repeats a
name met earlier in the list (a request with two tools of one name is
refused). Tools built by `Integration` always have valid, unique names; the
check matters for hand-made tools and for lists merged from several
integrations.

Strict mode turns an optional property into a required one whose type also
allows null: the model then sends null to mean "not given". The runtime
checks arguments against the tool's own schema, where null is not allowed for
most optional arguments, so pass the model's arguments through
`drop_strict_nulls(tool, arguments)` before `Runtime.call` (it works at every
level, not only the top one). A null sent for an optional property that
allowed null anyway becomes "not given" too: strict mode cannot tell the two
apart. `oneOf` is read as `anyOf` (as the runtime reads it), `allOf` is merged
into one schema, keywords beside an `anyOf` move into its branches, and a
schema without a type takes the one its keywords or examples show.

A tool is exported strict only when every argument set its strict schema
allows passes, after `drop_strict_nulls`, the shape the runtime checks
against the tool's own schema. Annotations and the few value checks strict
mode cannot express (`minLength`, `maxLength`, `uniqueItems`) are removed,
with a recorded change: the model sees less, the runtime still checks them
and says which value to fix. A conversion that would lose anything else (a
`not`, a required name the object declares no property for, allOf values
that cannot be combined, ...) or a schema that cannot be made strict at all
(a free-form object or value, a limit exceeded) makes the tool non-strict,
and that is recorded too.

Exported schemas share their parts with `Tool.input_schema` where nothing
changed: treat them as read-only, like the tool's own schema. Exports never
modify a tool.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._refs import escape_token
from ._schema import fits_type
from ._subschemas import ANNOTATIONS as _ANNOTATIONS
from ._subschemas import changed_subschemas
from ._tools import Tool

__all__ = [
    "ExportChange",
    "drop_strict_nulls",
    "to_anthropic",
    "to_mcp",
    "to_openai",
]

logger = logging.getLogger(__name__)

OPENAI_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
OPENAI_DESCRIPTION_LIMIT = 1024
OPENAI_TOOL_LIMIT = 128
ANTHROPIC_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ANTHROPIC_PROPERTY = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
ANTHROPIC_DESCRIPTION_LIMIT = 10_000
MCP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")

STRICT_MAX_PROPERTIES = 5000
STRICT_MAX_DEPTH = 10
STRICT_MAX_STRING_SIZE = 120_000
STRICT_MAX_ENUM_VALUES = 1000
STRICT_LARGE_ENUM = 250
STRICT_LARGE_ENUM_SIZE = 15_000
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

# Top-level keywords each provider refuses beside the root's `type: object`.
_OPENAI_ROOT_BANNED = ("anyOf", "oneOf", "allOf", "enum", "not")
_ANTHROPIC_ROOT_BANNED = ("anyOf", "oneOf", "allOf")

# An MCP display title is the description's first paragraph when it is this
# short (it is the operation's summary for most specs).
_TITLE_LIMIT = 100
_TAG = re.compile(r"<[^<>]*>")

# Keywords strict mode takes as they are. `properties`, `required`,
# `additionalProperties`, `items` and `anyOf` are rebuilt, `format` is
# filtered, everything else is removed.
_STRICT_KEEP = frozenset(
    {
        "type",
        "enum",
        "const",
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
_STRICT_REBUILT = frozenset(
    {"properties", "required", "additionalProperties", "items", "anyOf"}
)

# Keywords strict mode does not take whose removal leaves the shape of valid
# arguments alone: annotations, which the runtime does not check either, and
# length and uniqueness checks on values the model writes anyway (the runtime
# still checks them and says which value to fix). Removing any other keyword
# would let strict-valid arguments fail the runtime's check for their shape
# (a `not`, a `dependentRequired`, ...), so a tool with one is not strict.
_STRICT_REMOVABLE = _ANNOTATIONS | {
    "contentMediaType",
    "contentEncoding",
    "minLength",
    "maxLength",
    "uniqueItems",
}

# When allOf members disagree on a bound, the tighter one holds for both.
_LOWER_BOUNDS = frozenset(
    {"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"}
)
_UPPER_BOUNDS = frozenset(
    {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}
)

# A schema without a type takes the one its keywords imply (first match).
_IMPLIED_TYPES = (
    ("object", ("properties", "additionalProperties", "required", "patternProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems")),
    ("string", ("pattern", "format", "minLength", "maxLength")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")),
    ("number", ("multipleOf",)),
)

# allOf members reached through $ref this many times in a row mean the schema
# includes itself; merging would never end.
_MAX_MERGE_DEPTH = 32

# Where subschemas sit, for the copy-on-write walk of non-strict schemas.

# Order and wording of the per-tool kinds in the logged summary.
_KIND_SUMMARY = (
    ("dropped", "{count} tool(s) dropped"),
    ("description", "{count} description(s) cut"),
    ("schema", "{count} schema adjustment(s) in {tools} tool(s)"),
    ("strict", "{count} tool(s) exported without strict mode"),
)


@dataclass(frozen=True)
class ExportChange:
    """One deterministic adjustment an export made so the provider accepts it.

    `tool` is the tool's name, or None for a change to the list as a whole
    (tools left out over a limit). `kind` groups changes: "limit", "dropped",
    "description", "schema" or "strict". `what` says what changed, for people.
    """

    tool: str | None
    what: str
    kind: str = "schema"

    def __str__(self) -> str:
        return f"{self.tool}: {self.what}" if self.tool else self.what


class _Changes:
    """Collects the changes of one export call and reports them once."""

    def __init__(self, export: str) -> None:
        self.export = export
        self.items: list[ExportChange] = []

    def add(self, tool: str | None, what: str, kind: str) -> None:
        self.items.append(ExportChange(tool, what, kind))

    def finish(self, out: list[ExportChange] | None) -> None:
        """Hand the changes to the caller and log one summary warning."""
        if out is not None:
            out.extend(self.items)
        if not self.items:
            return
        logger.warning(
            "%s changed what the provider would refuse: %s. Pass changes=[] to "
            "read each change.",
            self.export,
            self._summary(),
        )

    def _summary(self) -> str:
        parts = [c.what for c in self.items if c.tool is None]
        for kind, label in _KIND_SUMMARY:
            mine = [c for c in self.items if c.kind == kind and c.tool is not None]
            if not mine:
                continue
            tools = len({c.tool for c in mine})
            parts.append(label.format(count=len(mine), tools=tools))
        return "; ".join(parts)


# -- exports -----------------------------------------------------------------


def to_openai(
    tools: Iterable[Tool],
    *,
    strict: bool = False,
    max_tools: int | None = OPENAI_TOOL_LIMIT,
    changes: list[ExportChange] | None = None,
) -> list[dict[str, Any]]:
    """Chat Completions `tools` entries: `{"type": "function", "function": ...}`.

    With `strict`, each tool whose schema can be made strict-compatible gets
    `"strict": true` and the transformed schema; the others get
    `"strict": false` and a recorded change. Pass the model's arguments for a
    strict tool through `drop_strict_nulls` before calling it. Over
    `max_tools` (None: no limit), the first `max_tools` tools in the given
    order are kept.
    """
    _check_max_tools(max_tools)
    log = _Changes("to_openai")

    kept = _valid_tools(tools, OPENAI_NAME, "OpenAI", log)
    kept = _within_limit(kept, max_tools, log)
    entries = [_openai_function(tool, strict, log) for tool in kept]

    log.finish(changes)
    return [{"type": "function", "function": entry} for entry in entries]


def to_anthropic(
    tools: Iterable[Tool], *, changes: list[ExportChange] | None = None
) -> list[dict[str, Any]]:
    """Messages API `tools` entries: `{"name", "description", "input_schema"}`."""
    log = _Changes("to_anthropic")

    kept = _valid_tools(tools, ANTHROPIC_NAME, "Anthropic", log, ANTHROPIC_PROPERTY)
    entries = [
        {
            "name": tool.name,
            "description": _cut(tool, ANTHROPIC_DESCRIPTION_LIMIT, log),
            "input_schema": _object_root(tool, _ANTHROPIC_ROOT_BANNED, log),
        }
        for tool in kept
    ]

    log.finish(changes)
    return entries


def to_mcp(
    tools: Iterable[Tool], *, changes: list[ExportChange] | None = None
) -> list[dict[str, Any]]:
    """MCP `tools/list` entries, with behaviour hints and a title as annotations."""
    log = _Changes("to_mcp")

    kept = _valid_tools(tools, MCP_NAME, "MCP", log)
    entries = [
        {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": _object_root(tool, (), log),
            "annotations": _mcp_annotations(tool),
        }
        for tool in kept
    ]

    log.finish(changes)
    return entries


def drop_strict_nulls(tool: Tool, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The model's `arguments` for a strict-mode `tool`, without the nulls that
    stand for "not given".

    A null for a property `tool.input_schema` declares is kept only where the
    schema requires that property and allows null for it (the null was
    meant); every other null stood for an optional property the model left
    out, and goes. This holds at the top level and inside the nested objects
    and arrays the schema describes, through `$ref`, `anyOf`, `oneOf` and
    `allOf`. Keys the schema does not declare are left alone. Pure:
    `arguments` is not modified.
    """
    if not isinstance(arguments, Mapping):
        raise TypeError(
            f"arguments must be a mapping (the model's JSON object), got "
            f"{type(arguments).__name__}"
        )
    schema = tool.input_schema
    return _drop_nulls(arguments, [schema], schema)


# -- list-level rules --------------------------------------------------------


def _check_max_tools(max_tools: int | None) -> None:
    if max_tools is None:
        return
    if isinstance(max_tools, bool) or not isinstance(max_tools, int) or max_tools < 0:
        raise ValueError(
            f"max_tools must be a non-negative integer or None, got {max_tools!r}"
        )


def _valid_tools(
    tools: Iterable[Tool],
    name_rule: re.Pattern[str],
    provider: str,
    log: _Changes,
    property_rule: re.Pattern[str] | None = None,
) -> list[Tool]:
    """The tools the provider takes, in order; the others dropped and recorded."""
    kept: list[Tool] = []
    seen: set[str] = set()
    for tool in tools:
        problem = _name_problem(tool, name_rule, provider, seen, property_rule)
        if problem is not None:
            log.add(tool.name, f"tool dropped: {problem}", "dropped")
            continue
        seen.add(tool.name)
        kept.append(tool)
    return kept


def _name_problem(
    tool: Tool,
    name_rule: re.Pattern[str],
    provider: str,
    seen: set[str],
    property_rule: re.Pattern[str] | None,
) -> str | None:
    if not isinstance(tool.name, str) or not name_rule.fullmatch(tool.name):
        return f"its name does not match {provider}'s rule ^{name_rule.pattern}$"
    if tool.name in seen:
        return "an earlier tool in the list has the same name"
    if property_rule is None:
        return None

    # Argument names cannot be changed here: the runtime calls the API with them.
    schema = tool.input_schema
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    names = properties if isinstance(properties, Mapping) else {}
    bad = [n for n in names if not property_rule.fullmatch(str(n))]
    if bad:
        return (
            f"argument name {bad[0]!r} does not match {provider}'s rule "
            f"^{property_rule.pattern}$"
        )
    return None


def _within_limit(
    tools: list[Tool], max_tools: int | None, log: _Changes
) -> list[Tool]:
    """The first `max_tools` tools; one change names how many were left out."""
    if max_tools is None or len(tools) <= max_tools:
        return tools

    left_out = tools[max_tools:]
    names = ", ".join(t.name for t in left_out[:5])
    if len(left_out) > 5:
        names += f" and {len(left_out) - 5} more"
    log.add(
        None,
        f"{len(left_out)} tool(s) left out over the limit of {max_tools} "
        f"(OpenAI takes at most {OPENAI_TOOL_LIMIT} tools per request); kept "
        f"the first {max_tools} in the order given, left out {names}. Offer "
        "fewer tools to choose which stay: filter the integration's operations "
        "(Integration(..., operations=OperationFilter(...))) or pass only the "
        "tools the agent needs",
        "limit",
    )
    return tools[:max_tools]


# -- per-tool rules ----------------------------------------------------------


def _cut(tool: Tool, limit: int, log: _Changes) -> str:
    """The description, cut at `limit` with an ellipsis the same way every time."""
    text = tool.description
    if len(text) <= limit:
        return text

    cut = text[: limit - 1].rstrip() + "\u2026"
    log.add(
        tool.name,
        f"description cut from {len(text):,} to {len(cut):,} characters "
        f"(the limit is {limit:,})",
        "description",
    )
    return cut


def _object_root(tool: Tool, banned: tuple[str, ...], log: _Changes) -> dict[str, Any]:
    """The tool's schema with a fresh top level that is a plain object schema.

    Only the top level is copied: everything below is shared with the tool
    and must stay unmodified.
    """
    schema = tool.input_schema
    root: dict[str, Any] = dict(schema) if isinstance(schema, Mapping) else {}

    if root.get("type") != "object":
        log.add(
            tool.name,
            f"top-level type {root.get('type')!r} replaced by 'object' (tool "
            "arguments are always an object)",
            "schema",
        )
        root["type"] = "object"

    # The runtime still checks these against the tool's own schema.
    for key in banned:
        if key in root:
            del root[key]
            log.add(
                tool.name,
                f"top-level keyword {key!r} removed: the provider does not take "
                "it at the top level",
                "schema",
            )
    return root


def _openai_function(tool: Tool, strict: bool, log: _Changes) -> dict[str, Any]:
    """One tool's `function` object, strict when asked and possible."""
    function: dict[str, Any] = {
        "name": tool.name,
        "description": _cut(tool, OPENAI_DESCRIPTION_LIMIT, log),
    }
    parameters = _object_root(tool, _OPENAI_ROOT_BANNED, log)
    if not strict:
        function["parameters"] = _with_array_items(parameters, {})
        return function

    try:
        _check_strict_root(tool)
        converter = _Strict(parameters)
        strict_parameters = converter.convert()
    except _NotStrict as exc:
        log.add(tool.name, f"exported without strict mode: {exc}", "strict")
        function["parameters"] = _with_array_items(parameters, {})
        function["strict"] = False
        return function

    for what in converter.changes():
        log.add(tool.name, what, "schema")
    function["parameters"] = strict_parameters
    function["strict"] = True
    return function


def _check_strict_root(tool: Tool) -> None:
    """A top-level keyword OpenAI refuses is removed from the export, but the
    runtime still checks it: strict-valid arguments could fail it."""
    schema = tool.input_schema
    for key in _OPENAI_ROOT_BANNED:
        if isinstance(schema, Mapping) and key in schema:
            raise _NotStrict(
                f"the top level has {key!r}, which OpenAI does not take there and "
                "the runtime still checks"
            )


def _mcp_annotations(tool: Tool) -> dict[str, Any]:
    """Behaviour hints (and a display title) for MCP clients."""
    annotations: dict[str, Any] = {}
    title = _title(tool)
    if title is not None:
        annotations["title"] = title
    annotations.update(
        {
            "readOnlyHint": tool.read_only,
            "destructiveHint": tool.destructive,
            "idempotentHint": tool.method in ("GET", "HEAD", "PUT", "DELETE"),
            "openWorldHint": True,
        }
    )
    return annotations


def _title(tool: Tool) -> str | None:
    """The description's first paragraph when it is one short line (without
    the HTML tags some specs wrap it in)."""
    first = tool.description.strip().split("\n\n", 1)[0]
    first = _TAG.sub("", first).strip()
    if first and "\n" not in first and len(first) <= _TITLE_LIMIT:
        return first
    return None


# -- non-strict schemas ------------------------------------------------------


def _with_array_items(schema: Any, done: dict[int, Any]) -> Any:
    """`schema` with `"items": {}` on every array schema that has no `items`.

    Copy-on-write: a node that needs no change is returned as it is, so the
    usual schema is not copied at all. `done` maps node ids to results (the
    schema is a DAG with shared parts).
    """
    if not isinstance(schema, dict):
        return schema
    known = done.get(id(schema))
    if known is not None:
        return known

    changed = changed_subschemas(schema, lambda sub: _with_array_items(sub, done))

    # OpenAI refuses an array schema without `items`; `{}` means the same.
    if "array" in _types(schema.get("type")) and "items" not in schema:
        changed["items"] = {}

    result = {**schema, **changed} if changed else schema
    done[id(schema)] = result
    return result


# -- strict schemas ----------------------------------------------------------


class _NotStrict(Exception):
    """The schema cannot be expressed in strict mode; the message says why."""


class _NoValue(_NotStrict):
    """Schemas that must all hold have no value in common (types or enums
    that do not meet): an anyOf branch like that can never match."""


class _Strict:
    """Turns one tool's argument schema into OpenAI's strict-mode subset.

    Nodes are converted once each (the schema is a DAG with shared parts) and
    never modified: every result is a new dict. Changes that lose something
    are noted once per kind with the first place they happened.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        defs = root.get("$defs")
        self._defs: Mapping[str, Any] = defs if isinstance(defs, Mapping) else {}
        self._done: dict[int, dict[str, Any]] = {}

        # Converted nodes stay referenced so their ids are never reused.
        self._alive: list[Any] = []

        # allOf nodes made while merging (a property both sides declare): their
        # merge is part of the one already noted.
        self._made: set[int] = set()

        # Note -> [first path, count].
        self._notes: dict[str, list[Any]] = {}

    def convert(self) -> dict[str, Any]:
        """The strict schema, or `_NotStrict`."""
        body = {k: v for k, v in self._root.items() if k != "$defs"}
        out = self._node(body, "")
        if out.get("type") != "object" or "properties" not in out:
            raise _NotStrict("the top level is not a plain object schema")

        if self._defs:
            defs = {
                name: self._node(sub, "/$defs/" + escape_token(str(name)))
                for name, sub in self._defs.items()
            }
            out = {**out, "$defs": defs}

        _check_strict_limits(out)
        return out

    def changes(self) -> list[str]:
        """What was lost, one line per kind of change."""
        lines = []
        for note, (path, count) in self._notes.items():
            line = f"{note} at {path or '/'}"
            if count > 1:
                line += f" and {count - 1} other place(s)"
            lines.append(line)
        return lines

    # -- nodes -------------------------------------------------------------

    def _node(self, schema: Any, path: str) -> dict[str, Any]:
        if schema is True or (isinstance(schema, Mapping) and not schema):
            raise _NotStrict(f"{_where(path)} accepts any value")
        if not isinstance(schema, Mapping) or _is_false(schema):
            raise _NotStrict(f"{_where(path)} accepts no value")
        known = self._done.get(id(schema))
        if known is not None:
            return known

        self._alive.append(schema)
        node = self._flatten(schema, path)
        # Paths name the schema as the tool has it, where oneOf is still oneOf.
        branches = "oneOf" if "oneOf" in schema and "anyOf" not in schema else "anyOf"
        if "$ref" in node:
            out = self._ref(node, path)
        else:
            out = self._plain(node, path, branches)
        self._done[id(schema)] = out
        return out

    def _flatten(self, schema: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        """Merge `allOf` and read `oneOf` as `anyOf`: strict mode has neither."""
        node = schema
        if "allOf" in node:
            node = self._merge_all_of(node, path)
        if "oneOf" in node:
            if "anyOf" in node:
                raise _NotStrict(f"{_where(path)} has both anyOf and oneOf")
            node = {k: v for k, v in node.items() if k != "oneOf"} | {
                "anyOf": node["oneOf"]
            }
            self._note("'oneOf' read as 'anyOf' (the runtime still checks oneOf)", path)
        if "anyOf" in node and set(node) - _ANNOTATIONS - {"anyOf"}:
            node = self._distribute(node, path)
        return node

    def _distribute(self, node: Mapping[str, Any], path: str) -> dict[str, Any]:
        """Move the keywords beside an anyOf into each of its branches, which
        means the same: strict mode wants anyOf alone (with its wording)."""
        shared = {k: v for k, v in node.items() if k not in _ANNOTATIONS | {"anyOf"}}
        outer = {k: v for k, v in node.items() if k in _ANNOTATIONS}
        branches = node["anyOf"] if isinstance(node["anyOf"], list) else []
        self._alive.append(shared)
        self._note("keywords beside anyOf moved into each branch", path)
        return {**outer, "anyOf": [self._both(shared, b) for b in branches]}

    def _ref(self, node: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A reference to a definition of this schema; keywords beside it go."""
        ref = node["$ref"]
        self._target(ref, path)
        for key in node:
            if key == "$ref":
                continue
            if key not in _ANNOTATIONS:
                raise _NotStrict(
                    f"{_where(path)} has {key!r} beside $ref, which strict mode "
                    "cannot keep and the runtime still checks"
                )
            self._note(f"keyword {key!r} beside $ref removed", path)
        return {"$ref": ref}

    def _plain(
        self, node: Mapping[str, Any], path: str, branches: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _STRICT_REBUILT:
                continue
            if key == "$defs":
                raise _NotStrict(f"{_where(path)} has $defs below the top level")
            if key == "format" and value not in STRICT_FORMATS:
                self._note(f"format {value!r} removed", path)
            elif key in _STRICT_KEEP:
                out[key] = value
            elif key in _STRICT_REMOVABLE or _only_other_names(key, value, node):
                self._note(f"keyword {key!r} removed", path)
            else:
                raise _NotStrict(
                    f"{_where(path)} has {key!r}, which strict mode does not take "
                    "and the runtime still checks"
                )

        if "anyOf" in node:
            out["anyOf"] = self._branches(node["anyOf"], f"{path}/{branches}")
        _meet_values(out, path)
        note = _infer_type(out, node, path)
        if note is not None:
            self._note(note, path)

        kinds = _types(out.get("type"))
        if "object" in kinds:
            self._object(node, out, path)
        elif "properties" in node:
            self._note("keyword 'properties' removed (the type is not object)", path)
        if "array" in kinds:
            if "items" not in node:
                raise _NotStrict(f"{_where(path)} is an array without an items schema")
            out["items"] = self._node(node["items"], f"{path}/items")
        return out

    def _branches(self, branches: Any, path: str) -> list[dict[str, Any]]:
        """The anyOf branches that can match, converted."""
        kept = []
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            try:
                kept.append(self._node(branch, f"{path}/{index}"))
            except _NoValue:
                self._note("anyOf branch that can never match removed", path)
        if not kept:
            raise _NotStrict(f"{_where(path)} has no branch that can match")
        return kept

    def _object(self, node: Mapping[str, Any], out: dict[str, Any], path: str) -> None:
        """Close the object and require every property, optional ones nullable."""
        extra = node.get("additionalProperties")
        if "additionalProperties" in node and not _is_false(extra):
            raise _NotStrict(
                f"{_where(path)} is a free-form object (additionalProperties is "
                "not false); strict mode needs every object closed"
            )
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            if "additionalProperties" not in node:
                raise _NotStrict(
                    f"{_where(path)} is an object without declared properties"
                )
            properties = {}

        required = node.get("required")
        needed = set(required) if isinstance(required, list) else set()
        converted: dict[str, Any] = {}
        for name, sub in properties.items():
            child = self._node(sub, f"{path}/properties/{escape_token(str(name))}")
            converted[name] = child if name in needed else _nullable(child)
        missing = [n for n in needed if n not in properties]
        if missing:
            # Strict mode cannot send a name it does not declare, and the
            # runtime would refuse every call without it.
            raise _NotStrict(
                f"{_where(path)} requires {sorted(missing)[0]!r}, which it "
                "declares no property for"
            )

        out["properties"] = converted
        out["required"] = list(converted)
        out["additionalProperties"] = False

    # -- allOf -------------------------------------------------------------

    def _merge_all_of(self, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
        """The schema and its allOf members (through $ref too) as one schema.

        Properties both sides declare are merged later, when the property is
        converted; bounds take the tighter value; types and enums intersect.
        """
        merged: dict[str, Any] = {}
        parts = self._parts(schema, path, 0)
        for part in parts:
            self._merge_part(merged, part, path)
        _close_like_parts(merged, parts, path)
        if id(schema) not in self._made:
            self._note("'allOf' merged into one schema", path)
        return merged

    def _parts(self, schema: Any, path: str, depth: int) -> list[Mapping[str, Any]]:
        if depth > _MAX_MERGE_DEPTH:
            raise _NotStrict(f"allOf at {path or '/'} includes itself through $ref")
        if schema is True:
            return []
        if not isinstance(schema, Mapping):
            raise _NotStrict(
                f"{_where(path)} has an allOf member that accepts no value"
            )

        own = {k: v for k, v in schema.items() if k not in ("allOf", "$ref")}
        parts: list[Mapping[str, Any]] = [own] if own else []
        if "$ref" in schema:
            parts += self._parts(self._target(schema["$ref"], path), path, depth + 1)
        members = schema.get("allOf")
        for member in members if isinstance(members, list) else []:
            parts += self._parts(member, path, depth + 1)
        return parts

    def _merge_part(
        self, merged: dict[str, Any], part: Mapping[str, Any], path: str
    ) -> None:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
                continue
            current = merged[key]
            if current is value or current == value:
                continue
            merged[key] = self._merge_value(key, current, value, path)

    def _merge_value(self, key: str, current: Any, value: Any, path: str) -> Any:
        if (
            key == "properties"
            and isinstance(current, Mapping)
            and isinstance(value, Mapping)
        ):
            both = dict(current)
            for name, sub in value.items():
                known = both.get(name)
                both[name] = sub if known is None else self._both(known, sub)
            return both
        if key == "required" and isinstance(current, list) and isinstance(value, list):
            return list(dict.fromkeys([*current, *value]))
        if key == "type":
            return _meet_types(current, value, path)
        if key == "enum" and isinstance(current, list) and isinstance(value, list):
            common = [v for v in current if v in value]
            if not common:
                raise _NoValue(
                    f"allOf at {path or '/'} has enums with no value in common"
                )
            return common
        if key in ("items", "additionalProperties"):
            if _is_false(current) or _is_false(value):
                return False
            return self._both(current, value)
        if key in ("anyOf", "oneOf"):
            raise _NotStrict(f"allOf at {path or '/'} combines several {key} lists")
        if _numbers(current, value) and key in _LOWER_BOUNDS:
            return max(current, value)
        if _numbers(current, value) and key in _UPPER_BOUNDS:
            return min(current, value)
        if key == "const":
            raise _NoValue(f"allOf at {path or '/'} has consts that differ")
        if key not in _STRICT_REMOVABLE and key != "format":
            # Keeping one would let values through that the other refuses.
            raise _NotStrict(
                f"allOf at {path or '/'} has {key!r} values strict mode cannot combine"
            )
        if key not in _ANNOTATIONS:
            self._note(f"conflicting {key!r} values in allOf: kept the first", path)
        return current

    def _both(self, first: Any, second: Any) -> Any:
        """A schema for what both allow, merged when it is converted."""
        if first is second:
            return first
        made = {"allOf": [first, second]}
        self._made.add(id(made))
        self._alive.append(made)
        return made

    # -- helpers -----------------------------------------------------------

    def _target(self, ref: Any, path: str) -> Any:
        """The definition `ref` names; strict mode follows only local ones."""
        if ref == "#":
            return self._root
        prefix = "#/$defs/"
        if isinstance(ref, str) and ref.startswith(prefix):
            name = ref[len(prefix) :].replace("~1", "/").replace("~0", "~")
            if name in self._defs:
                return self._defs[name]
        raise _NotStrict(
            f"{_where(path)} refers to {ref!r}, which is not in the schema's $defs"
        )

    def _note(self, note: str, path: str) -> None:
        entry = self._notes.setdefault(note, [path, 0])
        entry[1] += 1


def _close_like_parts(
    merged: dict[str, Any], parts: list[Mapping[str, Any]], path: str
) -> None:
    """Keep in `merged` only the properties every closed part allows.

    The tool's schema already reads an allOf of closed objects as their
    closed union where it could; a closed part left (reached through $ref)
    is checked literally by the runtime, so a property it does not declare
    can never be sent, and requiring one leaves nothing that could match.
    """
    properties = merged.get("properties")
    if not isinstance(properties, Mapping):
        return
    allowed = set(properties)
    for part in parts:
        if "additionalProperties" not in part or not _is_false(
            part["additionalProperties"]
        ):
            continue
        if part.get("patternProperties"):
            raise _NotStrict(f"allOf at {path or '/'} closes a part by patterns")
        declared = part.get("properties")
        allowed &= set(declared) if isinstance(declared, Mapping) else set()
    if allowed == set(properties):
        return
    required = merged.get("required")
    needed = set(required) if isinstance(required, list) else set()
    if needed - allowed:
        raise _NoValue(
            f"allOf at {path or '/'} requires a property one of its closed "
            "members does not allow"
        )
    merged["properties"] = {n: s for n, s in properties.items() if n in allowed}


def _only_other_names(key: str, value: Any, node: Mapping[str, Any]) -> bool:
    """Whether `patternProperties` only speak of names the object does not
    declare: strict mode closes the object to those, so dropping the patterns
    takes nothing away from what strict arguments may hold."""
    if key != "patternProperties" or not isinstance(value, Mapping):
        return False
    declared = node.get("properties")
    names = list(declared) if isinstance(declared, Mapping) else []
    try:
        return not any(re.search(str(p), str(n)) for p in value for n in names)
    except re.error:
        return False


def _meet_values(out: dict[str, Any], path: str) -> None:
    """One list of allowed values where merged parts gave a const, an enum
    and a type (all must hold); `_NoValue` when no value meets them all."""
    values = out.get("enum")
    if "const" in out:
        values = [out["const"]] if values is None else values
        values = [v for v in values if _same(v, out["const"])]
    if values is None:
        return
    if "type" in out:
        kinds = _types(out["type"])
        values = [v for v in values if fits_type(v, kinds)]
    if not values:
        raise _NoValue(f"{_where(path)} allows no value of its enum, const and type")
    if "const" in out:
        out.pop("enum", None)
    elif len(values) < len(out["enum"]):
        out["enum"] = values


def _same(a: Any, b: Any) -> bool:
    """JSON equality (Python has True == 1)."""
    return a == b and _json_type(a) == _json_type(b)


def _where(path: str) -> str:
    return f"the schema at {path or '/'}"


def _types(kind: Any) -> list[str]:
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    return []


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _is_false(schema: Any) -> bool:
    """`false`, or `{"not": {}}`, its spelling as an object."""
    return schema is False or (
        isinstance(schema, Mapping) and dict(schema) == {"not": {}}
    )


def _meet_types(current: Any, value: Any, path: str) -> Any:
    """The types both allOf members allow (an integer is also a number)."""
    left, right = _types(current), _types(value)
    common = [t for t in left if t in right]
    if "integer" not in common and (
        ("integer" in left and "number" in right)
        or ("number" in left and "integer" in right)
    ):
        common.append("integer")
    if not common:
        raise _NoValue(
            f"allOf at {path or '/'} asks for types that have no value in common"
        )
    return common[0] if len(common) == 1 else common


def _json_type(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _infer_type(out: dict[str, Any], node: Mapping[str, Any], path: str) -> str | None:
    """Give a node a type when its keywords imply one (strict mode needs one);
    a note when that is a reading worth reporting."""
    if "type" in out or "anyOf" in out:
        return None

    values = (
        out.get("enum") if "enum" in out else [out["const"]] if "const" in out else None
    )
    if isinstance(values, list):
        kinds = list(dict.fromkeys(_json_type(v) for v in values))
        if None not in kinds and kinds:
            out["type"] = kinds[0] if len(kinds) == 1 else kinds
        return None

    for kind, keywords in _IMPLIED_TYPES:
        if any(k in node for k in keywords):
            out["type"] = kind
            return None

    # Specs often leave the type out and show it in examples: the examples
    # are valid values, so their one type is a safe reading.
    examples = node.get("examples")
    hints = list(examples) if isinstance(examples, list) else []
    hints += [node["default"]] if "default" in node else []
    kinds = {_json_type(v) for v in hints}
    if len(kinds) == 1 and kinds.isdisjoint({None, "null"}):
        out["type"] = kinds.pop()
        return f"type {out['type']!r} taken from the examples or default"
    raise _NotStrict(f"{_where(path)} accepts any value")


def _allows_null(node: Mapping[str, Any]) -> bool:
    """Whether null surely passes `node` (False when unsure)."""
    if "enum" in node or "const" in node or "$ref" in node:
        return False
    if "anyOf" in node:
        return "type" not in node and any(
            isinstance(b, Mapping) and _allows_null(b) for b in node["anyOf"]
        )
    return "null" in _types(node.get("type"))


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """`node` also allowing null: how strict mode spells an optional property."""
    if _allows_null(node):
        return node

    # A plain type widens; anything that null would still fail is wrapped.
    if set(node) & {"enum", "const", "$ref"} or ("anyOf" in node and "type" in node):
        notes = {k: v for k, v in node.items() if k in ("description", "title")}
        rest = {k: v for k, v in node.items() if k not in ("description", "title")}
        return {**notes, "anyOf": [rest, {"type": "null"}]}
    if "anyOf" in node:
        return {**node, "anyOf": [*node["anyOf"], {"type": "null"}]}
    return {**node, "type": [*_types(node.get("type")), "null"]}


# -- strict limits -----------------------------------------------------------


@dataclass
class _Size:
    """What strict mode counts in a schema."""

    properties: int = 0
    strings: int = 0
    enum_values: int = 0


# Strict mode takes a few levels of nesting; a walk far longer than that has
# already failed, and stopping it keeps deep rings of definitions off the stack.
_LONGEST_WALK = 200


def _check_strict_limits(schema: dict[str, Any]) -> None:
    """Raise `_NotStrict` when the schema exceeds a strict-mode limit."""
    defs = schema.get("$defs") or {}
    size = _size(schema, {})
    strings = size.strings + sum(len(str(name)) for name in defs)

    depth = _depth(schema, defs, {}, {})
    problems = [
        (size.properties, STRICT_MAX_PROPERTIES, "properties"),
        (depth, STRICT_MAX_DEPTH, "levels of nesting"),
        (strings, STRICT_MAX_STRING_SIZE, "characters of names and enum values"),
        (size.enum_values, STRICT_MAX_ENUM_VALUES, "enum values"),
    ]
    for found, limit, what in problems:
        if found > limit:
            raise _NotStrict(
                f"the schema has {found:,} {what}; strict mode takes at most {limit:,}"
            )


def _size(node: Any, done: dict[int, _Size]) -> _Size:
    """Counts for `node` as its JSON text would have them (shared parts count
    once per place)."""
    if not isinstance(node, dict):
        return _Size()
    known = done.get(id(node))
    if known is not None:
        return known

    size = _Size()
    properties = node.get("properties") or {}
    size.properties += len(properties)
    size.strings += sum(len(str(name)) for name in properties)
    _count_enum(node, size)

    children = [*properties.values(), *(node.get("anyOf") or [])]
    children += [node[k] for k in ("items",) if k in node]
    children += list((node.get("$defs") or {}).values())
    for child in children:
        sub = _size(child, done)
        size.properties += sub.properties
        size.strings += sub.strings
        size.enum_values += sub.enum_values

    done[id(node)] = size
    return size


def _count_enum(node: dict[str, Any], size: _Size) -> None:
    """Add `node`'s enum and const values to `size`; refuse an enum too big."""
    enum = list(node.get("enum") or [])
    values = [*enum, node["const"]] if "const" in node else enum
    size.enum_values += len(enum)
    size.strings += sum(len(v if isinstance(v, str) else json.dumps(v)) for v in values)

    if len(enum) > STRICT_LARGE_ENUM and all(isinstance(v, str) for v in enum):
        total = sum(len(v) for v in enum)
        if total > STRICT_LARGE_ENUM_SIZE:
            raise _NotStrict(
                f"an enum of {len(enum)} strings has {total:,} characters; strict "
                f"mode takes at most {STRICT_LARGE_ENUM_SIZE:,} for more than "
                f"{STRICT_LARGE_ENUM} values"
            )


def _depth(
    node: Any,
    defs: Mapping[str, Any],
    done: dict[int, int],
    measured: dict[str, int],
    chain: int = 0,
) -> int:
    """Object nesting levels below and including `node`, through references.

    Each definition is measured once; a reference back to one still being
    measured (recursion) counts nothing more, as strict mode allows it.
    `chain` counts the references and subschemas walked to reach `node`: a
    long chain of definitions could otherwise exhaust Python's stack.
    """
    if not isinstance(node, dict):
        return 0
    if chain > _LONGEST_WALK:
        raise _NotStrict(
            f"the schema's definitions refer to each other more than {_LONGEST_WALK} "
            "levels deep"
        )
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        if name not in measured and name in defs:
            measured[name] = 0
            measured[name] = _depth(defs[name], defs, done, measured, chain + 1)
        return measured.get(name, 0)
    known = done.get(id(node))
    if known is not None:
        return known

    children = [*(node.get("properties") or {}).values(), *(node.get("anyOf") or [])]
    children += [node["items"]] if "items" in node else []
    below = 0
    for child in children:
        below = max(below, _depth(child, defs, done, measured, chain + 1))
    depth = below + (1 if "properties" in node else 0)
    done[id(node)] = depth
    return depth


# -- strict arguments --------------------------------------------------------


def _drop_nulls(value: Any, schemas: list[Any], root: Mapping[str, Any]) -> Any:
    """`value` without the nulls that stand for "not given" under `schemas`.

    A null for a declared property is kept only when a schema requires the
    property and its schema allows null: that null was meant. Any other null
    stood for an optional property the model left out.
    """
    if isinstance(value, Mapping):
        declared: dict[str, list[Any]] = {}
        required: set[str] = set()
        for leaf in _leaves(schemas, root):
            properties = leaf.get("properties")
            if isinstance(properties, Mapping):
                for name, sub in properties.items():
                    declared.setdefault(name, []).append(sub)
            names = leaf.get("required")
            if isinstance(names, list):
                required.update(n for n in names if isinstance(n, str))

        def meant(key: str) -> bool:
            return key in required and any(
                _accepts_null(sub, root, 0) for sub in declared[key]
            )

        return {
            key: _drop_nulls(item, declared.get(key, []), root)
            for key, item in value.items()
            if not (item is None and key in declared and not meant(key))
        }

    if isinstance(value, list):
        items = [leaf["items"] for leaf in _leaves(schemas, root) if "items" in leaf]
        return [_drop_nulls(item, items, root) for item in value]
    return value


def _accepts_null(schema: Any, root: Mapping[str, Any], depth: int) -> bool:
    """Whether null passes `schema` (through $ref and the combinators)."""
    if schema is True:
        return True
    if not isinstance(schema, Mapping) or depth > _MAX_MERGE_DEPTH:
        return False
    if "type" in schema and "null" not in _types(schema["type"]):
        return False
    if "enum" in schema and None not in schema["enum"]:
        return False
    if "const" in schema and schema["const"] is not None:
        return False

    if "$ref" in schema:
        target = _ref_target(schema["$ref"], root)
        if not _accepts_null(target, root, depth + 1):
            return False
    members = schema.get("allOf")
    if isinstance(members, list):
        if not all(_accepts_null(m, root, depth + 1) for m in members):
            return False
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list):
            if not any(_accepts_null(m, root, depth + 1) for m in members):
                return False
    return True


def _ref_target(ref: Any, root: Mapping[str, Any]) -> Any:
    """What a local `$ref` of a tool schema names (None when it names nothing)."""
    if ref == "#":
        return root
    defs = root.get("$defs")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return None
    if not isinstance(defs, Mapping):
        return None
    return defs.get(ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~"))


def _leaves(schemas: list[Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every schema that applies to a value of `schemas`: themselves, what
    they refer to, and their allOf/anyOf/oneOf members."""
    found: list[Mapping[str, Any]] = []
    seen: set[int] = set()
    pending = list(schemas)
    while pending:
        schema = pending.pop(0)
        if not isinstance(schema, Mapping) or id(schema) in seen:
            continue
        seen.add(id(schema))
        found.append(schema)

        if "$ref" in schema:
            pending.append(_ref_target(schema["$ref"], root))
        for key in ("allOf", "anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list):
                pending.extend(members)
    return found
