"""Convert OpenAPI Schema Objects into JSON Schema 2020-12 pieces of tool inputs.

An operation's parameters and request body each carry a Schema Object, written
in the OpenAPI 3.0 dialect (a superset of a subset of JSON Schema draft 5) or
the OpenAPI 3.1 dialect (JSON Schema 2020-12 with a few extra keywords). An LLM
tool's input schema must be plain JSON Schema 2020-12 that a model reads well,
so `SchemaSession.convert` rewrites each piece:

* `$ref`s are inlined: models follow inline schemas much better than
  references. A reference back to a schema still being converted higher up
  (recursion) becomes `{"$ref": "#/$defs/<Name>"}`, and so does every reference
  met once the session has emitted `inline_budget` schema nodes, which keeps
  huge specs (Kubernetes, Stripe) to a bounded size. `SchemaSession.finish`
  adds the definitions to the tool's root schema.
* 3.0 idioms get their 2020-12 spelling (`nullable`, boolean
  `exclusiveMinimum`, `example`), `readOnly` properties are left out of request
  input, `allOf` is merged into one schema where that is exact, and keywords
  that mean nothing to a validator or a model (`xml`, `discriminator`, `x-*`,
  ...) are dropped.
* No tool ships a schema nothing can satisfy because of a data error: an
  `allOf` of objects that each forbid extra properties is read as their
  closed union at every level (a property several members declare merges the
  same way); a required name a closed object does not allow is dropped; an
  `enum` or `const` value its own `type` refuses is respelled in that type
  (`1` as "1" for a string) or, when it has no spelling there, widens the
  type; an array's enum of item values becomes the items' enum; an empty
  `enum` is ignored.

Anything that is not exact, and every lenient reading of an invalid schema, is
recorded in `SchemaSession.notes`; input that cannot be read is a `SpecError`.

Speed: one `SchemaConverter` serves every tool of a document and remembers the
conversion of each referenced schema whose result cannot depend on where it is
used: a schema that is not part of a reference cycle, converted without any
budget or depth cut. Reusing such a piece gives exactly what converting it again
would give, so memoisation never changes the output; it only makes a document
with hundreds of operations over the same components cheap. Pieces are shared
between sessions and between places in one output, so they are never mutated:
`convert` hands out a fresh top-level dict, everything below it is read-only.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema_rs

from ._errors import SpecError
from ._refs import RefResolver, escape_token, split_pointer
from ._subschemas import ANNOTATIONS as _ANNOTATIONS
from ._subschemas import SUB_ONE, changed_subschemas, changed_subschemas_at

__all__ = [
    "MAX_INLINE_DEPTH",
    "MAX_LITERAL_DEPTH",
    "MAX_NOTES",
    "SchemaConverter",
    "SchemaSession",
]

# Depths are counted in JSON levels of the output (a property is two levels,
# `properties` and the name; `items` is one), because that is what limits the
# Rust validator: it refuses documents nested about 255 levels deep. The three
# bounds below, plus a few levels for the tool's own wrapper and `$defs`, stay
# under that, and keep our own recursion far from Python's limit.

# A schema nested deeper than this inside one document node is an error: no
# real API nests that deep (about 60 levels of properties).
MAX_LITERAL_DEPTH = 120

# A `$ref` met deeper than this in the output goes to `$defs` instead of being
# inlined, so chains of references cannot nest the output without bound; a
# model reads a 30-level-deep inline schema badly anyway.
MAX_INLINE_DEPTH = 60

# Example, default and enum values nested deeper than this are refused.
_MAX_VALUE_DEPTH = 40

# Notes kept per session before they are summed up as "... and N more".
MAX_NOTES = 20

_TYPES = frozenset(
    {"string", "number", "integer", "boolean", "array", "object", "null"}
)

# Dropped without a note: documentation, serialisation hints, identifiers that
# RefResolver has already used, and vendor extensions (checked by prefix).
_SILENT = frozenset(
    {
        "xml",
        "externalDocs",
        "discriminator",
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "definitions",
        "$vocabulary",
    }
)

# Dropped with a note: dynamic scopes cannot be expressed once schemas are
# inlined, so the schema becomes less strict where they were.
_DYNAMIC = frozenset(
    {"$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"}
)

# Keywords read after the keyword loop because they depend on other keywords.
_DEFERRED = frozenset(
    {"required", "nullable", "exclusiveMinimum", "exclusiveMaximum", "example", "allOf"}
)


# Keywords that also apply to a null instance: beside them `nullable` cannot
# just widen `type`, the schema is wrapped in `anyOf` instead.
_NULL_SENSITIVE = ("allOf", "anyOf", "oneOf", "not", "$ref", "if")

_WRAPPED_BY_NULLABLE = frozenset(_NULL_SENSITIVE)

# Where subschemas sit in an output schema (used when renaming `$defs`).

_PLAIN_TYPES = frozenset({str, int, bool, type(None)})

_NAME_JUNK = re.compile(r"[^A-Za-z0-9_.-]+")

# A referenced schema as the session knows it: (pointer, drop_read_only).
_Key = tuple[str, bool]
_Schema = dict[str, Any] | bool
_NoteEntry = tuple[tuple[Any, ...], str]


@dataclass(frozen=True, slots=True)
class _Piece:
    """A memoised conversion and what converting it did to the session."""

    schema: _Schema
    size: int  # schema nodes emitted
    reach: int  # deepest inlined $ref below the piece's root, relative to it
    defs: tuple[_Key, ...]  # definitions it refers to, in first-use order
    notes: tuple[_NoteEntry, ...]


class SchemaConverter:
    """Converts the Schema Objects of one document; shared by all its tools.

    `dialect` is the document's OpenAPI schema dialect ("3.0" also serves
    Swagger 2.0 documents). `inline_budget` is the number of schema nodes a
    session inlines before it emits every further `$ref` as a `$defs` entry.
    """

    def __init__(
        self,
        resolver: RefResolver,
        *,
        dialect: Literal["3.0", "3.1"],
        inline_budget: int = 4000,
    ) -> None:
        if dialect not in ("3.0", "3.1"):
            raise ValueError(f"dialect must be '3.0' or '3.1', got {dialect!r}")
        if isinstance(inline_budget, bool) or not isinstance(inline_budget, int):
            raise ValueError("inline_budget must be an integer")
        if inline_budget < 0:
            raise ValueError("inline_budget must not be negative")
        self.resolver = resolver
        self.dialect = dialect
        self.inline_budget = inline_budget

        # Memoised pieces: inlined references, and `$defs` bodies converted
        # under the budget or (all references cut) over it.
        self._inline: dict[_Key, _Piece] = {}
        self._def_inline: dict[_Key, _Piece] = {}
        self._def_over: dict[_Key, _Piece] = {}

        # Pointers seen on a reference cycle: their conversion depends on the
        # path that reached them, so they are never memoised as inline pieces.
        self._cyclic: set[str] = set()

        self._targets: dict[str, tuple[Any, str]] = {}
        self._names: dict[_Key, str] = {}
        self._names_taken: set[str] = set()
        self._stubs: dict[_Key, dict[str, str]] = {}
        self._patterns: dict[str, bool] = {}
        # For callers: conversions they found reusable across sessions (the
        # tool builder keeps bare parameter `$ref`s here), living as long as
        # the converter.
        self.shared: dict[str, Any] = {}

    def session(self) -> SchemaSession:
        """A new session; use one per tool and end it with `finish`."""
        return SchemaSession(self)

    def _target(self, node: dict[str, Any], pointer: str) -> tuple[Any, str]:
        """The schema a `$ref` node points at and its pointer (cached: deref
        walks the document, and big specs repeat the same refs thousands of
        times)."""
        ref = node["$ref"]
        cacheable = isinstance(ref, str)
        found = self._targets.get(ref) if cacheable else None
        if found is None:
            found = self.resolver.deref(node, pointer)
            if cacheable:
                self._targets[ref] = found
        return found

    def _read_only(self, node: Any, pointer: str) -> bool:
        """Whether a property schema is marked `readOnly`, looking through a
        `$ref` (3.0 ignores a `readOnly` written beside the `$ref`)."""
        if not isinstance(node, dict):
            return False
        if "$ref" not in node:
            return node.get("readOnly") is True
        if self.dialect == "3.1" and node.get("readOnly") is True:
            return True
        target, _ = self._target(node, pointer)
        return isinstance(target, dict) and target.get("readOnly") is True

    def _name(self, key: _Key) -> str:
        """A converter-wide unique `$defs` name for `key`; sessions may pick a
        nicer one in `finish`, so this one only has to be unique."""
        name = self._names.get(key)
        if name is None:
            name = _unique_name(_base_name(key[0]), self._names_taken)
            self._names[key] = name
        return name

    def _stub(self, key: _Key) -> dict[str, str]:
        """The shared `{"$ref": "#/$defs/<name>"}` node for `key`."""
        stub = self._stubs.get(key)
        if stub is None:
            stub = {"$ref": "#/$defs/" + self._name(key)}
            self._stubs[key] = stub
        return stub

    def _pattern_ok(self, pattern: str) -> bool:
        """Whether both engines that read our output accept a regex."""
        ok = self._patterns.get(pattern)
        if ok is None:
            ok = _regex_compiles(pattern)
            self._patterns[pattern] = ok
        return ok


class SchemaSession:
    """Converts the schemas of one tool and collects the `$defs` they need.

    `notes` lists, for the build report, the cuts, dropped keywords and lenient
    readings, each kind once per session at the pointer where it was first met
    (at most `MAX_NOTES`, then a running "... and N more").
    """

    notes: list[str]

    def __init__(self, converter: SchemaConverter) -> None:
        self.notes = []
        self._conv = converter
        self._source = converter.resolver.source
        self._dialect = converter.dialect
        self._budget = converter.inline_budget
        self._dro = True
        self._finished = False

        # Nodes emitted so far, cuts made, and the deepest inlined $ref of the
        # piece being converted: what decides whether a memoised piece fits.
        self._count = 0
        self._cuts = 0
        self._reach = -1

        # Referenced schemas being converted on the current path (recursion).
        self._path: dict[str, int] = {}
        self._path_list: list[str] = []

        # Every definition request and note attempt, in order, so the effect
        # of converting a piece can be recorded with it and replayed.
        self._def_log: list[_Key] = []
        self._note_log: list[_NoteEntry] = []
        self._note_keys: set[tuple[Any, ...]] = set()
        self._hidden_notes = 0
        # A closed object requiring a name it does not allow was met: the
        # finished schema is checked for what is still unsatisfiable.
        self._pending = False

        self._requested: set[_Key] = set()
        self._queue: deque[_Key] = deque()

    # -- public API -------------------------------------------------------

    @property
    def converter(self) -> SchemaConverter:
        return self._conv

    def convert(
        self, schema: Any, pointer: str, *, drop_read_only: bool = True
    ) -> dict[str, Any] | bool:
        """`schema` (found at JSON pointer `pointer` of the document) as JSON
        Schema 2020-12. With `drop_read_only`, `readOnly` properties are left
        out, as a request must not send them.

        The returned dict is the caller's; what it contains may be shared with
        other results and must not be mutated.
        """
        if self._finished:
            raise RuntimeError(
                "this SchemaSession is finished; start another with "
                "SchemaConverter.session()"
            )
        self._dro = drop_read_only
        self._enter_root(pointer)

        result = self._schema(schema, pointer, 0, 0)

        # Pieces below may be shared; a fresh top level lets the tool builder
        # add a description or a title without touching anyone else's schema.
        return dict(result) if isinstance(result, dict) else result

    def finish(self, root: dict[str, Any]) -> dict[str, Any]:
        """`root` (the tool's input schema, holding this session's fragments)
        with a top-level `$defs` holding every definition they refer to."""
        if self._finished:
            raise RuntimeError("SchemaSession.finish() was already called")
        self._finished = True

        # Converting a definition may request more; first-use order keeps the
        # output deterministic.
        bodies: dict[_Key, _Schema] = {}
        while self._queue:
            key = self._queue.popleft()
            bodies[key] = self._define(key)
        if bodies:
            root = self._attach_defs(root, bodies)
        if self._pending:
            root = self._drop_unmeetable(root)
        return root

    def _drop_unmeetable(self, root: dict[str, Any]) -> dict[str, Any]:
        """`root` without the required names a closed object does not allow
        (no object could have them, so the tool could never be called), each
        drop noted. Done on the finished schema, because a node that requires
        a name it lacks may still be merged into a closed union that has it."""
        lost: list[str] = []
        fixed = _meetable(root, "", {}, lost)
        if lost:
            shown = ", ".join(lost[:3])
            more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
            self._note(
                ("closed-required",),
                f"input schema {shown}{more}: required but allowed by no "
                "property of its closed object (additionalProperties: false, "
                "or an allOf of such objects read as their closed union); "
                "dropped, as no object could meet the requirement",
            )
        return fixed

    def mark(self) -> tuple[int, int, int, int]:
        """A position in the session, for `self_contained_since`."""
        return (self._count, len(self._note_log), len(self._def_log), self._cuts)

    def self_contained_since(self, mark: tuple[int, int, int, int]) -> int | None:
        """The schema nodes emitted since `mark` when what was converted since
        then stands on its own (no note, no `$defs` entry, no cut), so a
        caller may reuse it in another session through `reuse`; else None."""
        count, notes, defs, cuts = mark
        if (len(self._note_log), len(self._def_log), self._cuts) != (notes, defs, cuts):
            return None
        return self._count - count

    def reuse(self, nodes: int) -> None:
        """Account for a self-contained result reused from another session,
        as if it had been converted here: it counts toward the inline budget."""
        self._count += nodes

    # -- notes ------------------------------------------------------------

    def _note(self, key: tuple[Any, ...], message: str) -> None:
        """Record a note once per key; past `MAX_NOTES`, keep a running count."""
        self._note_log.append((key, message))
        if key == _PENDING:
            # Logged (so memoised pieces replay it) but not shown: `finish`
            # decides whether there is anything to report.
            self._pending = True
            return
        if key in self._note_keys:
            return
        self._note_keys.add(key)

        if len(self.notes) < MAX_NOTES:
            self.notes.append(message)
            return

        self._hidden_notes += 1
        summary = f"... and {self._hidden_notes} more note(s)"
        if self._hidden_notes == 1:
            self.notes.append(summary)
        else:
            self.notes[-1] = summary

    def _error(self, pointer: str, message: str) -> SpecError:
        return SpecError(message, source=self._source, pointer=pointer)

    # -- schema nodes -----------------------------------------------------

    def _enter_root(self, pointer: str) -> None:
        """Start a new root; its own pointer counts as being converted, so a
        schema referring to itself becomes a definition at once."""
        self._path = {pointer: 0}
        self._path_list = [pointer]
        self._reach = -1

    def _schema(self, node: Any, ptr: str, depth: int, lit: int) -> _Schema:
        """Convert one schema. `depth` is the nesting level in the output,
        `lit` the level inside the current document node (reset at a $ref)."""
        if not isinstance(node, dict):
            return self._not_a_mapping(node, ptr)
        if lit > MAX_LITERAL_DEPTH:
            raise self._error(
                ptr,
                f"schemas are nested more than {MAX_LITERAL_DEPTH} JSON levels deep "
                "here. Flatten the schema, or move parts of it to "
                "components/schemas and refer to them with $ref.",
            )
        if "$ref" in node:
            return self._ref_node(node, ptr, depth, lit)

        # `nullable` beside subschemas wraps the result in anyOf: what is
        # below ends up two levels deeper than it looks.
        if node.get("nullable") is True and not _WRAPPED_BY_NULLABLE.isdisjoint(node):
            depth, lit = depth + 2, lit + 2

        self._count += 1
        out: dict[str, Any] = {}
        for key, value in node.items():
            handler = _HANDLERS.get(key)
            if handler is not None:
                handler(self, out, key, value, ptr, depth, lit)
            elif key not in _DEFERRED:
                self._other_keyword(key, ptr)

        if "enum" in out or "const" in out:
            self._fit_values(out, ptr, node.get("nullable") is True)

        # Keywords whose meaning depends on their neighbours come last.
        if not _DEFERRED.isdisjoint(node):
            out = self._deferred(node, out, ptr, depth, lit)
        return out

    def _not_a_mapping(self, node: Any, ptr: str) -> bool:
        """Boolean schemas are kept (3.1; an unambiguous lenient reading in
        3.0); anything else where a schema belongs is an error."""
        if not isinstance(node, bool):
            raise self._error(
                ptr,
                f"expected a schema (a mapping of JSON Schema keywords) but "
                f"found {_describe(node)}. Replace it with a schema object such "
                'as {"type": "string"}.',
            )
        self._count += 1
        if self._dialect == "3.0":
            self._note(
                ("bool-schema",),
                f"#{ptr}: boolean schema `{str(node).lower()}` is not OpenAPI "
                "3.0; kept with its JSON Schema meaning",
            )
        return node

    def _other_keyword(self, key: Any, ptr: str) -> None:
        """Drop a keyword we do not convert, with a note when it might matter."""
        if isinstance(key, str) and (key.startswith("x-") or key in _SILENT):
            return
        if key in _DYNAMIC:
            self._note(
                ("dynamic", key),
                f"#{ptr}: dropped {key}; dynamic references cannot be kept in "
                "an inlined schema, so the schema is less strict there",
            )
            return
        self._note(
            ("unknown", key),
            f"#{ptr}: dropped unknown keyword {key!r} (not a JSON Schema or "
            f"OpenAPI {self._dialect} keyword; check its spelling); later "
            "occurrences are dropped without a note",
        )

    def _deferred(
        self, node: dict[str, Any], out: dict[str, Any], ptr: str, depth: int, lit: int
    ) -> dict[str, Any]:
        """Apply the keywords that depend on others, in a fixed order."""
        for key, bound in (
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ):
            if key in node:
                self._exclusive(out, node[key], key, bound, ptr)

        if "example" in node and "examples" not in out:
            out["examples"] = [self._json(node["example"], ptr + "/example")]

        if "required" in node:
            self._required(out, node, ptr)

        if "allOf" in node:
            members = self._schema_list(node["allOf"], ptr + "/allOf", depth, lit)
            if members is not None:
                lost: list[str] = []
                unions: list[str] = []
                out = _combine_all_of(out, members, lost, unions)
                if lost:
                    self._note(_PENDING, "")
                self._note_unions(ptr, unions)

        if out.get("additionalProperties") is False and "required" in out:
            if _closed_misses(out):
                self._note(_PENDING, "")

        if "nullable" in node:
            out = self._nullable(out, node["nullable"], ptr)
        return out

    # -- references -------------------------------------------------------

    def _ref_node(
        self, node: dict[str, Any], ptr: str, depth: int, lit: int
    ) -> _Schema:
        """A `$ref` node, with the dialect's reading of keywords beside it."""
        if len(node) == 1:
            return self._ref(node, ptr, depth)

        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if self._dialect == "3.0":
            return self._ref_siblings_30(self._ref(node, ptr, depth), siblings, ptr)

        # 3.1: the siblings apply too, exactly as an allOf beside the target
        # (where the target may end up, two levels down).
        ref_out = self._ref(node, ptr, depth + 2)
        own = self._schema(siblings, ptr, depth, lit)
        if not isinstance(own, dict):
            return ref_out
        lost: list[str] = []
        unions: list[str] = []
        out = _combine_all_of(own, [ref_out], lost, unions)
        if lost:
            self._note(_PENDING, "")
        self._note_unions(ptr, unions)
        return out

    def _note_unions(self, ptr: str, unions: list[str]) -> None:
        """Note the lenient reading of an allOf whose parts close themselves
        (`unions` holds where, relative to `ptr`, it widened what they allow)."""
        if unions:
            self._note(
                ("closed-union",),
                f"#{ptr}{unions[0]}: an allOf with parts that forbid extra "
                "properties (additionalProperties: false) is read as the closed "
                "union of its parts: the properties of all of them, and no "
                "others (read literally, a closed part refuses the others' "
                "properties)",
            )

    def _ref_siblings_30(
        self, ref_out: _Schema, siblings: dict[str, Any], ptr: str
    ) -> _Schema:
        """OpenAPI 3.0 ignores keywords beside `$ref`; a description is still
        worth showing the model, so it is kept."""
        ignored = [
            str(k)
            for k in siblings
            if k != "description"
            and not (isinstance(k, str) and (k.startswith("x-") or k in _SILENT))
        ]
        if ignored:
            self._note(
                ("ref-siblings",),
                f"#{ptr}: ignored {', '.join(ignored)} beside $ref (OpenAPI 3.0 "
                "ignores keywords next to $ref; wrap the $ref in allOf to apply "
                "them)",
            )

        description = siblings.get("description")
        if not isinstance(description, str):
            return ref_out
        if isinstance(ref_out, dict):
            return {**ref_out, "description": description}
        if ref_out:
            return {"description": description}
        return {"not": {}, "description": description}

    def _ref(self, node: dict[str, Any], ptr: str, depth: int) -> _Schema:
        """Inline the target of a `$ref`, or refer to it in `$defs`."""
        target, tptr = self._conv._target(node, ptr)
        key = (tptr, self._dro)

        # Recursion: everything on the path from the target down to here is
        # on a cycle, so none of it may be memoised as an inline piece.
        if tptr in self._path:
            self._conv._cyclic.update(self._path_list[self._path[tptr] :])
            return self._stub(key)
        if self._count > self._budget:
            return self._cut(key, ptr, "budget")
        if depth > MAX_INLINE_DEPTH:
            return self._cut(key, ptr, "depth")

        piece = self._conv._inline.get(key)
        if (
            piece is not None
            and self._count + piece.size <= self._budget
            and depth + piece.reach <= MAX_INLINE_DEPTH
        ):
            return self._replay(piece, depth)
        return self._inline_target(target, tptr, key, depth)

    def _inline_target(self, target: Any, tptr: str, key: _Key, depth: int) -> _Schema:
        """Convert a referenced schema in place and memoise it when the result
        cannot depend on the context (no cut inside, not on a cycle)."""
        start_count, start_cuts = self._count, self._cuts
        start_defs, start_notes = len(self._def_log), len(self._note_log)
        outer_reach, self._reach = self._reach, -1

        self._path[tptr] = len(self._path_list)
        self._path_list.append(tptr)
        out = self._schema(target, tptr, depth, 0)
        self._path_list.pop()
        del self._path[tptr]

        inner_reach = self._reach
        self._reach = max(outer_reach, depth, inner_reach)

        if self._cuts == start_cuts and tptr not in self._conv._cyclic:
            self._conv._inline[key] = self._piece(
                out,
                self._count - start_count,
                max(inner_reach - depth, 0),
                start_defs,
                start_notes,
            )
        return out

    def _piece(
        self, schema: _Schema, size: int, reach: int, start_defs: int, start_notes: int
    ) -> _Piece:
        """Record what converting `schema` did since the given log positions."""
        defs = tuple(dict.fromkeys(self._def_log[start_defs:]))
        notes: dict[tuple[Any, ...], _NoteEntry] = {}
        for entry in self._note_log[start_notes:]:
            notes.setdefault(entry[0], entry)
        return _Piece(schema, size, reach, defs, tuple(notes.values()))

    def _replay(self, piece: _Piece, depth: int) -> _Schema:
        """Reuse a memoised piece: same output, same effect on the session."""
        self._count += piece.size
        self._reach = max(self._reach, depth + piece.reach)
        for key in piece.defs:
            self._request(key)
        for note_key, message in piece.notes:
            self._note(note_key, message)
        return piece.schema

    def _stub(self, key: _Key) -> dict[str, str]:
        self._count += 1
        self._request(key)
        return self._conv._stub(key)

    def _request(self, key: _Key) -> None:
        self._def_log.append(key)
        if key not in self._requested:
            self._requested.add(key)
            self._queue.append(key)

    def _cut(self, key: _Key, ptr: str, why: str) -> dict[str, str]:
        """Refer to a schema that could be inlined but is not, to bound size."""
        self._cuts += 1
        if why == "budget":
            self._note(
                ("cut", "budget"),
                f"#{ptr}: the inline budget of {self._budget} schema nodes is "
                "used up, so this and every later $ref of the tool is emitted "
                "as a $defs entry instead of an inline copy",
            )
        else:
            self._note(
                ("cut", "depth"),
                f"#{ptr}: references nested more than {MAX_INLINE_DEPTH} JSON levels "
                "deep are emitted as $defs entries instead of inline copies",
            )
        return self._stub(key)

    # -- definitions ------------------------------------------------------

    def _define(self, key: _Key) -> _Schema:
        """The `$defs` body for `key`: its target converted as a root of its
        own, so recursion inside refers to the definition again."""
        tptr, dro = key
        over = self._count > self._budget
        memo = self._conv._def_over if over else self._conv._def_inline
        piece = memo.get(key)
        if piece is not None and (over or self._count + piece.size <= self._budget):
            return self._replay(piece, 0)

        start_count, start_cuts = self._count, self._cuts
        start_defs, start_notes = len(self._def_log), len(self._note_log)
        self._dro = dro
        self._enter_root(tptr)

        target = self._conv.resolver.lookup(tptr)
        out = self._schema(target, tptr, 0, 0)

        # Over budget every $ref in the body is cut, whatever the session did
        # before, so that body is as reusable as one that needed no cut.
        if over or self._cuts == start_cuts:
            memo[key] = self._piece(
                out, self._count - start_count, 0, start_defs, start_notes
            )
        return out

    def _attach_defs(
        self, root: dict[str, Any], bodies: dict[_Key, _Schema]
    ) -> dict[str, Any]:
        """Name the definitions for this tool and add them to `root`."""
        provisional = {key: self._conv._name(key) for key in bodies}
        final = _session_names(bodies)
        defs = {final[key]: body for key, body in bodies.items()}

        # Provisional names are unique per converter; when this tool could use
        # shorter ones, rewrite its refs (copying, never mutating shared parts).
        if final != provisional:
            mapping = {
                "#/$defs/" + provisional[key]: "#/$defs/" + final[key] for key in bodies
            }
            done: dict[int, Any] = {}
            root = _rename_refs(root, mapping, done)
            defs = {
                name: _rename_refs(body, mapping, done) for name, body in defs.items()
            }

        existing = root.get("$defs")
        if isinstance(existing, dict):
            clash = sorted(set(existing) & set(defs))
            if clash:
                raise ValueError(f"root already has $defs named {clash}")
            defs = {**existing, **defs}
        return {**root, "$defs": defs}

    # -- keyword handlers (called from _schema through _HANDLERS) ---------

    def _kw_type(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if type(value) is str and value in _TYPES:
            out["type"] = value  # the common case, checked at once
            return
        if isinstance(value, str):
            names: list[Any] = [value]
        elif isinstance(value, list) and value:
            names = value
        else:
            raise self._error(
                ptr + "/type",
                f"`type` must be a type name or a non-empty list of type names, "
                f"got {_describe(value)}. Use one of: {', '.join(sorted(_TYPES))}.",
            )

        kept: list[str] = []
        for name in names:
            if name == "file":
                # Swagger 2.0's upload type, left in converted documents.
                self._note(
                    ("file-type",),
                    f"#{ptr}/type: `file` is not a JSON Schema type; read as a "
                    "binary string",
                )
                name = "string"
                out.setdefault("format", "binary")
            elif not isinstance(name, str) or name not in _TYPES:
                raise self._error(
                    ptr + "/type",
                    f"`type` {name!r} is not a JSON Schema type. Use one of: "
                    f"{', '.join(sorted(_TYPES))}.",
                )
            if name not in kept:
                kept.append(name)

        if isinstance(value, str):
            out["type"] = kept[0]
            return
        if self._dialect == "3.0":
            self._note(
                ("type-list",),
                f"#{ptr}/type: a list of types is OpenAPI 3.1, not 3.0; kept",
            )
        out["type"] = kept

    def _kw_properties(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        base = ptr + "/" + key
        # (A property named "$ref" has a schema, not a string, as its value.)
        if (
            isinstance(value, dict)
            and len(value) == 1
            and isinstance(value.get("$ref"), str)
        ):
            # The whole mapping kept elsewhere (DigitalOcean writes this): not
            # JSON Schema, but its meaning is clear. Read as one property
            # named "$ref", the schema would be refused.
            target, _ = self._conv._target(value, base)
            if isinstance(target, dict):
                self._note(
                    ("properties-ref",),
                    f"#{base}: `{key}` is a $ref to the mapping of properties, "
                    "which JSON Schema does not allow; followed",
                )
                value = target
        if not isinstance(value, dict):
            raise self._error(
                base,
                f"`{key}` must be a mapping of property names to schemas, got "
                f"{_describe(value)}.",
            )

        props: dict[str, Any] = {}
        for raw_name, sub in value.items():
            name = self._property_name(raw_name, base)
            sptr = base + "/" + escape_token(name)
            # A request must not send what the server sets itself.
            if self._dro and key == "properties" and self._conv._read_only(sub, sptr):
                continue
            if key == "patternProperties" and not self._conv._pattern_ok(name):
                self._note(
                    ("bad-regex",),
                    f"#{sptr}: dropped this patternProperties entry: its regex "
                    "is not accepted by Python's and Rust's regex engines",
                )
                continue
            props[name] = self._schema(sub, sptr, depth + 2, lit + 2)
        out[key] = props

    def _property_name(self, name: Any, base: str) -> str:
        """Property names are strings; YAML may have read `200:` as a number."""
        if isinstance(name, str):
            return name
        if isinstance(name, int) and not isinstance(name, bool):
            self._note(
                ("number-name",),
                f"#{base}: property name {name} was read as a number; used as "
                f"the string {str(name)!r}",
            )
            return str(name)
        raise self._error(
            base,
            f"property name {name!r} is not a string (YAML reads unquoted yes/no/"
            "on/off as booleans). Quote the name in the document.",
        )

    def _kw_schema_map(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        """Names mapped to schemas, other than properties (dependentSchemas)."""
        base = ptr + "/" + key
        if not isinstance(value, dict):
            raise self._error(
                base,
                f"`{key}` must be a mapping of names to schemas, got "
                f"{_describe(value)}.",
            )
        out[key] = {
            str(name): self._schema(
                sub, base + "/" + escape_token(str(name)), depth + 2, lit + 2
            )
            for name, sub in value.items()
        }

    def _kw_schema(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        out[key] = self._schema(value, ptr + "/" + key, depth + 1, lit + 1)

    def _kw_additional(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        # A boolean here is plain OpenAPI 3.0, not a lenient reading.
        if isinstance(value, bool):
            self._count += 1
            out[key] = value
            return
        out[key] = self._schema(value, ptr + "/" + key, depth + 1, lit + 1)

    def _kw_items(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if not isinstance(value, list):
            out[key] = self._schema(value, ptr + "/" + key, depth + 1, lit + 1)
            return

        # Draft 4's tuple form: its 2020-12 spelling is prefixItems.
        self._note(
            ("tuple-items",),
            f"#{ptr}/items: a list of schemas (tuple form) is read as prefixItems",
        )
        members = self._schema_list(value, ptr + "/items", depth, lit)
        if members is not None:
            out["prefixItems"] = members

    def _kw_schema_list(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        members = self._schema_list(value, ptr + "/" + key, depth, lit)
        if members is not None:
            out[key] = members

    def _schema_list(
        self, value: Any, lptr: str, depth: int, lit: int
    ) -> list[_Schema] | None:
        """Convert a list of schemas; an empty list means nothing and is dropped."""
        if not isinstance(value, list):
            raise self._error(
                lptr, f"expected a list of schemas here, got {_describe(value)}."
            )
        if not value:
            self._note(("empty-list",), f"#{lptr}: empty list of schemas ignored")
            return None
        return [
            self._schema(member, f"{lptr}/{i}", depth + 2, lit + 2)
            for i, member in enumerate(value)
        ]

    def _kw_enum(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if not isinstance(value, list):
            raise self._error(
                ptr + "/enum",
                f"`enum` must be a list of the allowed values, got {_describe(value)}.",
            )
        out[key] = self._json(value, ptr + "/enum")

    def _kw_value(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        out[key] = self._json(value, ptr + "/" + key)

    def _kw_examples(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if isinstance(value, list):
            out[key] = self._json(value, ptr + "/examples")
            return
        self._note(
            ("examples-scalar",),
            f"#{ptr}/examples: not a list; read as a single example",
        )
        out[key] = [self._json(value, ptr + "/examples")]

    def _kw_text(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if isinstance(value, str):
            out[key] = value
            return
        self._note(
            ("not-text", key),
            f"#{ptr}/{key}: expected a string, got {_describe(value)}; dropped",
        )

    def _kw_pattern(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if isinstance(value, str) and self._conv._pattern_ok(value):
            out[key] = value
            return
        self._note(
            ("bad-regex",),
            f"#{ptr}/pattern: dropped {value!r}: not a regex both Python's and "
            "Rust's engines accept (the API still checks it)",
        )

    def _kw_count(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        out[key] = self._number(value, key, ptr, integer=True, floor=0)

    def _kw_number(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        out[key] = self._number(value, key, ptr)

    def _kw_multiple(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        number = self._number(value, key, ptr)
        if number <= 0:
            raise self._error(
                ptr + "/" + key,
                f"`multipleOf` must be greater than 0, got {value!r}.",
            )
        out[key] = number

    def _kw_flag(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        if isinstance(value, bool):
            out[key] = value
            return
        self._note(
            ("not-flag", key),
            f"#{ptr}/{key}: expected true or false, got {_describe(value)}; dropped",
        )

    def _kw_dependent_required(
        self, out: dict[str, Any], key: str, value: Any, ptr: str, depth: int, lit: int
    ) -> None:
        valid = isinstance(value, dict) and all(
            isinstance(names, list) and all(isinstance(n, str) for n in names)
            for names in value.values()
        )
        if not valid:
            raise self._error(
                ptr + "/" + key,
                "`dependentRequired` must map property names to lists of "
                "property names.",
            )
        out[key] = {
            str(name): list(dict.fromkeys(names)) for name, names in value.items()
        }

    # -- enum and const against type -------------------------------------

    def _fit_values(self, out: dict[str, Any], ptr: str, nullable: bool) -> None:
        """Make `enum` and `const` agree with `type`. Read literally, a value
        the type refuses can never be sent, and an empty enum or one whose
        every value the type refuses makes the schema unsatisfiable; each is
        a data error with one likely meaning, read that way and noted."""
        if out.get("enum") == []:
            del out["enum"]
            self._note(
                ("enum-empty",),
                f"#{ptr}/enum: an empty enum allows no value; ignored",
            )
        kind = out.get("type")
        if kind is None:
            return
        types = [kind] if isinstance(kind, str) else list(kind)
        declared = len(types)
        if nullable and "null" not in types:
            types.append("null")  # `nullable` adds it to the type later
        enum = out.get("enum")
        # The common case, checked at once: strings of a string type.
        if (
            types == ["string"]
            and "const" not in out
            and all(type(v) is str for v in enum or ())
        ):
            return

        if "enum" in out and self._enum_of_items(out, types, ptr):
            return
        if "enum" in out:
            out["enum"] = _unique([self._fit(v, types, ptr, "enum") for v in enum])
        if "const" in out:
            out["const"] = self._fit(out["const"], types, ptr, "const")
        widened = [t for t in types[declared:] if t != "null" or not nullable]
        if widened:
            out["type"] = [*types[:declared], *widened]

    def _fit(self, value: Any, types: list[str], ptr: str, key: str) -> Any:
        """`value` as the type allows it: in the type's spelling when it has
        one (a YAML scalar typed by hand: `1` for "1"), else with its own type
        added to `types`."""
        if fits_type(value, types):
            return value
        spelled = _spelled(value, types)
        if spelled is not _NO_SPELLING:
            self._note(
                ("enum-spelled", key),
                f"#{ptr}/{key}: {value!r} does not match the type "
                f"{'/'.join(types)}; read as {spelled!r}",
            )
            return spelled
        kind = _value_type(value)
        types.append(kind)
        self._note(
            ("enum-widened", key),
            f"#{ptr}/{key}: {value!r} does not match the type "
            f"{'/'.join(types[:-1])}; the type is widened to allow {kind} "
            "values too",
        )
        return value

    def _enum_of_items(self, out: dict[str, Any], types: list[str], ptr: str) -> bool:
        """An array's enum of scalars that its items allow lists the allowed
        items (`type: array, enum: [a, b]` beside `items: {type: string}`)."""
        items = out.get("items")
        if types != ["array"] or not isinstance(items, dict) or "enum" in items:
            return False
        item_types = items.get("type")
        if "$ref" in items or item_types is None:
            return False
        item_types = [item_types] if isinstance(item_types, str) else item_types
        if not all(fits_type(v, item_types) for v in out["enum"]):
            return False
        out["items"] = {**items, "enum": out.pop("enum")}
        self._note(
            ("enum-items",),
            f"#{ptr}/enum: values of the items, not arrays; read as the items' enum",
        )
        return True

    # -- deferred keywords ------------------------------------------------

    def _exclusive(
        self, out: dict[str, Any], value: Any, key: str, bound: str, ptr: str
    ) -> None:
        """3.0's boolean `exclusiveMinimum` qualifies `minimum`; 2020-12's is
        the bound itself."""
        if not isinstance(value, bool):
            if self._dialect == "3.0":
                self._note(
                    ("numeric-exclusive", key),
                    f"#{ptr}/{key}: a number here is the OpenAPI 3.1 form; kept",
                )
            out[key] = self._number(value, key, ptr)
            return

        if self._dialect == "3.1":
            self._note(
                ("boolean-exclusive", key),
                f"#{ptr}/{key}: a boolean here is the OpenAPI 3.0 form; read as such",
            )
        if value and bound in out:
            out[key] = out.pop(bound)
        elif value:
            self._note(
                ("exclusive-alone", key),
                f"#{ptr}/{key}: `true` without `{bound}` has no effect; ignored",
            )

    def _required(self, out: dict[str, Any], node: dict[str, Any], ptr: str) -> None:
        raw = node["required"]
        if isinstance(raw, bool):
            self._note(
                ("required-flag",),
                f"#{ptr}/required: `required: {str(raw).lower()}` inside a "
                "property's schema is not valid (list the name in the parent's "
                "`required` instead); ignored",
            )
            return
        if not isinstance(raw, list):
            raise self._error(
                ptr + "/required",
                f"`required` must be a list of property names, got {_describe(raw)}.",
            )

        names: dict[str, None] = {}
        for i, name in enumerate(raw):
            if not isinstance(name, str):
                raise self._error(
                    f"{ptr}/required/{i}",
                    f"`required` entries must be property names (strings), got "
                    f"{name!r}. Quote the name in the document (YAML reads yes/"
                    "no/on/off as booleans).",
                )
            names[name] = None

        # Names of properties left out as readOnly must not stay required;
        # names of properties that never existed are kept (valid, if odd).
        declared = node.get("properties")
        if self._dro and isinstance(declared, dict):
            kept = out.get("properties", {})
            for name in list(names):
                if name in declared and name not in kept:
                    del names[name]
        if names:
            out["required"] = list(names)

    def _nullable(self, out: dict[str, Any], value: Any, ptr: str) -> dict[str, Any]:
        """3.0's `nullable: true` allows null besides what the schema allows."""
        if not isinstance(value, bool):
            self._note(
                ("not-flag", "nullable"),
                f"#{ptr}/nullable: expected true or false, got "
                f"{_describe(value)}; ignored",
            )
            return out
        if self._dialect == "3.1" and value:
            self._note(
                ("nullable-31",),
                f"#{ptr}/nullable: `nullable` is OpenAPI 3.0, not 3.1; read as "
                'allowing null (write type: [..., "null"] instead)',
            )
        if not value:
            return out
        return self._allow_null(out)

    def _allow_null(self, out: dict[str, Any]) -> dict[str, Any]:
        if "const" in out and "enum" not in out:
            out["enum"] = [out.pop("const")]
        if "enum" in out and not any(v is None for v in out["enum"]):
            out["enum"] = [*out["enum"], None]

        # Subschemas would reject null themselves: allow it beside them.
        if any(k in out for k in _NULL_SENSITIVE):
            self._count += 1
            notes = {k: v for k, v in out.items() if k in _ANNOTATIONS}
            rest = {k: v for k, v in out.items() if k not in _ANNOTATIONS}
            return {**notes, "anyOf": [rest, {"type": "null"}]}

        # Without `type` (or `enum`) every other keyword already lets null pass.
        kind = out.get("type")
        if isinstance(kind, str) and kind != "null":
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        return out

    # -- values -----------------------------------------------------------

    def _number(
        self,
        value: Any,
        key: str,
        ptr: str,
        *,
        integer: bool = False,
        floor: int | None = None,
    ) -> int | float:
        """A number for a validation keyword; a numeric string is read as its
        number (with a note), anything else is an error."""
        number = value
        if isinstance(value, str):
            number = _parse_number(value)
            if number is not None:
                self._note(
                    ("numeric-string", key),
                    f"#{ptr}/{key}: the string {value!r} is read as a number",
                )

        what = "a non-negative integer" if integer else "a number"
        # Python ints never overflow, but `float()` of a 400-digit one does.
        valid = (
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and (isinstance(number, int) or math.isfinite(number))
            and (not integer or isinstance(number, int) or number.is_integer())
            and (floor is None or number >= floor)
        )
        if not valid:
            raise self._error(
                f"{ptr}/{key}",
                f"`{key}` must be {what}, got {_describe(value)}. Fix the value "
                "in the document.",
            )
        return int(number) if integer else number

    def _json(self, value: Any, ptr: str, level: int = 0) -> Any:
        """`value` as plain JSON data. YAML gives dates, numeric keys and other
        things a JSON encoder refuses; the original is returned when it is
        already plain, so the common case copies nothing."""
        if value is None or isinstance(value, str | bool | int):
            return value
        if level > _MAX_VALUE_DEPTH:
            raise self._error(
                ptr, f"value nested more than {_MAX_VALUE_DEPTH} levels deep."
            )
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return self._lenient_value(value, str(value), ptr)
        if isinstance(value, list):
            # Long enums of plain strings are common; check them in one pass.
            if all(type(v) in _PLAIN_TYPES for v in value):
                return value
            items = [self._json(v, ptr, level + 1) for v in value]
            same = all(a is b for a, b in zip(items, value, strict=True))
            return value if same else items
        if isinstance(value, dict):
            return self._json_object(value, ptr, level)
        if isinstance(value, datetime.date | datetime.time):
            return self._lenient_value(value, value.isoformat(), ptr)
        return self._lenient_value(value, str(value), ptr)

    def _json_object(self, value: dict[Any, Any], ptr: str, level: int) -> Any:
        items = {}
        same = True
        for k, v in value.items():
            new_v = self._json(v, ptr, level + 1)
            if not isinstance(k, str):
                k = self._lenient_value(k, str(k), ptr)
                same = False
            same = same and new_v is v
            items[k] = new_v
        return value if same else items

    def _lenient_value(self, value: Any, text: str, ptr: str) -> str:
        self._note(
            ("json-value",),
            f"#{ptr}: {type(value).__name__} value {text!r} is not JSON data "
            "(YAML reads unquoted dates and the like); used as a string",
        )
        return text


HandlerFn = Callable[[SchemaSession, dict[str, Any], str, Any, str, int, int], None]


def _handlers() -> dict[str, HandlerFn]:
    """Keyword -> handler; keywords not here are deferred or dropped."""
    s = SchemaSession
    table: dict[str, HandlerFn] = {
        "type": s._kw_type,
        "properties": s._kw_properties,
        "patternProperties": s._kw_properties,
        "additionalProperties": s._kw_additional,
        "items": s._kw_items,
        "anyOf": s._kw_schema_list,
        "oneOf": s._kw_schema_list,
        "prefixItems": s._kw_schema_list,
        "enum": s._kw_enum,
        "const": s._kw_value,
        "default": s._kw_value,
        "examples": s._kw_examples,
        "pattern": s._kw_pattern,
        "multipleOf": s._kw_multiple,
        "dependentRequired": s._kw_dependent_required,
    }
    for key in SUB_ONE:
        if key not in ("items", "additionalProperties"):  # read on their own
            table[key] = s._kw_schema
    table["dependentSchemas"] = s._kw_schema_map
    for key in (
        "title",
        "description",
        "format",
        "contentMediaType",
        "contentEncoding",
    ):
        table[key] = s._kw_text
    for key in (
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    ):
        table[key] = s._kw_count
    for key in ("minimum", "maximum"):
        table[key] = s._kw_number
    for key in ("uniqueItems", "deprecated", "readOnly", "writeOnly"):
        table[key] = s._kw_flag
    return table


_HANDLERS = _handlers()


# -- allOf ----------------------------------------------------------------


def _combine_all_of(
    own: dict[str, Any],
    members: list[_Schema],
    lost: list[str] | None = None,
    unions: list[str] | None = None,
) -> dict[str, Any]:
    """`own` (a schema's other keywords) and its converted `allOf` members as
    one schema: merged when that is exact, else with `allOf` kept. Required
    names a closed union does not allow go to `lost` (as pointers relative to
    the schema), for the session to drop when it finishes; where a closed
    union was read in place of the literal allOf goes to `unions`."""
    if "allOf" in own:
        members = [*own["allOf"], *members]
        own = {k: v for k, v in own.items() if k != "allOf"}

    # `true` and `{}` constrain nothing.
    members = [m for m in members if m is not True and m != {}]
    if not members:
        return own
    if not own and len(members) == 1 and isinstance(members[0], dict):
        return members[0]

    # Annotations over a single member: the outer, more specific wording wins.
    if (
        len(members) == 1
        and isinstance(members[0], dict)
        and own.keys() <= _ANNOTATIONS
    ):
        return {**members[0], **own}

    merged = _merge_objects(
        [own, *members],
        [] if lost is None else lost,
        "",
        [] if unions is None else unions,
    )
    if merged is not None:
        return merged
    return {**own, "allOf": members}


# Keywords an object-ish allOf member may have and still be merged: all apply
# independently of their neighbours (unlike additionalProperties, which looks
# at the `properties` beside it).
_MERGE_SAME = frozenset(
    {"minProperties", "maxProperties", "default", "readOnly", "writeOnly"}
)

# A member with one of these cannot give its `properties` away: the keyword
# reads them where they are (or names the member's properties through $ref).
_KEEPS_PROPERTIES = ("$ref", "patternProperties", "unevaluatedProperties")


def _merge_objects(
    parts: list[_Schema], lost: list[str], at: str, unions: list[str]
) -> dict[str, Any] | None:
    """Merge object-ish schemas into one, or None when that would not be exact.

    Read literally, parts that each close themselves
    (`additionalProperties: false`) make an allOf no object satisfies; what
    authors mean (and what the API accepts) is the union of their properties,
    closed. That reading holds whenever a part is closed, so such parts always
    merge: a property several parts declare gets their schemas merged the same
    way (the reading applies at every level), and the keywords that cannot be
    merged stay behind in an `allOf` of what is left of each part.
    """
    closing = [
        p
        for p in parts
        if isinstance(p, dict) and p.get("additionalProperties") is False
    ]
    merge = _ObjectMerge(bool(closing), lost, at, unions)
    noted = len(unions)
    for part in parts:
        if not merge.add(part):
            del unions[noted:]  # nothing below was merged after all
            return None
    # The reading differs from the literal one where a closed part refuses a
    # property another part declares: that is what the report must say.
    if any(merge.props.keys() - (p.get("properties") or {}).keys() for p in closing):
        unions.append(at)
    return merge.result(parts[0])


class _ObjectMerge:
    """The state of one `_merge_objects` call."""

    def __init__(
        self, closed: bool, lost: list[str], at: str, unions: list[str]
    ) -> None:
        self.closed = closed
        self.lost = lost
        self.at = at
        self.unions = unions
        self.out: dict[str, Any] = {}
        self.props: dict[str, Any] = {}
        self.required: dict[str, None] = {}
        self.descriptions: list[str] = []
        # What could not be merged, one schema per part (closed reading only).
        self.rests: list[_Schema] = []

    def add(self, part: _Schema) -> bool:
        """Merge one part; False when the merge would not be exact."""
        if not isinstance(part, dict):
            return False
        if self.closed and not _gives_properties(part):
            # Kept whole; its own property names still belong to the union.
            self.rests.append(part)
            for name in part.get("properties") or {}:
                self.props.setdefault(name, True)
            return True

        rest: dict[str, Any] = {}
        for key, value in part.items():
            if not self._key(key, value):
                if not self.closed:
                    return False
                rest[key] = value
        if list(rest) == ["allOf"] and isinstance(rest["allOf"], list):
            self.rests.extend(rest["allOf"])
        elif rest:
            self.rests.append(rest)
        return True

    def _key(self, key: str, value: Any) -> bool:
        out = self.out
        if key == "properties":
            return self._properties(value)
        if key == "required":
            self.required.update(dict.fromkeys(value))
        elif key == "type":
            if value != "object":
                return False
            out["type"] = "object"
        elif key == "description":
            if value not in self.descriptions:
                self.descriptions.append(value)
        elif key in ("title", "examples"):
            out.setdefault(key, value)
        elif key == "deprecated":
            out[key] = out.get(key, False) or value
        elif key in _MERGE_SAME:
            if key in out and out[key] != value:
                return False
            out[key] = value
        elif key != "additionalProperties" or not isinstance(value, bool):
            # A boolean additionalProperties is read through `closed`.
            return False
        return True

    def _properties(self, value: dict[str, Any]) -> bool:
        for name, sub in value.items():
            known = self.props.setdefault(name, sub)
            if known is sub or known == sub:
                continue
            both = self._both(known, sub, f"{self.at}/properties/{escape_token(name)}")
            if both is None:
                return False
            self.props[name] = both
        return True

    def _both(self, known: _Schema, sub: _Schema, at: str) -> _Schema | None:
        """One schema for a property two parts declare: their merge, or under
        the closed reading their allOf (exact, if not merged)."""
        if known is True:
            return sub
        if sub is True:
            return known
        merged = _merge_objects([known, sub], self.lost, at, self.unions)
        if merged is not None:
            return merged
        return {"allOf": [known, sub]} if self.closed else None

    def result(self, own: _Schema) -> dict[str, Any]:
        out = self.out
        # The schema's own description says most; members' only when it has none.
        if isinstance(own, dict) and "description" in own:
            out["description"] = own["description"]
        elif self.descriptions:
            out["description"] = "\n\n".join(self.descriptions)
        if self.props:
            out["properties"] = self.props
        if self.closed:
            # A name no part declares (a readOnly property left out, a typo)
            # cannot be sent to a closed object. It is kept for now, as a merge
            # further up may still declare it; the session drops what is left
            # when it finishes.
            self.lost.extend(
                f"{self.at}/required/{escape_token(n)}"
                for n in self.required
                if n not in self.props
            )
            out["additionalProperties"] = False
        if self.required:
            out["required"] = list(self.required)
        if self.rests:
            out["allOf"] = self.rests
        return out


def _gives_properties(part: dict[str, Any]) -> bool:
    """Whether a part's `properties` may move into the merged schema."""
    extra = part.get("additionalProperties", False)
    return isinstance(extra, bool) and all(k not in part for k in _KEEPS_PROPERTIES)


# -- enum values -----------------------------------------------------------

_NO_SPELLING = object()


def _value_type(value: Any) -> str:
    """The JSON Schema type of a JSON value (the narrowest: 1 is an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def fits_type(value: Any, types: list[str]) -> bool:
    """Whether a JSON value is of one of `types` (an integer is a number too)."""
    kind = _value_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def _spelled(value: Any, types: list[str]) -> Any:
    """`value` written as one of `types` when it has an obvious spelling there
    (JSON text for a string; a numeric or true/false string as the value),
    else `_NO_SPELLING`."""
    if "string" in types and isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str) and ("integer" in types or "number" in types):
        number = _parse_number(value)
        if number is not None and fits_type(number, types):
            return number
    if isinstance(value, str) and "boolean" in types and value in ("true", "false"):
        return value == "true"
    return _NO_SPELLING


def _unique(values: list[Any]) -> list[Any]:
    """`values` without repeats (spelling values anew may have made some)."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


# -- unmeetable requirements ----------------------------------------------

# The note key that flags a closed object requiring what it does not allow.
_PENDING = ("closed-required-pending",)


def _closed_misses(schema: dict[str, Any]) -> list[str]:
    """The required names a closed schema allows no property for."""
    declared = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [
        name
        for name in schema.get("required") or ()
        if name not in declared and not any(re.search(p, name) for p in patterns)
    ]


def _meetable(schema: Any, at: str, done: dict[int, Any], lost: list[str]) -> Any:
    """`schema` with the unmeetable required names of closed objects dropped;
    copy-on-write, with `done` memoising the shared parts by identity."""
    if not isinstance(schema, dict):
        return schema
    known = done.get(id(schema))
    if known is not None:
        return known

    changed = changed_subschemas_at(
        schema, lambda sub, where: _meetable(sub, at + where, done, lost)
    )
    result = {**schema, **changed} if changed else schema

    missing = (
        _closed_misses(result) if result.get("additionalProperties") is False else []
    )
    if missing:
        lost.extend(f"{at}/required/{escape_token(n)}" for n in missing)
        kept = [n for n in result["required"] if n not in missing]
        result = {k: v for k, v in result.items() if k != "required"}
        if kept:
            result["required"] = kept
    done[id(schema)] = result
    return result


# -- names ----------------------------------------------------------------


def _base_name(pointer: str) -> str:
    """`Category` for `/components/schemas/Category`, limited to [A-Za-z0-9_.-]."""
    tokens = split_pointer(pointer)
    last = tokens[-1] if tokens else "root"
    return _NAME_JUNK.sub("_", last) or "schema"


def _unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _session_names(keys: Iterable[_Key]) -> dict[_Key, str]:
    """Names unique within one tool, in first-use order, so a tool's output
    does not depend on which tools the converter saw before."""
    taken: set[str] = set()
    return {key: _unique_name(_base_name(key[0]), taken) for key in keys}


def _rename_refs(schema: Any, mapping: dict[str, str], done: dict[int, Any]) -> Any:
    """`schema` with `$ref`s renamed by `mapping`; changed nodes are copied,
    unchanged ones returned as they are. `done` memoises by identity, since
    shared pieces make the output a DAG."""
    if not isinstance(schema, dict):
        return schema
    known = done.get(id(schema))
    if known is not None:
        return known

    changed: dict[str, Any] = {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref in mapping:
        changed["$ref"] = mapping[ref]
    changed.update(
        changed_subschemas(schema, lambda sub: _rename_refs(sub, mapping, done))
    )

    result = {**schema, **changed} if changed else schema
    done[id(schema)] = result
    return result


# -- small helpers ----------------------------------------------------------


def _regex_compiles(pattern: str) -> bool:
    """Python's `re` (used by jsonschema's meta-schema check) and the Rust
    engine (used to validate arguments) must both accept the pattern. A
    pattern Python only warns about means something else in ECMA-262."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(pattern)
        jsonschema_rs.validator_for({"pattern": pattern})
    except (re.error, Warning, ValueError, RecursionError, OverflowError):
        return False
    return True


def _parse_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _describe(value: Any) -> str:
    """A short, safe description of a wrong value for an error message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
