"""Reading an OpenAPI document into one self-contained, JSON-shaped dict.

This module holds `load_spec`, which accepts a file path, an http(s) URL, JSON or
YAML text, or an already parsed mapping, and returns a `LoadedSpec`; and
`parse_text`, the JSON/YAML parser it uses. Along the way it:

* parses JSON with the stdlib and YAML only with PyYAML's C loader, and turns what
  YAML 1.1 produces that JSON cannot hold (integer or boolean keys, dates, ...) into
  plain JSON values;
* refuses documents that would exhaust time or memory: alias "billion laughs"
  expansion, nesting deeper than `MAX_DEPTH`, bodies over `max_bytes`;
* bundles every file a multi-file document refers to into the root document under
  `x-ourguide-bundled`, rewriting those `$ref`s to local pointers, and records the
  references it could not (or would not) follow in `broken_refs`;
* records OpenAPI 3.1 `$id`/`$anchor` names in `anchors`;
* converts Swagger 2.0 into OpenAPI 3.0.3 (see `_swagger2`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import gc
import hashlib
import json
import logging
import os
import re
import time
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import yaml

from ._errors import ConfigError, SpecError
from ._refs import array_index, escape_token, join_pointer, split_pointer
from ._servers import shown_url
from ._swagger2 import convert_swagger2

__all__ = [
    "BUNDLE_KEY",
    "MAX_DEPTH",
    "MAX_MERGED_KEYS",
    "MAX_NODES",
    "LoadedSpec",
    "collector_paused",
    "load_spec",
    "parse_text",
]

logger = logging.getLogger(__name__)

# Files a document refers to are stored under this root key, one entry per file.
BUNDLE_KEY = "x-ourguide-bundled"

# No real OpenAPI document nests anywhere near this deep; code that walks the
# document recursively (ours and other people's) stays far from Python's stack limit.
MAX_DEPTH = 300

# The expanded size (containers and scalars, aliases counted at every use) above
# which a document is refused. The largest spec in our corpus has under 0.5 million.
MAX_NODES = 5_000_000

# Keys that YAML merge keys (`<<: *base`) may copy into mappings, all told.
# PyYAML copies every merged key into each mapping that merges it, so 8,000
# merges of one 4,000-key mapping build 32 million entries (37 s, 1.3 GB)
# from 200 KB of text; hand-written specs that merge copy a few thousand.
MAX_MERGED_KEYS = 200_000

# Redirects followed when fetching a remote spec or `$ref`.
_MAX_REDIRECTS = 5
# Remote `$ref`s can chain without end (each document naming a new one): one
# load fetches at most this many documents, all within this many timeouts.
_MAX_REMOTE_DOCUMENTS = 64
_REMOTE_BUDGET = 6

_SUPPORTED = "Swagger 2.0, OpenAPI 3.0.x and OpenAPI 3.1.x"
_OPENAPI_VERSION = re.compile(r"3\.[01](\.\d+)?(-[0-9A-Za-z.-]+)?")

# Value types JSON can hold as they are; anything else a YAML or caller-built
# document contains is converted (or refused) by `_plain_value`.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), dict, list})

_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LoadedSpec:
    """One OpenAPI 3.x document, with every file it refers to bundled in.

    `document` is OpenAPI 3.x (Swagger 2.0 is already converted to 3.0.3).
    `source` names the input in messages; `location` is the http(s) URL the spec
    came from, used to resolve relative server URLs. `original_version` is the
    version the input declared. `content_hash` is the sha256 of every byte read (or
    of canonical JSON for a mapping). `broken_refs` maps each `$ref` left unresolved
    to the reason; `anchors` maps 3.1 `$id`/`$anchor` URIs to local JSON pointers.
    `warnings` lists the lenient readings taken; `files` every file read.
    """

    document: dict[str, Any]
    source: str
    # Left out of the repr: it may carry a user name and password.
    location: str | None = field(repr=False)
    original_version: str
    content_hash: str
    broken_refs: Mapping[str, str] = field(default_factory=dict)
    anchors: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def load_spec(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    location: str | None = None,
    allow_remote_refs: bool = False,
    remote_timeout: float = 10.0,
    max_bytes: int = 50_000_000,
    root_dir: str | os.PathLike[str] | None = None,
) -> LoadedSpec:
    """Load an OpenAPI document from a path, URL, text or mapping.

    Files the document refers to are read only from within `root_dir`, by
    default the root file's own folder; pass a parent folder for document sets
    whose files sit side by side (`spec/root.yaml` referring to `../common/`).

    Raises `ConfigError` when the input cannot be read (a path that does not exist,
    a URL that does not answer) and `SpecError` when what was read is not a usable
    OpenAPI document.
    """
    started = time.perf_counter()
    if location is not None:
        check_location(location)
    loader = _Loader(
        allow_remote_refs=allow_remote_refs,
        remote_timeout=remote_timeout,
        max_bytes=max_bytes,
        root_dir=os.fspath(root_dir) if root_dir is not None else None,
    )
    with collector_paused():
        spec = loader.load(source, location=location)

    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "loaded OpenAPI %s from %s: %d file(s), %d warning(s), %d broken $ref(s), "
        "%.0f ms",
        spec.original_version,
        spec.source,
        len(spec.files),
        len(spec.warnings),
        len(spec.broken_refs),
        elapsed_ms,
    )
    return spec


def check_location(location: str) -> None:
    """Refuse a `location` relative server URLs cannot be resolved against,
    here rather than as a bare ValueError when the tools are built."""
    if isinstance(location, str) and _scheme(location) is not None:
        return
    raise ConfigError(
        f"the spec location {_short(location, 200)} is not a valid URL "
        f"({_url_problem(location)}). Pass the http(s) URL the spec was "
        "downloaded from (Integration's spec_location, load_spec's location), "
        "or none.",
        setting="spec_location",
    )


def parse_text(text: str | bytes, *, source: str) -> Any:
    """Parse JSON or YAML text into plain JSON-shaped Python data.

    YAML is read with PyYAML's C loader only. Non-string keys and dates become
    strings; alias bombs, nesting deeper than `MAX_DEPTH` and malformed text raise
    `SpecError` naming `source` and, where known, the line or JSON pointer.
    """
    with collector_paused():
        data, is_yaml = _parse(text, source=source, kind=_sniff_kind(text))
        scan = _walk(data, source=source, normalize=is_yaml, track_ids=False)
        if scan.shared:
            _check_expansion(data, source=source)
    return data


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document (or the tools made
    from it) is built.

    Parsing allocates hundreds of thousands of containers and no garbage cycles;
    each allocation burst triggers collections that rescan everything alive.
    Measured here: a 3.5 MB YAML spec loads in 2.4 s instead of 6 s, a 4 MB JSON
    one in 0.2 s instead of 0.4 s. The collector is re-enabled only if it was
    enabled on entry, so an application's own setting is kept.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- parsing


def _sniff_kind(text: str | bytes, name: str = "") -> str:
    """Whether to parse `text` as "json" or "yaml": by the file's extension when
    it has one, else by the first character."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    head = text[:64].lstrip()
    if isinstance(head, bytes):
        head = head.removeprefix(_UTF8_BOM)
        first = head[:1].decode("ascii", "replace")
    else:
        first = head[:1].lstrip("\ufeff")
    # A brace could also open a YAML flow mapping, but falling back to YAML
    # would quietly accept broken JSON (`{"a": }` is valid YAML).
    return "json" if first in ("{", "[") else "yaml"


def _parse(
    text: str | bytes, *, source: str, kind: str, warnings: list[str] | None = None
) -> tuple[Any, bool]:
    """Parse `text` as `kind`; return the data and whether it came from YAML.

    A key that appears twice in one YAML mapping is kept with its later value,
    as parsers do, and reported in `warnings`: such a spec loses whatever the
    first one held (often a whole path).
    """
    duplicates: list[str] = []
    if kind == "yaml":
        data, is_yaml = _parse_yaml(text, source=source, duplicates=duplicates), True
    else:
        # JSON specs are machine-written (a serialiser cannot repeat a key),
        # and noticing repeats there costs half again the parse; YAML, written
        # by hand, is where they happen and where noticing is nearly free.
        data, is_yaml = _parse_json(text, source=source), False
    if warnings is not None:
        warnings.extend(
            f"{source}: {where} appears twice in one mapping; the later one is "
            "used and the earlier one is lost. Merge or rename them."
            for where in duplicates
        )
    return data, is_yaml


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _MergeBomb(Exception):
    """Merge keys copied more than `MAX_MERGED_KEYS` keys; `mark` is where."""

    def __init__(self, mark: Any) -> None:
        super().__init__("too many merged keys")
        self.mark = mark


