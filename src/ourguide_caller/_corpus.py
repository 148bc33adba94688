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
from collections.abc import Callable, Iterator, Mapping
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
    "corpus_entries",
    "corpus_report",
    "export_problems",
    "percent",
]

BASE_URL = "https://api.example.test"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# What OpenAI, Anthropic and MCP clients accept as a tool name.
VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# A MANIFEST.md table row: `| 12 | name | `root.yaml (+4 files)` | ...`.
ROW = re.compile(r"^\| \d+ \| ([\w.-]+) \| `([^`]+?)(?: \(\+\d+ files\))?`")
# A top-level `openapi:` / `swagger:` key in a block-style YAML document.
YAML_VERSION_KEY = re.compile(r"""^["']?(?:openapi|swagger)["']?\s*:""", re.MULTILINE)
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
    # Tools rejected per export ("openai", "openai-strict", "anthropic", "mcp").
    rejections: dict[str, int] = field(default_factory=dict)
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
        totals: dict[str, int] = {}
        for row in self.rows:
            for export, count in row.rejections.items():
                totals[export] = totals.get(export, 0) + count
        return totals

    @property
    def ok(self) -> bool:
        """Everything loaded, every operation is a tool, nothing is rejected."""
        return (
            not self.failures
            and self.tools == self.wanted
            and self.schemas_valid == self.schemas
            and self.rejections == 0
        )

    def line(self) -> str:
        """The one-line verdict printed under the table."""
        by_export = ", ".join(
            f"{k} {v}" for k, v in self.rejections_by_export.items() if v
        )
        rejections = f"{self.rejections} export rejections" + (
            f" ({by_export})" if by_export else ""
        )
        # Coverage is of the operations meant to be tools: the default filter
        # leaving deprecated ones out is a choice, not a loss.
        coverage = percent(self.tools, self.wanted)
        if self.left_out:
            coverage += (
                f" of the {self.wanted} kept; {self.left_out} left out by the filter"
            )
        return (
            f"{self.loaded}/{self.specs} specs loaded "
            f"({percent(self.loaded, self.specs)}), "
            f"{self.tools} tools from {self.operations} operations ({coverage}), "
            f"{self.schemas_valid}/{self.schemas} schemas valid "
            f"({percent(self.schemas_valid, self.schemas)}), "
            f"{rejections}; {self.seconds:.1f} s"
        )


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
    basic, documented rules are checked: the name pattern, OpenAI's
    description limit, and an object schema for the arguments; with strict
    OpenAI tools also that every object closes its properties and requires
    all of them.
    """
    if export.startswith("openai"):
        function = entry.get("function")
        if entry.get("type") != "function" or not isinstance(function, Mapping):
            return ['not {"type": "function", "function": {...}}']
        return _openai_problems(function)

    key = "input_schema" if export == "anthropic" else "inputSchema"
    problems = _name_problems(entry.get("name"))
    problems += _object_schema_problems(entry.get(key), key)
    return problems


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
    problems += _object_schema_problems(parameters, "parameters")
    if function.get("strict") is True and isinstance(parameters, Mapping):
        problems += _strict_problems(parameters, "parameters")
    return problems


def _name_problems(name: Any) -> list[str]:
    if isinstance(name, str) and VALID_NAME.match(name):
        return []
    return [f"name {name!r} does not match {VALID_NAME.pattern}"]


def _object_schema_problems(schema: Any, key: str) -> list[str]:
    if not isinstance(schema, Mapping):
        return [f"{key} is not a JSON object"]
    if schema.get("type") != "object":
        return [f"{key} has type {schema.get('type')!r}, not 'object'"]
    return []


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


def _exporters() -> dict[str, Callable[[list[Tool]], list[dict[str, Any]]]]:
    """Each export to check; strict OpenAI only where `to_openai` offers it."""
    exporters: dict[str, Callable[[list[Tool]], list[dict[str, Any]]]] = {
        "openai": to_openai,
        "anthropic": to_anthropic,
        "mcp": to_mcp,
    }
    # Looked up at call time, not import time: the option may be added later.
    if "strict" in inspect.signature(to_openai).parameters:
        exporters["openai-strict"] = lambda tools: to_openai(tools, strict=True)
    return exporters


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

    for export, exporter in _exporters().items():
        entries = exporter(tools)
        rejected = 0
        for tool, entry in zip(tools, entries, strict=True):
            problems = export_problems(entry, export)
            if problems:
                rejected += 1
                row.problems.append(f"{export} rejects {tool.name}: {problems[0]}")
        row.rejections[export] = rejected


@contextmanager
def _library_logs_quiet() -> Iterator[None]:
    """Keep the library's per-operation warnings out of the table; the rows
    already say what was skipped and why."""
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
    table.add_column("spec")
    table.add_column("version")
    for column in (
        "ops",
        "tools",
        "skipped",
        "left out",
        "schemas valid",
        "export rejections",
        "load+build ms",
    ):
        table.add_column(column, justify="right")
    table.add_column("note")

    for row in summary.rows:
        if not row.loaded:
            error = Text((row.error or "")[:NOTE_CHARS], style="red")
            table.add_row(Text(row.name), *["-"] * 8, error)
            continue
        table.add_row(
            Text(row.name),
            Text(row.version or "?"),
            str(row.operations),
            str(row.tools),
            str(row.skipped),
            str(row.left_out),
            f"{row.schemas_valid}/{row.tools}",
            str(row.rejected),
            f"{row.milliseconds:,.0f}",
            Text(f"{len(row.problems)} problems" if row.problems else ""),
        )
    return table
