"""How a folder of real-world OpenAPI documents fares: one row per document.

For every document the report builds an `Integration` (with a fixed base URL,
so nothing depends on the document's servers and no network is touched) and
checks what an agent service would see: one tool per operation, input schemas
that are valid JSON Schema 2020-12, and provider exports (OpenAI, Anthropic,
MCP) that the provider would accept. A document that raises is a failed row,
not an aborted report: the point is to see the whole corpus at once.

The folder is either laid out as ../shared/specs/real is (a MANIFEST.md whose
table names each document's folder and root file) or is a plain folder of
subfolders, each holding one or more OpenAPI documents.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._errors import SpecError
from ._export import OPENAI_DESCRIPTION_LIMIT, to_anthropic, to_mcp, to_openai
from ._integration import Integration
from ._refs import RefResolver, join_pointer
from ._tools import METHODS, Tool

__all__ = [
    "CorpusSummary",
    "SpecRow",
    "check_spec",
    "corpus_entries",
    "corpus_report",
    "count_operations",
    "export_problems",
    "percent",
    "run_export",
    "schema_problem",
]

BASE_URL = "https://api.example.test"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# What OpenAI, Anthropic and MCP clients accept as a tool name.
VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# A MANIFEST.md table row: `| 12 | name | `root.yaml (+4 files)` | ...`.
ROW = re.compile(r"^\| \d+ \| ([\w.-]+) \| `([^`]+?)(?: \(\+\d+ files\))?`")
# A top-level `openapi:` / `swagger:` key in a block-style YAML document.
YAML_VERSION_KEY = re.compile(r"""^["']?(?:openapi|swagger)["']?\s*:""", re.MULTILINE)
# Anthropic's rule for top-level argument names (its own error message says so).
ANTHROPIC_PROPERTY = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
# Keywords the providers refuse at the root of a tool's schema.
_OPENAI_ROOT = ("anyOf", "oneOf", "allOf", "enum", "not")
_ANTHROPIC_ROOT = ("anyOf", "oneOf", "allOf")
SPEC_SUFFIXES = (".json", ".yaml", ".yml")
# How much of an error message fits in the table's note column.
NOTE_CHARS = 160


@dataclass
class SpecRow:
    """One document's outcome. `error` is set when loading or building raised."""

    name: str
    path: Path
    version: str | None = None
    operations: int = 0
    tools: int = 0
    skipped: int = 0
    # Operations the integration's default filter leaves out on purpose
    # (deprecated ones); neither tools nor failures.
    left_out: int = 0
    schemas_valid: int = 0
    # Per export ("openai", "openai-strict", "anthropic", "mcp"): tools whose
    # entry breaks the provider's rules, and tools the export left out.
    rejections: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    # Tools exported with `"strict": true`; None when strict is not offered.
    strict: int | None = None
    milliseconds: float = 0.0
    error: str | None = None
    # The first few problems found (invalid schemas, rejected exports, skips).
    problems: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return self.error is None

    @property
    def rejected(self) -> int:
        return sum(self.rejections.values())

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


@dataclass
class CorpusSummary:
    """Every row plus the totals; totals count loaded documents only."""

    folder: Path
    rows: list[SpecRow]
    seconds: float = 0.0

    @property
    def specs(self) -> int:
        return len(self.rows)

    @property
    def loaded(self) -> int:
        return sum(1 for row in self.rows if row.loaded)

    @property
    def failures(self) -> list[SpecRow]:
        return [row for row in self.rows if not row.loaded]

    @property
    def operations(self) -> int:
        return sum(row.operations for row in self.rows if row.loaded)

    @property
    def tools(self) -> int:
        return sum(row.tools for row in self.rows if row.loaded)

    @property
    def skipped(self) -> int:
        return sum(row.skipped for row in self.rows if row.loaded)

    @property
    def left_out(self) -> int:
        return sum(row.left_out for row in self.rows if row.loaded)

    @property
    def wanted(self) -> int:
        """Operations that should have become tools: all but those left out."""
        return self.operations - self.left_out

    @property
    def schemas(self) -> int:
        # Every tool has exactly one input schema.
        return self.tools

    @property
    def schemas_valid(self) -> int:
        return sum(row.schemas_valid for row in self.rows if row.loaded)

    @property
    def rejections(self) -> int:
        return sum(row.rejected for row in self.rows)

    @property
    def rejections_by_export(self) -> dict[str, int]:
        return _by_export(row.rejections for row in self.rows)

    @property
    def dropped(self) -> int:
        return sum(row.dropped_total for row in self.rows)

    @property
    def dropped_by_export(self) -> dict[str, int]:
        return _by_export(row.dropped for row in self.rows)

    @property
    def strict(self) -> int | None:
        """Tools exported in OpenAI strict mode; None when it is not offered."""
        counts = [row.strict for row in self.rows if row.strict is not None]
        return sum(counts) if counts else None

    @property
    def ok(self) -> bool:
        """Everything loaded, every operation is a tool, nothing is rejected."""
        return (
            not self.failures
            and self.tools == self.wanted
            and self.schemas_valid == self.schemas
            and self.rejections == 0
            and self.dropped == 0
        )

    def line(self) -> str:
        """The one-line verdict printed under the table."""
        # Coverage is of the operations meant to be tools: the default filter
        # leaving deprecated ones out is a choice, not a loss.
        coverage = percent(self.tools, self.wanted)
        if self.left_out:
            coverage += (
                f" of the {self.wanted} kept; {self.left_out} left out by the filter"
            )
        parts = [
            f"{self.loaded}/{self.specs} specs loaded "
            f"({percent(self.loaded, self.specs)})",
            f"{self.tools} tools from {self.operations} operations ({coverage})",
            f"{self.schemas_valid}/{self.schemas} schemas valid "
            f"({percent(self.schemas_valid, self.schemas)})",
            f"{self.rejections} export rejections" + _detail(self.rejections_by_export),
        ]
        if self.dropped:
            parts.append(
                f"{self.dropped} dropped by exports" + _detail(self.dropped_by_export)
            )
        if self.strict is not None:
            parts.append(
                f"{self.strict}/{self.tools} OpenAI strict "
                f"({percent(self.strict, self.tools)})"
            )
        return ", ".join(parts) + f"; {self.seconds:.1f} s"


def _by_export(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for per_export in counts:
        for export, count in per_export.items():
            totals[export] = totals.get(export, 0) + count
    return totals


def _detail(by_export: Mapping[str, int]) -> str:
    """` (openai 2, mcp 1)` for the exports with a non-zero count, else ``."""
    shown = ", ".join(f"{k} {v}" for k, v in by_export.items() if v)
    return f" ({shown})" if shown else ""


def percent(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage that never rounds a miss up to 100%."""
    if whole == 0:
        return "n/a"
    if part == whole:
        return "100%"
    return f"{min(100 * part / whole, 99.9):.1f}%"


# --- which documents ------------------------------------------------------


def corpus_entries(folder: str | Path) -> list[tuple[str, Path]]:
    """(name, root file) for every document in `folder`.

    With a MANIFEST.md, its table decides (multi-file documents list only the
    root, which a directory scan could not tell apart from the other files).
    Without one, every JSON/YAML file directly inside a subfolder that declares
    `openapi` or `swagger` at its top level is a document.
    """
    folder = Path(folder)
    manifest = folder / "MANIFEST.md"
    if manifest.is_file():
        return _manifest_entries(folder, manifest)

    entries: list[tuple[str, Path]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [
            f
            for f in sorted(sub.iterdir())
            if f.suffix in SPEC_SUFFIXES and _is_spec(f)
        ]
        for file in files:
            # A folder with several documents names each by its file too.
            name = sub.name if len(files) == 1 else f"{sub.name}/{file.stem}"
            entries.append((name, file))
    return entries


def _manifest_entries(folder: Path, manifest: Path) -> list[tuple[str, Path]]:
    entries = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            entries.append((match.group(1), folder / match.group(1) / match.group(2)))
    return entries


def _is_spec(file: Path) -> bool:
    """Whether `file` is an OpenAPI/Swagger document (not a fragment it refers to)."""
    if not file.is_file():
        return False
    text = file.read_text(encoding="utf-8", errors="replace")

    # JSON (also YAML written as JSON) has no reliable "top level" in its
    # text, so parse it; YAML's top-level keys start in column 0.
    if file.suffix == ".json" or text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return False
        return isinstance(document, dict) and (
            "openapi" in document or "swagger" in document
        )
    return YAML_VERSION_KEY.search(text) is not None


# --- checks on one integration ----------------------------------------------


def count_operations(integration: Integration) -> int:
    """HTTP operations under `paths`, following path-item `$ref`s.

    Counted independently of the tool builder, so a tool silently lost shows
    as tools < operations.
    """
    spec = integration.spec
    document = spec.document
    resolver = RefResolver(
        document, source=spec.source, broken_refs=spec.broken_refs, anchors=spec.anchors
    )

    count = 0
    for path, item in (document.get("paths") or {}).items():
        try:
            item, _ = resolver.deref(item, join_pointer("/paths", str(path)))
        except SpecError:
            # The builder reports an unresolvable path item as one skipped
            # operation; count it once so the two sides stay comparable.
            count += 1
            continue
        if isinstance(item, Mapping):
            count += sum(
                1 for method in METHODS if isinstance(item.get(method), Mapping)
            )
    return count


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not valid against the 2020-12 meta-schema, or None."""
    try:
        jsonschema_rs.meta.validate({"$schema": DRAFT_2020_12, **schema})
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as exc:
        return str(exc).splitlines()[0]
    return None


def export_problems(entry: Mapping[str, Any], export: str) -> list[str]:
    """The rules of `export`'s provider that `entry` (one exported tool) breaks.

    `export` is "openai", "openai-strict", "anthropic" or "mcp". Only the
    basic, documented rules are checked: the name pattern (the OpenAI one for
    all: MCP allows more, but MCP tools are often handed on to a model API),
    OpenAI's description limit, an object schema for the arguments without
    combinators at its root (OpenAI and Anthropic refuse them), Anthropic's
    pattern for argument names; for strict OpenAI tools also that every
    object closes its properties and requires all of them.
    """
    if export.startswith("openai"):
        function = entry.get("function")
        if entry.get("type") != "function" or not isinstance(function, Mapping):
            return ['not {"type": "function", "function": {...}}']
        return _openai_problems(function)

    if export == "anthropic":
        schema = entry.get("input_schema")
        problems = _name_problems(entry.get("name"))
        problems += _object_schema_problems(schema, "input_schema", _ANTHROPIC_ROOT)
        return problems + _property_name_problems(schema)

    problems = _name_problems(entry.get("name"))
    return problems + _object_schema_problems(entry.get("inputSchema"), "inputSchema")


def _openai_problems(function: Mapping[str, Any]) -> list[str]:
    problems = _name_problems(function.get("name"))

    description = function.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > OPENAI_DESCRIPTION_LIMIT
    ):
        problems.append(
            f"description longer than {OPENAI_DESCRIPTION_LIMIT} characters"
        )

    parameters = function.get("parameters")
    problems += _object_schema_problems(parameters, "parameters", _OPENAI_ROOT)
    if function.get("strict") is True and isinstance(parameters, Mapping):
        problems += _strict_problems(parameters, "parameters")
    return problems


def _name_problems(name: Any) -> list[str]:
    if isinstance(name, str) and VALID_NAME.fullmatch(name):
        return []
    return [f"name {name!r} does not match {VALID_NAME.pattern}"]


def _object_schema_problems(
    schema: Any, key: str, banned: tuple[str, ...] = ()
) -> list[str]:
    if not isinstance(schema, Mapping):
        return [f"{key} is not a JSON object"]
    if schema.get("type") != "object":
        return [f"{key} has type {schema.get('type')!r}, not 'object'"]
    return [f"{key} has {word} at its root" for word in banned if word in schema]


def _property_name_problems(schema: Any) -> list[str]:
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    names = properties if isinstance(properties, Mapping) else {}
    return [
        f"argument name {name!r} does not match {ANTHROPIC_PROPERTY.pattern}"
        for name in names
        if not ANTHROPIC_PROPERTY.fullmatch(str(name))
    ]


def _strict_problems(schema: Mapping[str, Any], at: str) -> list[str]:
    """OpenAI strict mode: every object schema has `additionalProperties:
    false` and lists every property in `required`."""
    problems: list[str] = []
    for pointer, node in _subschemas(schema, at):
        properties = node.get("properties")
        if node.get("type") != "object" and not isinstance(properties, Mapping):
            continue
        if node.get("additionalProperties") is not False:
            problems.append(f"{pointer}: strict needs additionalProperties: false")
        missing = set(properties or {}) - set(node.get("required") or [])
        if missing:
            problems.append(
                f"{pointer}: strict needs every property required ({sorted(missing)})"
            )
    return problems


# Keywords whose value is one subschema, a list of them, or a map of them.
_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else")
_LIST = ("anyOf", "oneOf", "allOf", "prefixItems")
_MAP = ("properties", "$defs", "definitions", "patternProperties")


def _subschemas(
    schema: Mapping[str, Any], at: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """`schema` and every schema nested in it, with a pointer-ish location."""
    stack: list[tuple[str, Any]] = [(at, schema)]
    while stack:
        pointer, node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        yield pointer, node
        stack.extend((f"{pointer}/{k}", node.get(k)) for k in _ONE if k in node)
        for key in _LIST:
            for index, child in enumerate(node.get(key) or []):
                stack.append((f"{pointer}/{key}/{index}", child))
        for key in _MAP:
            value = node.get(key)
            if isinstance(value, Mapping):
                stack.extend(
                    (f"{pointer}/{key}/{name}", child) for name, child in value.items()
                )


Export = Callable[..., list[dict[str, Any]]]


def _exports() -> list[tuple[str, Export, dict[str, Any]]]:
    """Each export to check, with its options; strict OpenAI only where
    `to_openai` offers it (looked up now, so an option added later counts)."""
    exports: list[tuple[str, Export, dict[str, Any]]] = [("openai", to_openai, {})]
    if "strict" in inspect.signature(to_openai).parameters:
        exports.append(("openai-strict", to_openai, {"strict": True}))
    exports += [("anthropic", to_anthropic, {}), ("mcp", to_mcp, {})]
    return exports


def run_export(
    function: Export, tools: list[Tool], **options: Any
) -> list[dict[str, Any]]:
    """`function(tools, **options)`, asking for every tool back: an export
    capped at a provider's per-request limit would otherwise hide the rest
    from the check."""
    accepted = inspect.signature(function).parameters
    if "max_tools" in accepted:
        options["max_tools"] = None
    return function(tools, **options)


def _entry_name(entry: Mapping[str, Any]) -> Any:
    function = entry.get("function")
    return function.get("name") if isinstance(function, Mapping) else entry.get("name")


# --- the report ----------------------------------------------------------------


def check_spec(name: str, path: Path) -> SpecRow:
    """Build one document's integration and check it; never raises."""
    row = SpecRow(name=name, path=path)
    try:
        started = time.perf_counter()
        integration = Integration(path, name=name, base_url=BASE_URL)
        row.milliseconds = (time.perf_counter() - started) * 1000
        _fill_row(row, integration)
    except Exception as exc:
        # Whatever went wrong, one bad document must not end the report.
        row.error = f"{type(exc).__name__}: {exc}"
    return row


def _fill_row(row: SpecRow, integration: Integration) -> None:
    tools = integration.tools
    row.version = integration.spec.original_version
    row.operations = count_operations(integration)
    row.tools = len(tools)
    row.skipped = len(integration.report.skipped)
    row.left_out = len(integration.report.filtered)
    row.problems += [
        f"skipped {op.method} {op.path}: {op.skipped}"
        for op in integration.report.skipped
    ]

    for tool in tools:
        problem = schema_problem(tool.input_schema)
        if problem is None:
            row.schemas_valid += 1
        else:
            row.problems.append(f"{tool.name}: invalid schema: {problem}")

    for export, function, options in _exports():
        _check_export(row, export, run_export(function, tools, **options), tools)


def _check_export(
    row: SpecRow, export: str, entries: list[dict[str, Any]], tools: list[Tool]
) -> None:
    """Count `export`'s rejected entries, and the tools it left out (matched
    by name: an export may drop a tool it could not make acceptable)."""
    rejected = 0
    for entry in entries:
        problems = export_problems(entry, export)
        if problems:
            rejected += 1
            row.problems.append(f"{export} rejects {_entry_name(entry)}: {problems[0]}")
    row.rejections[export] = rejected

    exported = {_entry_name(entry) for entry in entries}
    missing = [tool.name for tool in tools if tool.name not in exported]
    row.dropped[export] = len(missing)
    row.problems += [f"{export} left out {name}" for name in missing[:3]]

    if export == "openai-strict":
        row.strict = sum(
            1 for e in entries if e.get("function", {}).get("strict") is True
        )


@contextmanager
def _library_logs_quiet() -> Iterator[None]:
    """Keep the library's warnings (operations skipped, exports adjusted)
    out of the table; the rows already count them."""
    logger = logging.getLogger("ourguide_caller")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def corpus_report(folder: str | Path, *, console: Console) -> CorpusSummary:
    """Check every document in `folder`, print a table and a summary line."""
    folder = Path(folder)
    started = time.perf_counter()
    with _library_logs_quiet():
        rows = [check_spec(name, path) for name, path in corpus_entries(folder)]
    summary = CorpusSummary(folder, rows, time.perf_counter() - started)

    console.print(_table(summary))
    console.print(Text(summary.line(), style="green" if summary.ok else "yellow"))
    for row in rows:
        # The table cuts messages short; the first few are worth reading whole.
        details = [row.error] if row.error else row.problems[:3]
        for detail in details:
            console.print(Text(f"  {row.name}: {detail}"))
    return summary


def _table(summary: CorpusSummary) -> Table:
    table = Table(title=Text(f"OpenAPI corpus: {summary.folder}"), title_justify="left")
    numbers = ["ops", "tools", "skipped", "left out", "schemas valid"]
    numbers += ["export rejections", "dropped by exports"]
    # The strict column only where the export offers strict mode at all.
    with_strict = summary.strict is not None
    numbers += ["OpenAI strict"] if with_strict else []
    numbers += ["load+build ms"]

    table.add_column("spec")
    table.add_column("version")
    for column in numbers:
        table.add_column(column, justify="right")
    table.add_column("note")

    for row in summary.rows:
        if not row.loaded:
            error = Text((row.error or "")[:NOTE_CHARS], style="red")
            table.add_row(Text(row.name), *["-"] * (len(numbers) + 1), error)
            continue
        cells = [
            str(row.operations),
            str(row.tools),
            str(row.skipped),
            str(row.left_out),
            f"{row.schemas_valid}/{row.tools}",
            str(row.rejected),
            str(row.dropped_total),
        ]
        cells += [f"{row.strict}/{row.tools}"] if with_strict else []
        cells += [f"{row.milliseconds:,.0f}"]
        note = Text(f"{len(row.problems)} problems" if row.problems else "")
        table.add_row(Text(row.name), Text(row.version or "?"), *cells, note)
    return table