class _DuplicateNoticingLoader(yaml.CSafeLoader):
    """libyaml's parser with a constructor that notes repeated mapping keys
    (merge keys `<<` excepted: overriding those is their purpose), counts the
    keys merge keys copy (see `MAX_MERGED_KEYS`), and reads plain scalars by
    YAML 1.2's rules (see `_yaml12_resolvers`)."""

    duplicates: list[str]
    merged: int  # keys copied by merge keys so far
    flat: set[int]  # ids of the mapping nodes already flattened

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        if not isinstance(node, yaml.MappingNode):  # `!!map [1]`: PyYAML says so
            return super().construct_mapping(node, deep=deep)
        seen: set[str] = set()
        merges = False
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                merges = True
            elif isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in seen:
                    mark = key_node.start_mark
                    self.duplicates.append(
                        f"key {key_node.value!r} at line {mark.line + 1}"
                    )
                seen.add(key_node.value)
        if merges:
            self._flatten_counted(node)
        return super().construct_mapping(node, deep=deep)

    def _flatten_counted(self, node: yaml.MappingNode) -> None:
        """PyYAML's `flatten_mapping`, refused before it copies too much.

        The mappings merged in are flattened first, so their sizes are what
        this copy will cost; each is scanned once, however often it is merged.
        """
        for key_node, value in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            merged = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in merged:
                if not isinstance(source, yaml.MappingNode):
                    continue  # PyYAML's flatten_mapping reports it
                if id(source) not in self.flat:
                    self._flatten_counted(source)
                self.merged += len(source.value)
                if self.merged > MAX_MERGED_KEYS:
                    raise _MergeBomb(node.start_mark)
        self.flatten_mapping(node)
        self.flat.add(id(node))


def _yaml12_resolvers() -> None:
    """YAML 1.1 reads `no`, `on`, `off`, `y`, `0x10`-less octals like `010`
    and times like `12:30` as booleans and numbers; in OpenAPI documents they
    are nearly always strings (`enum: [SE, NO, DK]`, `enum: [on, off]`), and
    a boolean there makes that value impossible to send. YAML 1.2, which
    OpenAPI 3.1 names, keeps only true/false and plain decimal numbers."""
    bool_tag = "tag:yaml.org,2002:bool"
    int_tag = "tag:yaml.org,2002:int"
    float_tag = "tag:yaml.org,2002:float"
    resolvers = {
        first: [
            (tag, rx)
            for tag, rx in entries
            if tag not in (bool_tag, int_tag, float_tag)
        ]
        for first, entries in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }
    _DuplicateNoticingLoader.yaml_implicit_resolvers = resolvers
    _DuplicateNoticingLoader.add_implicit_resolver(
        bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _DuplicateNoticingLoader.add_implicit_resolver(
        int_tag, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
    )
    # ...and reads those digits as decimal: YAML 1.1 took `010` for octal 8.
    _DuplicateNoticingLoader.add_constructor(int_tag, _construct_yaml12_int)
    _DuplicateNoticingLoader.add_implicit_resolver(
        float_tag,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+.0123456789"),
    )


def _construct_yaml12_int(loader: yaml.CSafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text, 10)
    try:
        return loader.construct_yaml_int(node)  # an explicit `!!int 0x1F`
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{text!r} is tagged !!int but is not an integer",
            node.start_mark,
        ) from None


_yaml12_resolvers()


def _parse_json(text: str | bytes, *, source: str) -> Any:
    # json refuses a byte-order mark, which some editors write.
    if isinstance(text, bytes):
        text = text.removeprefix(_UTF8_BOM)
    else:
        text = text.removeprefix("\ufeff")
    try:
        return json.loads(text)
    except RecursionError:
        raise _json_too_deep(text, source) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"the file is not valid UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8.",
            source=source,
        ) from None
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. "
            "Fix the syntax there (a validator or `python -m json.tool` shows it).",
            source=source,
        ) from None
    except ValueError as exc:
        # Python refuses to read integers of more than 4,300 digits.
        raise SpecError(
            f"the JSON holds a number that cannot be read ({exc}). No OpenAPI "
            "field needs one that long; shorten it or write it as a string.",
            source=source,
        ) from None


def _parse_yaml(
    text: str | bytes, *, source: str, duplicates: list[str] | None = None
) -> Any:
    if not getattr(yaml, "__with_libyaml__", False):
        # The pure-Python loader is about 5x slower (17 s on a 4 MB spec); refuse
        # rather than hang an application's start-up without explanation.
        raise ConfigError(
            "PyYAML is installed without libyaml, so YAML specs cannot be read "
            "fast enough. Install a PyYAML wheel built with libyaml (the binary "
            "wheels on PyPI are), e.g. `pip install --force-reinstall pyyaml`, or "
            "convert the spec to JSON."
        )
    loader = _DuplicateNoticingLoader(text)
    loader.duplicates = [] if duplicates is None else duplicates
    loader.merged, loader.flat = 0, set()
    try:
        return loader.get_single_data()
    except RecursionError:
        raise _yaml_too_deep(text, source, None) from None
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):
            # libyaml's own limit (1,000 levels), far beyond ours.
            raise _yaml_too_deep(text, source, exc.problem_mark) from None
        raise _yaml_error(exc, source) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            f"invalid YAML: {exc}. Fix the file's syntax.", source=source
        ) from None
    except _MergeBomb as exc:
        raise SpecError(
            f"YAML merge keys (`<<`) copy more than {MAX_MERGED_KEYS:,} keys in "
            f"all by line {exc.mark.line + 1} (a 'billion laughs' document built "
            "from merges). Refusing to load it; replace the merges with $refs "
            "(or allOf).",
            source=source,
        ) from None
    except MemoryError:
        raise
    except Exception as exc:
        # Anything else comes from a constructor: a value whose explicit tag
        # (`!!float abc`, `!!bool maybe`, `!!timestamp nope`) or date-like
        # form it does not fit. PyYAML raises whatever its code hits
        # (ValueError, KeyError, AttributeError, ...), never a YAMLError.
        raise _unreadable_value(exc, loader, source) from None
    finally:
        loader.dispose()


def _unreadable_value(
    exc: Exception, loader: yaml.CSafeLoader, source: str
) -> SpecError:
    # The nodes being constructed, outermost first: the last one failed.
    building = list(getattr(loader, "recursive_objects", {}))
    where = ""
    if building:
        mark = building[-1].start_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}"
    return SpecError(
        f"invalid YAML{where}: a tagged value cannot be read as its tag says "
        f"({type(exc).__name__}: {exc}). Remove the tag, fix the value, or "
        "quote it if it is text (a date-like `2024-13-01` is tagged implicitly).",
        source=source,
    )


def _yaml_error(exc: yaml.MarkedYAMLError, source: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = " ".join(p for p in (exc.context, exc.problem) if p)
    return SpecError(
        f"invalid YAML{where}: {problem}. Fix the syntax there.", source=source
    )


def _too_deep_error(source: str, pointer: str, line: str = "") -> SpecError:
    return SpecError(
        f"the document nests deeper than {MAX_DEPTH} levels{line}; no usable "
        "OpenAPI document does. Check this place for runaway or generated nesting.",
        source=source,
        pointer=pointer,
    )


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def _json_too_deep(text: str | bytes, source: str) -> SpecError:
    """The too-deep error for JSON the parser could not even finish.

    Walks the tokens once, keeping only the path of keys and indexes, and stops
    at the first container opened below `MAX_DEPTH`.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")

    path: list[list[Any]] = []  # per open container: [is_object, key or index]
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            if len(path) > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return _too_deep_error(source, _path_pointer(path), f" (line {line})")
            path.append([token == "{", None if token == "{" else 0])
            expect_key = token == "{"
        elif token in "}]":
            if path:
                path.pop()
        elif token == ",":
            if path and path[-1][0]:
                expect_key = True
            elif path:
                path[-1][1] += 1
        elif token != ":" and expect_key and path and path[-1][0]:
            path[-1][1] = json.loads(token)
            expect_key = False
    return _too_deep_error(source, _path_pointer(path))


def _yaml_too_deep(text: str | bytes, source: str, mark: Any) -> SpecError:
    """The too-deep error for YAML, located by replaying the parser's events.

    In flow style (`[[[...`) libyaml fails before it emits the inner events, so
    the pointer is then only as deep as the replay got and `mark` (the parser's
    position) says where the nesting went over.
    """
    # Per open collection: [is_mapping, key or index, expecting a key].
    path: list[list[Any]] = []
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                if len(path) > MAX_DEPTH:
                    line = f" (line {event.start_mark.line + 1})"
                    return _too_deep_error(source, _path_pointer(path), line)
                path.append([isinstance(event, yaml.MappingStartEvent), 0, True])
                if path[-1][0]:
                    path[-1][1] = None
            elif isinstance(event, yaml.CollectionEndEvent):
                path.pop()
                _yaml_node_done(path)
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                if path and path[-1][0] and path[-1][2]:
                    path[-1][1] = getattr(event, "value", None)
                    path[-1][2] = False
                else:
                    _yaml_node_done(path)
    except yaml.YAMLError:
        pass
    line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return _too_deep_error(source, _path_pointer(path), line)


def _yaml_node_done(path: list[list[Any]]) -> None:
    """A value finished inside the innermost collection: move to the next slot."""
    if not path:
        return
    if path[-1][0]:
        path[-1][2] = True
    else:
        path[-1][1] += 1


def _path_pointer(path: list[list[Any]]) -> str:
    return join_pointer("", *(str(entry[1]) for entry in path))


# ------------------------------------------------------- walking one parsed document


@dataclass
class _Scan:
    """What one pass over a parsed file found."""

    refs: list[dict[str, Any]]
    id_nodes: list[dict[str, Any]]
    notes: list[tuple[Any, str]]  # (container, message) for warnings needing a pointer
    shared: bool


class _Unrepresentable(Exception):
    """A value JSON cannot hold; carries the container so the walk can locate it."""

    def __init__(self, container: Any, value: Any) -> None:
        super().__init__(type(value).__name__)
        self.container = container
        self.value = value


def _walk(root: Any, *, source: str, normalize: bool, track_ids: bool) -> _Scan:
    """One breadth-first pass over `root`: depth limit, `$ref`/`$id` collection and,
    for YAML (`normalize`), conversion to plain JSON values in place.

    Breadth-first by levels gives the depth for free and keeps the inner loop to
    list comprehensions: on a 4 MB JSON spec the pass costs under a json.load.
    Only YAML (and caller-built data) can share a node between several parents, so
    only then are visited nodes remembered.
    """
    scan = _Scan(refs=[], id_nodes=[], notes=[], shared=False)
    if type(root) is not dict and type(root) is not list:
        return scan

    seen: set[int] | None = {id(root)} if normalize else None
    level: list[Any] = [root]
    depth = 0
    try:
        while level:
            if depth > MAX_DEPTH:
                pointer = _locate(root, {id(level[0])}).get(id(level[0]), "")
                raise _too_deep_error(source, pointer)
            level = _next_level(level, scan, normalize=normalize, track_ids=track_ids)
            if seen is not None:
                level = _unseen(level, seen, scan)
            depth += 1
    except _Unrepresentable as exc:
        pointer = _locate(root, {id(exc.container)}).get(id(exc.container), "")
        raise SpecError(
            f"a value of type {type(exc.value).__name__} cannot be represented in "
            "JSON. Use strings, numbers, booleans, null, lists and mappings only.",
            source=source,
            pointer=pointer,
        ) from None
    return scan


def _next_level(
    level: list[Any], scan: _Scan, *, normalize: bool, track_ids: bool
) -> list[Any]:
    below: list[Any] = []
    extend = below.extend
    refs = scan.refs
    for node in level:
        if type(node) is dict:
            if "$ref" in node:
                refs.append(node)
            if track_ids and ("$id" in node or "$anchor" in node):
                scan.id_nodes.append(node)
            if normalize:
                _normalize_mapping(node, scan.notes)
            extend([v for v in node.values() if type(v) is dict or type(v) is list])
        else:
            if normalize:
                _normalize_sequence(node)
            extend([v for v in node if type(v) is dict or type(v) is list])
    return below


def _unseen(level: list[Any], seen: set[int], scan: _Scan) -> list[Any]:
    """Drop nodes already visited through another parent (YAML aliases)."""
    fresh = []
    for node in level:
        key = id(node)
        if key in seen:
            scan.shared = True
        else:
            seen.add(key)
            fresh.append(node)
    return fresh


def _normalize_mapping(node: dict[Any, Any], notes: list[tuple[Any, str]]) -> None:
    if any(type(k) is not str for k in node):
        _stringify_keys(node, notes)
    for key in [k for k, v in node.items() if type(v) not in _PLAIN_TYPES]:
        node[key] = _plain_value(node, node[key])


def _normalize_sequence(node: list[Any]) -> None:
    for index, value in enumerate(node):
        if type(value) not in _PLAIN_TYPES:
            node[index] = _plain_value(node, value)


def _stringify_keys(node: dict[Any, Any], notes: list[tuple[Any, str]]) -> None:
    """Turn YAML 1.1 keys (200, true, null, dates) into the strings JSON needs.

    Integer keys are everyday response codes and need no warning; a boolean or
    null key means YAML read a word such as `yes`/`on`/`no`/`~` as a value, and the
    original spelling is lost, so that is reported.
    """
    items: list[tuple[str, Any]] = []
    for key, value in node.items():
        if type(key) is not str:
            text = _key_text(key)
            if key is None or isinstance(key, bool):
                notes.append(
                    (
                        node,
                        f"the key was read by YAML as {key!r} (from an unquoted "
                        f"word such as yes/no/on/off/~) and kept as {text!r}; quote "
                        "the key if it meant something else",
                    )
                )
            key = text
        items.append((key, value))

    if len({k for k, _ in items}) < len(items):
        notes.append(
            (
                node,
                "two keys became the same string (e.g. 200 and '200'); "
                "the later one was kept",
            )
        )
    node.clear()
    node.update(items)


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)


def _plain_value(container: Any, value: Any) -> Any:
    """A JSON-representable stand-in for a YAML/caller value JSON cannot hold."""
    if isinstance(value, datetime.date):  # datetime.datetime is a date too
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, list)):
        return list(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, (bytes, bytearray)):
        # YAML !!binary is base64 in the source, so this restores what was written.
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (str, int, float)):  # subclasses of plain types
        return value
    raise _Unrepresentable(container, value)


def _locate(root: Any, wanted: set[int]) -> dict[int, str]:
    """JSON pointers of the containers whose `id()` is in `wanted`.

    Only used when a message must name a place, so the cost of building pointer
    strings is paid on those paths alone.
    """
    found: dict[int, str] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack and len(found) < len(wanted):
        node, pointer = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        if key in wanted:
            found[key] = pointer
        if type(node) is dict:
            children = node.items()
        elif type(node) is list:
            children = enumerate(node)
        else:
            continue
        for name, child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, join_pointer(pointer, str(name))))
    return found


def _check_expansion(root: Any, *, source: str) -> None:
    """Refuse alias cycles, alias bombs and aliased nesting beyond `MAX_DEPTH`.

    Each shared node's expanded size and height are computed once (memoised by
    `id()`), so a "billion laughs" document is measured, never expanded.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()  # entered, not yet left: the current path
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            children = _children(node)
            open_nodes.discard(key)
            size[key] = 1 + sum(size.get(id(c), 1) for c in children)
            height[key] = 1 + max((height.get(id(c), 0) for c in children), default=0)
            if size[key] > MAX_NODES:
                raise _expansion_error(root, node, source)
            continue

        if key in size:
            continue
        if key in open_nodes:
            raise SpecError(
                "a YAML alias refers to a node that contains it, so the document "
                "is infinitely deep. Replace the alias with a $ref.",
                source=source,
                pointer=_locate(root, {key}).get(key, ""),
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if type(c) in (dict, list))

    if height[id(root)] > MAX_DEPTH + 1:
        raise _too_deep_error(source, _deepest_path(root, height))


def _children(node: Any) -> list[Any]:
    if type(node) is dict:
        return list(node.values())
    if type(node) is list:
        return node
    return []


def _expansion_error(root: Any, node: Any, source: str) -> SpecError:
    return SpecError(
        f"the document expands to more than {MAX_NODES:,} nodes through YAML "
        "anchors and aliases (a 'billion laughs' document). Refusing to load it; "
        "replace the nested aliases with $refs.",
        source=source,
        pointer=_locate(root, {id(node)}).get(id(node), ""),
    )


def _deepest_path(root: Any, height: dict[int, int]) -> str:
    """Pointer of the first container beyond `MAX_DEPTH`, on the tallest branch."""
    pointer, node = "", root
    for _ in range(MAX_DEPTH + 1):
        if type(node) is dict:
            pairs: list[tuple[Any, Any]] = list(node.items())
        elif type(node) is list:
            pairs = list(enumerate(node))
        else:
            break
        if not pairs:
            break
        name, node = max(pairs, key=lambda pair: height.get(id(pair[1]), 0))
        pointer = join_pointer(pointer, str(name))
    return pointer


# ---------------------------------------------------------------- caller-built data


def _needs_plain_copy(root: Any, *, remote_refs: bool) -> bool:
    """True when a caller's mapping holds something we would have to rewrite:
    values JSON cannot hold, an empty `$ref`, a `$id` (relative refs within it
    are rewritten as absolute ones), or (when `remote_refs` are to be fetched)
    an http(s) `$ref` to bundle.

    Visits each container once, so it is safe on shared or cyclic data.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is dict:
            if any(type(k) is not str for k in node) or node.get("$ref", "") is None:
                return True
            if "$id" in node:
                return True  # refs inside it may be resolved against it
            if remote_refs and _is_remote(node.get("$ref")):
                return True
            values: Any = node.values()
        elif type(node) is list:
            values = node
        else:
            return True  # another Mapping or sequence type: rebuilt as dict/list
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append(value)
            elif kind not in _PLAIN_TYPES:
                return True
    return False


def _plain_copy(root: Any) -> Any:
    """Copy the containers of caller-built data (scalars are shared), keeping
    shared nodes shared; conversion to plain values happens in the later walk."""
    memo: dict[int, Any] = {}

    def container(value: Any, pending: list[tuple[Any, Any]]) -> Any:
        if not isinstance(value, (Mapping, list, tuple)):
            return value
        copy = memo.get(id(value))
        if copy is None:
            copy = {} if isinstance(value, Mapping) else []
            memo[id(value)] = copy
            pending.append((value, copy))
        return copy

    pending: list[tuple[Any, Any]] = []
    top = container(root, pending)
    while pending:
        original, copy = pending.pop()
        if isinstance(original, Mapping):
            for key, value in original.items():
                copy[key] = container(value, pending)
        else:
            copy.extend(container(value, pending) for value in original)
    return top


# ------------------------------------------------------------------ versions


def _check_version(doc: Any, *, source: str, warnings: list[str]) -> str:
    """The declared version, or a `SpecError` saying why the document is not one."""
    if not isinstance(doc, dict):
        raise SpecError(
            f"the document's root is {_kind_name(doc)}, not a mapping; an OpenAPI "
            "document is an object with `openapi` (or `swagger`), `info` and `paths`.",
            source=source,
        )
    if "openapi" in doc:
        field_name, raw = "openapi", doc["openapi"]
    elif "swagger" in doc:
        field_name, raw = "swagger", doc["swagger"]
    else:
        raise SpecError(
            "the root has neither an `openapi` nor a `swagger` field, so this is "
            f"not an OpenAPI document. Supported: {_SUPPORTED}.",
            source=source,
        )

    version = raw
    if isinstance(raw, float | int) and not isinstance(raw, bool) and abs(raw) < 100:
        # YAML reads an unquoted `swagger: 2.0` as a number.
        version = repr(float(raw))
        warnings.append(
            f"{source}#/{field_name}: the version is the number {raw!r}; read it as "
            f"{version!r} (quote it in the file)"
        )
    supported = (field_name == "swagger" and version == "2.0") or (
        field_name == "openapi"
        and isinstance(version, str)
        and _OPENAPI_VERSION.fullmatch(version) is not None
    )
    if not supported:
        raise SpecError(
            f"`{field_name}: {_short(raw)}` is not a supported version. Supported: "
            f"{_SUPPORTED}; convert the document to one of them.",
            source=source,
            pointer="/" + field_name,
        )
    return str(version)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_name(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} value"


# ---------------------------------------------------------------- bundling


@dataclass
class _File:
    """One file (or remote document) of a multi-file spec."""

    label: str  # for messages: the path as given, the relative path or the URL
    key: str | None  # entry under BUNDLE_KEY; None for the root document
    path: str | None = None  # real local path
    url: str | None = None
    raw: bytes | None = None
    data: Any = None
    is_yaml: bool = False
    plain_anchors: dict[str, str] = field(default_factory=dict)
    scan: _Scan | None = None  # what `_scan` found; None: nothing to rewrite
    owned: bool = True  # False for a caller's mapping, which is never changed


# A `$ref` whose value does not start with `#`, in JSON text.
_NON_LOCAL_REF = re.compile(rb'"\$ref"\s*:\s*(?!"#)')


def _nothing_to_rewrite(file: _File, track_ids: bool) -> bool:
    """True for a JSON file with only local `$ref`s and no `$id`s to record:
    parsing left it as plain JSON, its refs stay as they are, so the walk
    over every node (most of the load time of a large spec) has no work.
    Depth needs no check here: everything reading the document guards its
    own, and the parser refuses what would exhaust the stack."""
    if file.is_yaml or track_ids or file.raw is None or file.key is not None:
        return False
    return _NON_LOCAL_REF.search(file.raw) is None


# Stands for "file#pointer" in a message until the pointer has been looked up.
_WHERE = "\x00where\x00"


@dataclass
class _Pending:
    """A message about `node`, whose JSON pointer is looked up in one batch."""

    node: Any
    ref: str | None  # the broken $ref it explains; None for a warning
    message: str  # contains _WHERE


class _Loader:
    """State of one `load_spec` call: files read, refs rewritten, findings."""

    def __init__(
        self,
        *,
        allow_remote_refs: bool,
        remote_timeout: float,
        max_bytes: int,
        root_dir: str | None = None,
    ) -> None:
        self.allow_remote_refs = allow_remote_refs
        self.remote_timeout = remote_timeout
        self.max_bytes = max_bytes
        self.hasher = hashlib.sha256()
        self.bytes_read = 0
        self.files: list[str] = []
        self.broken: dict[str, str] = {}
        self.anchors: dict[str, str] = {}
        self.warnings: list[str] = []
        self.root_dir = ""  # the real folder refs may reach, if any
        self.allowed_dir = root_dir
        self.root: _File | None = None
        self.queue: deque[_File] = deque()
        self.known: dict[str, _File] = {}  # by real path or URL
        # Referenced files that cannot be used (unparseable, too deep, ...),
        # by real path or URL: why not.
        self.unusable: dict[str, str] = {}
        self.path_cache: dict[tuple[str, str], str] = {}
        self.folder_cache: dict[str, str] = {}
        self.deferred: list[tuple[_File, str, str, _File]] = []
        # Absolute refs that may name a `$id` of a file not read yet (3.1).
        self.unsettled: list[tuple[_File, dict[str, Any], str]] = []
        self.track_ids = False
        self.remote_fetches = 0
        self.remote_started: float | None = None

    # ---- entry points

    def load(self, source: Any, *, location: str | None) -> LoadedSpec:
        if isinstance(source, Mapping):
            return self._load_mapping(source, location=location)
        if isinstance(source, os.PathLike):
            return self._load_path(os.fspath(source), location=location)
        if not isinstance(source, str):
            raise ConfigError(
                f"cannot load a spec from a {type(source).__name__}; pass a path, "
                "an http(s) URL, JSON/YAML text or a mapping."
            )
        if re.match(r"https?://", source, re.IGNORECASE):
            return self._load_url(source, location=location or source)
        if _is_existing_path(source):
            return self._load_path(source, location=location)
        if _looks_like_text(source):
            return self._load_text(source, location=location)
        shown = source if len(source) <= 200 else source[:200] + "..."
        raise ConfigError(
            f"spec file {shown!r} does not exist. Pass the path of a .json/.yaml "
            "file, an http(s) URL, or the document's text."
        )

    def _load_path(self, path: str, *, location: str | None) -> LoadedSpec:
        if not os.path.isfile(path):
            what = (
                "is a folder, not a file" if os.path.isdir(path) else "does not exist"
            )
            raise ConfigError(
                f"spec file {path!r} {what}. Pass the path of the root "
                ".json/.yaml file of the OpenAPI document."
            )
        resolved = os.path.realpath(path)
        self.root_dir = os.path.dirname(resolved)
        if self.allowed_dir is not None:
            allowed = os.path.realpath(self.allowed_dir)
            if not resolved.startswith(os.path.join(allowed, "")):
                raise ConfigError(
                    f"spec file {path!r} is not inside root_dir {self.allowed_dir!r}; "
                    "root_dir must be a folder that contains the root file."
                )
            self.root_dir = allowed
        try:
            raw = self._read_file(resolved, label=path)
        except OSError as exc:
            raise ConfigError(f"cannot read spec file {path!r}: {exc}.") from None
        root = _File(label=path, key=None, path=resolved, raw=raw)
        self.known[resolved] = root
        kind = _sniff_kind(raw, os.path.basename(path))
        return self._finish(root, location=location, kind=kind)

    def _load_url(self, url: str, *, location: str) -> LoadedSpec:
        raw, kind = self._fetch(url)
        root = _File(label=shown_url(url), key=None, url=url, raw=raw)
        self.known[url] = root
        return self._finish(root, location=location, kind=kind)

    def _load_text(self, text: str, *, location: str | None) -> LoadedSpec:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SpecError(
                f"the text holds a lone UTF-16 surrogate ({exc.object[exc.start]!a} "
                f"at character {exc.start}), which is not text; decode the file "
                "as UTF-8 before passing it.",
                source="<text>",
            ) from None
        self.hasher.update(raw)
        root = _File(label="<text>", key=None, raw=raw)
        return self._finish(root, location=location, kind=_sniff_kind(text))

    def _load_mapping(
        self, source: Mapping[str, Any], *, location: str | None
    ) -> LoadedSpec:
        label = "<dict>"
        data: Any = source
        # The caller's data is never modified: copy it only when something in it
        # must be rewritten.
        copied = _needs_plain_copy(data, remote_refs=self.allow_remote_refs)
        if copied:
            data = _plain_copy(data)
        root = _File(label=label, key=None, data=data, is_yaml=True, owned=copied)
        return self._finish(root, location=location, kind="")

    # ---- the pipeline shared by every kind of source

    def _finish(self, root: _File, *, location: str | None, kind: str) -> LoadedSpec:
        self.root = root
        if root.data is None and root.raw is not None:
            root.data, root.is_yaml = _parse(
                root.raw, source=root.label, kind=kind, warnings=self.warnings
            )
            self._mend_surrogates(root, root.raw)
        version = _check_version(root.data, source=root.label, warnings=self.warnings)
        self.track_ids = version.startswith("3.1")

        root.scan = self._scan(root)
        self._process(root)
        if root.key is None and root.raw is None:
            # A mapping: hash its canonical JSON, now that it is known to be plain.
            canonical = json.dumps(root.data, sort_keys=True, separators=(",", ":"))
            if self._mend_surrogates(root, canonical):
                canonical = json.dumps(root.data, sort_keys=True, separators=(",", ":"))
            self.hasher.update(canonical.encode("ascii"))
        while self.queue or self.unsettled:
            while self.queue:
                self._bundle(self.queue.popleft())
            self._settle_unsettled()  # may fetch, and so queue, more files
        self._resolve_deferred_anchors()

        document: dict[str, Any] = root.data
        if version == "2.0":
            document, notes = convert_swagger2(document, source=root.label)
            self.warnings.extend(notes)
        self._note_no_operations(document, root.label)
        return LoadedSpec(
            document=document,
            source=root.label,
            location=location,
            original_version=version,
            content_hash=self.hasher.hexdigest(),
            broken_refs=self.broken,
            anchors=self.anchors,
            warnings=tuple(self.warnings),
            files=tuple(self.files),
        )

    def _prepare(self, file: _File) -> str:
        """Parse and check a referenced file as soon as it is read; return
        why it cannot be used, or "".

        A file that cannot be used is then a broken reference, like a missing
        one: only the operations that need it are skipped.
        """
        assert file.raw is not None
        kind = _sniff_kind(file.raw, file.label.rsplit("/", 1)[-1])
        try:
            file.data, file.is_yaml = _parse(
                file.raw, source=file.label, kind=kind, warnings=self.warnings
            )
            self._mend_surrogates(file, file.raw)
            file.scan = self._scan(file)
        except SpecError as exc:
            file.data = None
            return str(exc).rstrip(".")
        return ""

    def _note_no_operations(self, document: dict[str, Any], source: str) -> None:
        """Warn about a document with no paths at all: it loads, and makes no
        tools, which otherwise passes unnoticed (a stub, or the wrong file)."""
        paths = document.get("paths")
        if paths is not None and (not isinstance(paths, dict) or paths):
            return  # path items without operations are reported one by one
        webhooks = " (webhooks are calls the API makes, not tools)"
        self.warnings.append(
            f"{source}#/paths: the document defines no operations (`paths` is "
            f"{'empty' if paths is not None else 'missing'}), so no tools are "
            f"made{webhooks if document.get('webhooks') else ''}. Check that this "
            "is the API's full document."
        )

    def _bundle(self, file: _File) -> None:
        """Mount a referenced file, read and checked, under BUNDLE_KEY in the
        root, once its refs are rewritten."""
        assert file.key is not None and self.root is not None
        self._process(file)

        bundle = self.root.data.setdefault(BUNDLE_KEY, {})
        if not isinstance(bundle, dict):
            raise SpecError(
                f"`{BUNDLE_KEY}` is reserved for bundled files but holds "
                f"{_kind_name(bundle)}. Rename that field.",
                source=self.root.label,
                pointer="/" + escape_token(BUNDLE_KEY),
            )
        if file.key in bundle:
            # Only a document that came with its own bundle can have the key
            # already (each file is bundled once): its entry would be lost.
            raise SpecError(
                f"`{BUNDLE_KEY}` already holds an entry for {file.key!r}, which "
                "this document also refers to as a file; that field is reserved "
                "for bundled files. Remove it from the document.",
                source=self.root.label,
                pointer=join_pointer("", BUNDLE_KEY, file.key),
            )
        bundle[file.key] = file.data

    def _mend_surrogates(self, file: _File, text: str | bytes) -> bool:
        """Replace lone UTF-16 surrogates (`"\\ud800"` escapes: not text, and
        fatal to any UTF-8 encoding of the tools) by U+FFFD, with a warning.

        `text` is the file's source, or the canonical JSON of a mapping; it is
        only searched for the escapes, so the walk happens only when needed.
        """
        if isinstance(text, bytes):
            quick, pattern = _SURROGATE_ESCAPE_BYTES, _LONE_SURROGATE_BYTES
        else:
            quick, pattern = _SURROGATE_ESCAPE, _LONE_SURROGATE
        # The quick pattern starts with a literal, which `re` scans for fast
        # (about 1 ms on 4 MB); the exact one is only run on what it finds.
        if not quick.search(text) or not pattern.search(text):
            return False
        if file.raw is None and not file.owned:
            file.data = _plain_copy(file.data)  # never change the caller's data
            file.owned = True
        found = _replace_surrogates(file.data)
        if found:
            count, pointer = len(found), found[0]
            self.warnings.append(
                f"{file.label}#{pointer}: {count} string(s) hold lone UTF-16 "
                "surrogates, which are not text; each was replaced by U+FFFD"
            )
        return bool(found)

    def _scan(self, file: _File) -> _Scan | None:
        """Check and normalise one parsed file; None if it has nothing to
        rewrite. Problems with the file's content raise `SpecError`."""
        if _nothing_to_rewrite(file, self.track_ids):
            return None
        scan = _walk(
            file.data,
            source=file.label,
            normalize=file.is_yaml,
            track_ids=self.track_ids,
        )
        if scan.shared:
            _check_expansion(file.data, source=file.label)
        return scan

    def _process(self, file: _File) -> None:
        """Record a scanned file's anchors and rewrite its refs."""
        scan = file.scan
        if scan is None:
            return
        pending = [
            _Pending(node, None, f"{_WHERE}: {text}") for node, text in scan.notes
        ]
        scopes: dict[int, tuple[str, str]] = {}
        if scan.id_nodes:
            self._record_anchors(file, scan.id_nodes, pending)
            scopes = _ref_scopes(file.data, scan.refs, scan.id_nodes)
        for node in scan.refs:
            scope, resource = scopes.get(id(node), ("", ""))
            self._rewrite_ref(file, node, pending, scope, resource)
        self._report(file, pending)

    def _report(self, file: _File, pending: list[_Pending]) -> None:
        if not pending:
            return
        pointers = _locate(file.data, {id(p.node) for p in pending})
        for item in pending:
            where = f"{file.label}#{pointers.get(id(item.node), '')}"
            text = item.message.replace(_WHERE, where)
            if item.ref is None:
                self.warnings.append(text)
            else:
                self.broken.setdefault(item.ref, text)

    # ---- $ref rewriting

    def _rewrite_ref(
        self,
        file: _File,
        node: dict[str, Any],
        pending: list[_Pending],
        scope: str = "",
        resource: str = "",
    ) -> None:
        """Make `node`'s `$ref` local, or record why it cannot be.

        `scope` is the `$id` in force where the ref sits (3.1), which a
        relative ref is resolved against before anything else; `resource`
        the pointer of the schema that declares it, which `#...` refers to.
        """
        ref = node["$ref"]
        if ref is None:
            # `$ref: #/x` unquoted: YAML reads everything after `#` as a comment.
            del node["$ref"]
            message = (
                f"{_WHERE}: `$ref` is empty (an unquoted `#...` is a YAML comment), "
                "so it was dropped; quote the reference"
            )
            pending.append(_Pending(node, None, message))
            return
        if not isinstance(ref, str):
            return  # not a reference (e.g. a property named "$ref"); left alone
        if not ref.strip():
            message = (
                f"$ref at {_WHERE} is empty; point it at a definition "
                "(`#/components/schemas/Name`, or a file and a #/pointer in it)"
            )
            pending.append(_Pending(node, ref, message))
            return

        if ref.startswith("#"):
            fragment = ref[1:]
            if fragment and not fragment.startswith("/"):
                return  # a plain-name `$anchor`, recorded as such
            if resource and _pointer_exists(file.data, resource + fragment):
                # Inside a `$id` schema, `#/x` means its own `/x`. Documents
                # also write `#/components/...` there: kept document-wide.
                fragment = resource + fragment
                if file.key is None:
                    node["$ref"] = "#" + fragment
            if file.key is not None:
                node["$ref"] = _mounted(file.key, fragment)
            return
        if scope:
            joined = _joined(scope, ref)
            if joined is None:
                message = (
                    f"$ref {_shown(ref)} at {_WHERE} is relative to the $id {scope!r}, "
                    "which is not a valid URL; fix that $id"
                )
                pending.append(_Pending(node, ref, message))
                return
            ref = joined
            node["$ref"] = ref  # the caller's data was copied: it holds a `$id`
        if ref in self.anchors:
            return

        base, _, fragment = ref.partition("#")
        if self._anchor_with_fragment(ref, base, fragment):
            return
        if self.track_ids and _is_remote(base):
            # It may name the `$id` of a file that is read later; decide then.
            self.unsettled.append((file, node, ref))
            return
        self._follow_file_ref(file, node, ref, pending)

    def _follow_file_ref(
        self, file: _File, node: dict[str, Any], ref: str, pending: list[_Pending]
    ) -> None:
        base, _, fragment = ref.partition("#")
        target, problem = self._target(file, ref, base)
        if target is None:
            pending.append(_Pending(node, ref, problem))
            return

        if fragment and not fragment.startswith("/"):
            self.deferred.append((file, ref, fragment, target))
        elif target.key is None:
            node["$ref"] = "#" + fragment
        else:
            node["$ref"] = _mounted(target.key, fragment)

    def _settle_unsettled(self) -> None:
        """Absolute refs held back until every file's `$id`s were recorded:
        those that name one are kept, the others are fetched (if allowed)."""
        by_file: dict[int, tuple[_File, list[_Pending]]] = {}
        unsettled, self.unsettled = self.unsettled, []
        for file, node, ref in unsettled:
            base, _, fragment = ref.partition("#")
            if ref in self.anchors or self._anchor_with_fragment(ref, base, fragment):
                continue
            pending = by_file.setdefault(id(file), (file, []))[1]
            self._follow_file_ref(file, node, ref, pending)
        for file, pending in by_file.values():
            self._report(file, pending)

    def _anchor_with_fragment(self, ref: str, base: str, fragment: str) -> bool:
        """`X#/a/b` or `X#name` where X is a known `$id`: record, leave the ref."""
        base_pointer = self.anchors.get(base)
        if base_pointer is None:
            return False
        if fragment.startswith("/") or not fragment:
            self.anchors[ref] = base_pointer + unquote(fragment)
        else:
            self.broken.setdefault(
                ref,
                f"$ref {_shown(ref)} "
                f"names the anchor {fragment!r}, which the schema with "
                f"$id {base!r} (#{base_pointer}) does not define; add "
                f"`$anchor: {fragment}` inside it or use a JSON pointer",
            )
        return True

    def _target(self, file: _File, ref: str, base: str) -> tuple[_File | None, str]:
        """The file a non-local `$ref` names (read if new), or None and why not."""
        scheme = _scheme(base)
        if scheme is None:
            return None, (
                f"$ref {_shown(ref)} at {_WHERE} is not a valid URL or path "
                f"({_url_problem(base)}); fix the reference"
            )
        if scheme == "file":
            return None, (
                f"$ref {_shown(ref)} "
                f"at {_WHERE} is a file: URL, which is never followed; "
                "write it as a path relative to the spec file"
            )
        if _is_remote(base) or file.url:
            # Inside a remote document even a relative path is a remote reference.
            url = _joined(file.url or "https:", base)
            if url is None:
                return None, (
                    f"$ref {_shown(ref)} at {_WHERE} cannot be resolved against "
                    f"{file.url or 'https:'}; fix the reference"
                )
            return self._remote(url, ref)
        if len(scheme) > 1:
            return None, (
                f"$ref {_shown(ref)} "
                f"at {_WHERE} uses the unsupported scheme {scheme}:; "
                "only relative paths (and http(s) URLs, with allow_remote_refs=True) "
                "are followed"
            )
        if file.path is None:
            return None, (
                f"$ref {_shown(ref)} "
                f"at {_WHERE} points to another file, but the spec was "
                f"given as {file.label}, with no folder to resolve relative "
                "references against; load it from its file or URL instead"
            )
        return self._local(file, base)

    def _local(self, file: _File, base: str) -> tuple[_File | None, str]:
        assert file.path is not None
        folder = os.path.dirname(file.path)
        target = self.path_cache.get((folder, base))
        if target is None:
            target = self._real_path(os.path.join(folder, unquote(base)))
            self.path_cache[(folder, base)] = target
        known = self.known.get(target)
        if known is not None:
            return known, ""
        if target in self.unusable:
            return None, _unusable(base, self.unusable[target])

        root_dir = self.root_dir
        inside = target == root_dir or target.startswith(os.path.join(root_dir, ""))
        if inside and os.path.isdir(target):
            return None, (
                f"$ref {base!r} at {_WHERE} names a folder, not a file; name the "
                "file (and a #/pointer inside it)"
            )
        if not inside:
            if not os.path.exists(target):
                return None, (
                    f"file {base!r} referred from {_WHERE} does not exist (and would "
                    f"lie outside the spec's folder {root_dir}, which is never left)"
                )
            return None, (
                f"file {base!r} referred from {_WHERE} leaves the spec's folder "
                f"{root_dir}; files outside it are never read, so move the file "
                "into that folder, or widen the folder (Integration's spec_root_dir, "
                "load_spec's root_dir) to one holding both"
            )
        if not os.path.isfile(target):
            return None, (
                f"file {base!r} referred from {_WHERE} does not exist (looked for "
                f"{target}); add the file or fix the reference"
            )

        key = os.path.relpath(target, root_dir).replace(os.sep, "/")
        try:
            raw = self._read_file(target, label=key)
        except OSError as exc:
            return None, f"file {base!r} referred from {_WHERE} cannot be read: {exc}"
        return self._accept(_File(label=key, key=key, path=target, raw=raw), base)

    def _remote(self, url: str, ref: str) -> tuple[_File | None, str]:
        if _scheme(url) not in ("http", "https"):
            return None, (
                f"$ref {_shown(ref)} "
                f"at {_WHERE} names {shown_url(url)}, which is not an http(s) "
                "URL; only those are fetched"
            )
        if not self.allow_remote_refs:
            unnamed = " that no `$id` in the document names" if self.track_ids else ""
            return None, (
                f"$ref {_shown(ref)} "
                f"at {_WHERE} is a remote reference{unnamed}; remote "
                "references are not fetched unless you pass allow_remote_refs=True "
                "to load_spec"
            )
        url = url.partition("#")[0]
        known = self.known.get(url)
        if known is not None:
            return known, ""
        if url in self.unusable:
            return None, _unusable(url, self.unusable[url])

        limit = self._remote_limit()
        if limit:
            return None, f"$ref {_shown(ref)} at {_WHERE} was not fetched: {limit}"
        self.remote_fetches += 1
        try:
            raw, _ = self._fetch(url)
        except ConfigError as exc:
            return None, f"$ref {_shown(ref)} at {_WHERE} could not be fetched: {exc}"
        return self._accept(_File(label=shown_url(url), key=url, url=url, raw=raw), url)

    def _remote_limit(self) -> str:
        """Why no more remote documents may be fetched, or ""."""
        if self.remote_started is None:
            self.remote_started = time.monotonic()
        if self.remote_fetches >= _MAX_REMOTE_DOCUMENTS:
            return (
                f"this load already fetched {_MAX_REMOTE_DOCUMENTS} remote "
                "documents, the most one load fetches; bundle the spec into "
                "local files"
            )
        budget = self.remote_timeout * _REMOTE_BUDGET
        if time.monotonic() - self.remote_started > budget:
            return (
                f"remote documents took over {budget:g} s to fetch in all "
                f"({_REMOTE_BUDGET} x remote_timeout); bundle the spec into "
                "local files"
            )
        return ""

    def _accept(self, file: _File, named: str) -> tuple[_File | None, str]:
        """Queue a file just read for bundling, unless it cannot be used."""
        problem = self._prepare(file)
        if problem:
            self.unusable[file.path or file.url or file.label] = problem
            return None, _unusable(named, problem)
        return self._enqueue(file), ""

    def _enqueue(self, file: _File) -> _File:
        self.known[file.path or file.url or file.label] = file
        self.queue.append(file)
        return file

    # ---- 3.1 $id / $anchor

    def _record_anchors(
        self, file: _File, id_nodes: list[dict[str, Any]], pending: list[_Pending]
    ) -> None:
        """Map the URIs that name an `$id`/`$anchor` schema to its pointer.

        A `$id` is registered as written and resolved against the `$id`s that
        enclose it; an `$anchor` as `#name`, `<own or enclosing $id>#name`.
        """
        pointers = _locate(file.data, {id(n) for n in id_nodes})
        # Anchor pointers are used as they are (never percent-decoded).
        mount = "" if file.key is None else join_pointer("", BUNDLE_KEY, file.key)
        for node in id_nodes:
            local = pointers.get(id(node))
            if local is None:
                continue
            pointer = mount + local
            base, _ = _enclosing_id(file.data, local)
            own = node.get("$id")
            names: list[str] = []
            if isinstance(own, str) and own:
                own = own.rstrip("#")
                full = (_joined(base, own) or own) if base else own
                names += [own, full]
                base = full
            anchor = node.get("$anchor")
            if isinstance(anchor, str) and anchor:
                file.plain_anchors.setdefault(anchor, pointer)
                names.append("#" + anchor)
                if base:
                    names.append(f"{base}#{anchor}")
                if isinstance(own, str) and own:
                    names.append(f"{own}#{anchor}")
            for name in dict.fromkeys(names):
                self._add_anchor(name, pointer, node, pending)

    def _add_anchor(
        self, name: str, pointer: str, node: Any, pending: list[_Pending]
    ) -> None:
        earlier = self.anchors.setdefault(name, pointer)
        if earlier != pointer:
            message = (
                f"{_WHERE}: {name!r} also names #{earlier}, and references to it go "
                "there; give each schema its own $id/$anchor"
            )
            pending.append(_Pending(node, None, message))

    def _resolve_deferred_anchors(self) -> None:
        """`other.yaml#name` refs, once every file's `$anchor`s are known."""
        for file, ref, name, target in self.deferred:
            pointer = target.plain_anchors.get(name)
            if pointer is not None:
                self.anchors[ref] = pointer
            else:
                self.broken.setdefault(
                    ref,
                    f"$ref {_shown(ref)} "
                    f"in {file.label} names the anchor {name!r}, which "
                    f"{target.label} does not define; add `$anchor: {name}` there or "
                    "use a JSON pointer",
                )

    # ---- reading

    def _real_path(self, joined: str) -> str:
        """The real path of `joined`: symlinks and `..` resolved, so the folder
        check is made against where the bytes really are.

        Each folder is resolved once; resolving every path in full cost half a
        second of `lstat` calls on DigitalOcean's 9,000 file references.
        """
        folder, name = os.path.split(os.path.normpath(joined))
        real_folder = self.folder_cache.get(folder)
        if real_folder is None:
            real_folder = os.path.realpath(folder)
            self.folder_cache[folder] = real_folder
        target = os.path.join(real_folder, name)
        return os.path.realpath(target) if os.path.islink(target) else target

    def _read_file(self, path: str, *, label: str) -> bytes:
        with open(path, "rb") as handle:
            self._charge(os.fstat(handle.fileno()).st_size, label)
            raw = handle.read()
        self.hasher.update(raw)
        self.files.append(path if self.files else label)
        return raw

    def _charge(self, size: int, label: str) -> None:
        self.bytes_read += size
        if self.bytes_read > self.max_bytes:
            raise SpecError(
                f"reading this brings the spec to over {self.max_bytes:,} bytes, "
                "the max_bytes limit. Raise max_bytes in load_spec if the spec "
                "really is that large.",
                source=label,
            )

    def _fetch(self, url: str) -> tuple[bytes, str]:
        """GET `url`, counting bytes as they arrive; return body and parse kind.

        Redirects are followed here, a few at most and never from https to
        http, so that one deadline covers the whole chain.
        """
        shown = shown_url(url)  # never a password in a message
        deadline = time.monotonic() + self.remote_timeout
        target = url
        try:
            with httpx.Client(timeout=self.remote_timeout) as client:
                for _ in range(_MAX_REDIRECTS + 1):
                    with client.stream(
                        "GET", target, headers={"Accept-Encoding": "identity"}
                    ) as response:
                        if response.is_redirect:
                            target = self._redirect_target(response, url, target)
                            if time.monotonic() > deadline:
                                raise ConfigError(
                                    f"fetching the spec at {shown} took longer than "
                                    f"{self.remote_timeout:g} s. Download it and "
                                    "load the file."
                                )
                            continue
                        if response.status_code >= 400:
                            raise ConfigError(
                                f"fetching the spec at {shown} answered HTTP "
                                f"{response.status_code}. Check the URL and that "
                                "it is reachable without credentials."
                            )
                        raw = self._read_body(response, url, deadline)
                        break
                else:
                    raise ConfigError(
                        f"fetching the spec at {shown} was redirected more than "
                        f"{_MAX_REDIRECTS} times. Use the final URL."
                    )
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"could not fetch the spec at {shown}: {type(exc).__name__}: {exc}. "
                "Check the URL and the network, or load the spec from a file."
            ) from None
        except (httpx.InvalidURL, ValueError) as exc:
            # httpx refuses some URLs with InvalidURL (`http://[::1/x`), and
            # the resolver others with UnicodeError (a host label over 63
            # characters), the same for a redirect's Location.
            raise ConfigError(
                f"could not fetch the spec at {_short(shown_url(target), 200)}: it "
                f"is not a valid URL ({type(exc).__name__}: {exc}). Fix the URL."
            ) from None

        self.hasher.update(raw)
        self.files.append(shown_url(url))
        content_type = response.headers.get("content-type", "")
        return raw, _kind_from_response(content_type, url, raw)

    @staticmethod
    def _redirect_target(response: httpx.Response, url: str, current: str) -> str:
        shown = shown_url(url)  # never a password in a message
        location = response.headers.get("location", "")
        target = urljoin(current, location)
        scheme = urlsplit(target).scheme.lower()
        if not location or scheme not in ("http", "https"):
            raise ConfigError(
                f"fetching the spec at {shown} was redirected to "
                f"{shown_url(location)!r}, which is not an http(s) URL. Use the "
                "spec's real URL."
            )
        if urlsplit(current).scheme.lower() == "https" and scheme == "http":
            raise ConfigError(
                f"fetching the spec at {shown} was redirected from https to plain "
                f"http ({shown_url(target)}); refusing the downgrade. Use an "
                "https URL."
            )
        return target

    def _read_body(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The decoded body, refused as soon as it passes `max_bytes`.

        Decompression is done here, in bounded steps: httpx would inflate a
        65 KB gzip chunk into 67 MB before we could count a byte of it.
        """
        shown = shown_url(url)  # never a password in a message
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise ConfigError(
                f"the spec at {shown} came with Content-Encoding {encoding!r}, which "
                "is not accepted (only gzip or deflate, once). Serve it plainly."
            )

        chunks = []
        for chunk in response.iter_raw():
            # The timeout applies to each read; a server dripping a byte at a
            # time would never trip it, so the whole download has one too.
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"fetching the spec at {shown} took longer than "
                    f"{self.remote_timeout:g} s. Download it and load the file."
                )
            if decoder is None:
                self._charge(len(chunk), shown)
                chunks.append(chunk)
                continue
            pending = chunk
            while pending:
                # Inflate no more than the bytes still allowed, plus one to notice.
                allowed = self.max_bytes - self.bytes_read + 1
                chunks.append(decoder.decompress(pending, allowed))
                self._charge(len(chunks[-1]), shown)
                pending = decoder.unconsumed_tail
        if decoder is not None:
            chunks.append(decoder.flush())
            self._charge(len(chunks[-1]), shown)
        return b"".join(chunks)


def _unusable(named: str, problem: str) -> str:
    return (
        f"file {named!r} referred from {_WHERE} cannot be used, so the "
        f"operations that need it are skipped: {problem}"
    )


def _shown(ref: Any) -> str:
    """A `$ref` as a message quotes it: a URL without its password or query
    values (a remote reference may carry either)."""
    return repr(shown_url(ref) if isinstance(ref, str) else ref)


def _kind_from_response(content_type: str, url: str, raw: bytes) -> str:
    if "json" in content_type:
        return "json"
    if "yaml" in content_type or "yml" in content_type:
        return "yaml"
    return _sniff_kind(raw, urlsplit(url).path)


def _mounted(key: str, fragment: str) -> str:
    """The local `$ref` for `fragment` inside the bundled file `key`.

    `%` in the key is percent-encoded because RefResolver percent-decodes a
    fragment that contains one (the original fragment may be percent-encoded).
    """
    token = escape_token(key).replace("%", "%25")
    return f"#/{escape_token(BUNDLE_KEY)}/{token}{fragment}"


def _enclosing_id(data: Any, pointer: str) -> tuple[str, str]:
    """The resolved `$id` in force at `pointer`, from the schemas above it,
    and the pointer of the innermost one."""
    base = resource = ""
    node = data
    walked = ""
    for token in split_pointer(pointer):
        if isinstance(node, dict):
            own = node.get("$id")
            if isinstance(own, str) and own:
                own = own.rstrip("#")
                base = (_joined(base, own) or own) if base else own
                resource = walked
            node = node.get(token)
            walked = join_pointer(walked, token)
        elif (
            isinstance(node, list)
            and (index := array_index(token, len(node))) is not None
        ):
            node = node[index]
            walked = join_pointer(walked, token)
        else:
            break
    return base, resource


def _ref_scopes(
    data: Any, refs: list[dict[str, Any]], id_nodes: list[dict[str, Any]]
) -> dict[int, tuple[str, str]]:
    """For each relative `$ref` of `data` inside a schema with a `$id`, by the
    ref node's `id()`: that `$id` (resolved) and the schema's pointer."""
    if not any(isinstance(n.get("$id"), str) and n["$id"] for n in id_nodes):
        return {}
    relative = [
        node
        for node in refs
        if isinstance(ref := node["$ref"], str) and not _is_remote(ref)
    ]
    if not relative:
        return {}
    pointers = _locate(data, {id(node) for node in relative})
    scopes: dict[int, tuple[str, str]] = {}
    for node in relative:
        pointer = pointers.get(id(node), "")
        base, resource = _enclosing_id(data, pointer)
        own = node.get("$id")
        if isinstance(own, str) and own:
            own = own.rstrip("#")
            base = (_joined(base, own) or own) if base else own
            resource = pointer
        if base:
            scopes[id(node)] = (base, resource)
    return scopes


def _pointer_exists(data: Any, pointer: str) -> bool:
    node = data
    for token in split_pointer(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif (
            isinstance(node, list)
            and (index := array_index(token, len(node))) is not None
        ):
            node = node[index]
        else:
            return False
    return True


# A `\ud800`-style escape of a surrogate that is not half of a pair, in JSON
# or YAML text (YAML may also write `\U0000d800`).
_LONE_SURROGATE = re.compile(
    r"\\(?:u|U0000)[dD][89abAB][0-9a-fA-F]{2}(?!\\(?:u|U0000)[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\(?:u|U0000)[dD][c-fC-F][0-9a-fA-F]{2}"
)
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE.pattern.encode("ascii"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONE_SURROGATE_BYTES = re.compile(_LONE_SURROGATE.pattern.encode("ascii"))


def _replace_surrogates(root: Any) -> list[str]:
    """Replace lone surrogates in every key and string of `root`, in place;
    return the pointers of the containers where some were found."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, pointer = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is dict:
            items = list(node.items())
            if any(type(k) is str and _has_surrogate(k) for k, _ in items):
                node.clear()
                node.update((_mended(k), v) for k, v in items)
                found.append(pointer)
                items = list(node.items())
        else:
            items = list(enumerate(node))
        for key, value in items:
            if type(value) is str and _has_surrogate(value):
                node[key] = _mended(value)
                found.append(join_pointer(pointer, str(key)))
            elif type(value) is dict or type(value) is list:
                stack.append((value, join_pointer(pointer, str(key))))
    return found


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _mended(text: str) -> str:
    if not isinstance(text, str) or not _has_surrogate(text):
        return text
    # In a Python string every surrogate is a lone one: pairs are one character.
    return _SURROGATE.sub("\ufffd", text)


def _is_remote(ref: Any) -> bool:
    if not isinstance(ref, str):
        return False
    if ref.startswith("//"):
        return True
    scheme = _scheme(ref)
    if scheme is None:  # a broken URL (`http://[::1/x`) is still a remote one
        return re.match(r"\s*https?:", ref, re.IGNORECASE) is not None
    return scheme in ("http", "https")


def _scheme(url: str) -> str | None:
    """The URL's scheme in lower case ("" for a path), None if it is not a
    valid URL: `urlsplit` refuses some (`http://[::1/x`, an unclosed IPv6
    host) with a ValueError."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return None


def _url_problem(url: Any) -> str:
    if not isinstance(url, str):
        return f"a {type(url).__name__}, not a string"
    try:
        urlsplit(url)
    except ValueError as exc:
        return str(exc)
    return "unreadable"


def _joined(base: str, ref: str) -> str | None:
    """`ref` resolved against `base`; None when either is not a valid URL."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return None


def _is_existing_path(text: str) -> bool:
    try:
        return len(text) < 4096 and "\n" not in text and os.path.exists(text)
    except (OSError, ValueError):
        return False


def _looks_like_text(text: str) -> bool:
    stripped = text.lstrip("\ufeff \t\r\n")
    return stripped.startswith("{") or "openapi:" in text or "swagger:" in text
