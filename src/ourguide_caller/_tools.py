"""Tools: what each OpenAPI operation becomes, and how it is built.

A `Tool` is everything needed to offer an operation to an LLM (name,
description, JSON Schema of the arguments) and to turn the LLM's arguments
back into an HTTP request (`arguments` say where each argument goes). Tools
are built once per integration by `build_tools` and then only read.

Arguments are one flat object. Body properties keep their own names; a
parameter whose name another location already uses gets its location as a
suffix, so nothing is dropped or merged:

    path id + body {id, name} + query name
    -> {"id__path", "id", "name", "name__query"}

Every renaming is listed in the build report.
"""

from __future__ import annotations

import logging
import marshal
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from ._errors import ConfigError, SpecError
from ._filter import OperationFilter, operation_tags, spec_flag
from ._http import is_field_name
from ._naming import (
    MAX_NAME,
    assign_tool_names,
    clean_argument_name,
    operation_hash,
    spec_operation_id,
)
from ._refs import RefResolver, join_pointer
from ._schema import SchemaConverter, SchemaSession
from ._security import (
    Binding,
    ToolSecurity,
    credential_parameters,
    parameter_key,
    parse_requirements,
    tool_security,
)
from ._servers import origin_of

__all__ = [
    "Argument",
    "Body",
    "BuildReport",
    "OperationReport",
    "Tool",
    "build_tools",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_PATH_ITEM_FIELDS = frozenset(
    {"$ref", "summary", "description", "servers", "parameters", *METHODS}
)
_LOCATIONS = ("path", "query", "header", "cookie")
# Headers the runtime owns: the three OpenAPI says a parameter may not define,
# and those that frame or route the request (a model-set `Host` could send a
# credentialed request to another virtual host; a `Content-Length` could
# desynchronise a proxy).
_RESERVED_HEADERS = frozenset(
    {
        "accept",
        "content-type",
        "authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "cookie",
        "accept-encoding",
        "proxy-authorization",
        "proxy-connection",
    }
)
# Which location keeps the plain name when several share it.
_PRIORITY = {"body": 0, "path": 1, "query": 2, "header": 3, "cookie": 4}
_NARROWING = frozenset(
    {"limit", "per_page", "page_size", "pageSize", "max_results", "count", "q"}
)


@dataclass(frozen=True, slots=True)
class Argument:
    """Where one tool argument goes on the wire.

    `location` is path, query, header, cookie or body (a property of an object
    body); `wire_name` is the parameter or property name the API expects.
    """

    name: str
    location: str
    wire_name: str
    required: bool
    style: str = "form"
    explode: bool = True
    allow_reserved: bool = False
    # Parameters declared with `content: application/json` are sent as JSON.
    as_json: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """The request body: its media type and whether its properties are spread
    into the arguments (`flattened`) or carried whole by `argument`."""

    media_type: str
    flattened: bool
    argument: str | None
    required: bool
    # Form and multipart fields' (style, explode) from the spec's `encoding`.
    encoding: Mapping[str, tuple[str, bool]] = field(default_factory=dict)
    # Multipart fields' part Content-Type, where `encoding` names one.
    part_types: Mapping[str, str] = field(default_factory=dict)
    # Multipart fields (or arrays of them) sent as file parts, with the
    # Content-Type their schema gives a file part.
    file_types: Mapping[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Tool:
    """One operation offered as an LLM tool.

    `input_schema` is a JSON Schema (2020-12) object for the arguments;
    `security` says what the call needs; `read_only`, `destructive` and
    `consequential` tell an agent whether to confirm with the user first.
    """

    name: str
    description: str
    method: str
    path: str
    input_schema: dict[str, Any]
    security: ToolSecurity
    integration: str
    operation_id: str | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    read_only: bool = False
    destructive: bool = False
    consequential: bool = True
    arguments: tuple[Argument, ...] = ()
    body: Body | None = None
    base_url: str | None = None
    base_url_error: ConfigError | None = field(default=None, repr=False)
    # (scheme, host, port) of base_url: the only place credentials may go.
    origin: tuple[str, str, int | None] | None = field(default=None, repr=False)
    # Arguments that make an answer smaller, named when a result is cut.
    narrowing: tuple[str, ...] = field(default=(), repr=False)
    pointer: str = ""
    _validator: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, {self.method} {self.path})"

    @property
    def needs_user(self) -> bool:
        """True when only a signed-in session can call it."""
        return self.security.anonymous is None and self.security.signed_in is not None

    def as_dict(self) -> dict[str, Any]:
        """A plain description of the tool (the CLI's `--format json`)."""
        return {
            "name": self.name,
            "description": self.description,
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "input_schema": self.input_schema,
            "security": self.security.summary(),
            "requires_signed_in_user": self.needs_user,
            "read_only": self.read_only,
            "destructive": self.destructive,
            "consequential": self.consequential,
            "deprecated": self.deprecated,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class OperationReport:
    """What became of one operation: its tool, or why it was skipped."""

    method: str
    path: str
    pointer: str
    tool: str | None = None
    skipped: str | None = None
    filtered: str | None = None
    renamed_arguments: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class BuildReport:
    """Per-operation outcome of building one integration's tools."""

    integration: str
    source: str
    spec_version: str
    operations: list[OperationReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> list[OperationReport]:
        """Operations that could not become tools because of a problem."""
        return [op for op in self.operations if op.skipped is not None]

    @property
    def filtered(self) -> list[OperationReport]:
        """Operations the integration's filter left out on purpose."""
        return [op for op in self.operations if op.filtered is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "source": self.source,
            "spec_version": self.spec_version,
            "tools": sum(1 for op in self.operations if op.tool),
            "skipped": len(self.skipped),
            "filtered": len(self.filtered),
            "warnings": list(self.warnings),
            "operations": [
                {
                    "method": op.method,
                    "path": op.path,
                    "pointer": op.pointer,
                    "tool": op.tool,
                    "skipped": op.skipped,
                    "filtered": op.filtered,
                    "renamed_arguments": [list(pair) for pair in op.renamed_arguments],
                    "notes": list(op.notes),
                }
                for op in self.operations
            ],
        }

    def __str__(self) -> str:
        made = sum(1 for op in self.operations if op.tool)
        lines = [
            f"{self.integration}: {self.source} (OpenAPI {self.spec_version}): "
            f"{made} tools from {len(self.operations)} operations, "
            f"{len(self.skipped)} skipped, {len(self.filtered)} left out by the "
            f"filter, {len(self.warnings)} warnings"
        ]
        for op in self.operations:
            head = f"  {op.method:7} {op.path}"
            if op.filtered is not None:
                lines.append(f"{head} -> left out: {op.filtered}")
                continue
            if op.tool is None:
                lines.append(f"{head} -> skipped: {op.skipped}")
                continue
            lines.append(f"{head} -> {op.tool}")
            for original, renamed in op.renamed_arguments:
                lines.append(f"      argument {original} is called {renamed}")
            for note in op.notes:
                lines.append(f"      note: {note}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass
class _Candidate:
    """An argument before names are settled."""

    location: str
    wire_name: str
    schema: dict[str, Any] | bool
    required: bool
    style: str = "form"
    explode: bool = True
    allow_reserved: bool = False
    as_json: bool = False


@dataclass
class _Draft:
    """One operation's tool, before its name is assigned."""

    operation_id: str | None
    method: str
    path: str
    pointer: str
    description: str
    input_schema: dict[str, Any]
    arguments: tuple[Argument, ...]
    body: Body | None
    requirements: tuple[tuple[str, ...], ...] | None
    operation: Mapping[str, Any]
    path_item: Mapping[str, Any]
    renamed: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


BaseUrlFor = Callable[[Mapping[str, Any], Mapping[str, Any], str], str]


@dataclass
class _Context:
    """What every operation of one build reads, and what they share."""

    document: Mapping[str, Any]
    resolver: RefResolver
    converter: SchemaConverter
    # (location, lower-case name) of parameters the runtime fills itself.
    hidden: dict[tuple[str, str], str | None]
    # Equal arguments are one object: specs repeat `account_id` on hundreds
    # of operations, and a frozen dataclass is slow to build.
    arguments: dict[tuple[Any, ...], Argument] = field(default_factory=dict)
    _requirements: tuple[tuple[str, ...], ...] | None = None

    def document_requirements(self) -> tuple[tuple[str, ...], ...]:
        """The document-wide `security`, parsed once."""
        if self._requirements is None:
            self._requirements = parse_requirements(
                self.document["security"],
                source=self.resolver.source,
                pointer="/security",
            )
        return self._requirements


def build_tools(
    document: Mapping[str, Any],
    *,
    resolver: RefResolver,
    dialect: str,
    integration: str,
    spec_version: str,
    schemes: Mapping[str, Mapping[str, Any]],
    bindings: Mapping[str, Binding],
    fallback: tuple[Binding, ...],
    base_url_for: BaseUrlFor,
    selection: OperationFilter | None = None,
) -> tuple[list[Tool], BuildReport]:
    """Every operation of `document` -> a tool, plus the report of what happened.

    An operation that cannot be turned into a tool is skipped and reported;
    problems with the document as a whole raise `SpecError`.
    """
    source = resolver.source
    report = BuildReport(integration, source, spec_version)
    paths = document.get("paths")
    paths = {} if paths is None else paths
    if not isinstance(paths, Mapping):
        raise SpecError(
            f"`paths` must be an object mapping each path to its operations, not "
            f"{type(paths).__name__}.",
            source=source,
            pointer="/paths",
        )

    # Parameters that duplicate a credential, the spec's or the configured
    # one, are filled by the runtime and never offered to the model.
    hidden = credential_parameters(schemes)
    for binding in fallback:
        hidden.setdefault(
            (binding.location, parameter_key(binding.location, binding.name)), None
        )
    selection = selection or OperationFilter()
    context = _Context(
        document, resolver, SchemaConverter(resolver, dialect=dialect), hidden
    )
    # Whether any operation declares security (through `$ref`s and
    # capitalised methods too, as operations are read here).
    declares_security = "security" in document

    drafts: list[_Draft] = []
    # Where each draft's line goes in the report, which keeps the spec's order
    # (paths, then methods); the line is written once the tool has its name.
    slots: list[int] = []
    for path, item, method, operation, pointer in _operations(paths, resolver, report):
        if isinstance(operation, dict):
            declares_security = declares_security or "security" in operation
            reason = selection.reason_to_leave_out(method, path, operation)
            if reason is not None:
                report.operations.append(
                    OperationReport(method.upper(), path, pointer, filtered=reason)
                )
                continue

        try:
            draft = _draft_operation(operation, item, path, method, pointer, context)
        except SpecError as exc:
            logger.warning("skipping %s %s: %s", method.upper(), path, exc)
            report.operations.append(
                OperationReport(method.upper(), path, pointer, skipped=str(exc))
            )
            continue
        slots.append(len(report.operations))
        report.operations.append(OperationReport(draft.method, path, pointer))
        drafts.append(draft)

    if declares_security:
        # Once any operation declares security, one that declares none is
        # public rather than served by whatever credential is configured.
        for draft in drafts:
            if draft.requirements is None:
                draft.requirements = ()

    undeclared = sorted(
        {n for d in drafts for r in d.requirements or () for n in r} - set(schemes)
    )
    if undeclared:
        report.warnings.append(
            f"security requirements name scheme(s) {', '.join(undeclared)} that "
            "components.securitySchemes does not declare in a usable form; "
            "operations needing only them cannot be called. Fix the names (or "
            "the schemes) in the spec."
        )

    names = assign_tool_names([(d.operation_id, d.method, d.path) for d in drafts])
    # Most tools of a document share a few security requirements.
    security: dict[Any, ToolSecurity] = {}
    for draft in drafts:
        if draft.requirements not in security:
            security[draft.requirements] = tool_security(
                draft.requirements, bindings, fallback
            )
    tools = [
        _finish(draft, name, integration, security[draft.requirements], base_url_for)
        for name, draft in zip(names, drafts, strict=True)
    ]
    for slot, draft, tool in zip(slots, drafts, tools, strict=True):
        report.operations[slot] = _reported(draft, tool)
    return tools, report


def _operations(
    paths: Mapping[str, Any], resolver: RefResolver, report: BuildReport
) -> Iterator[tuple[str, Mapping[str, Any], str, Any, str]]:
    """(path, path item, method, operation, pointer) for every operation; a
    path item that cannot be resolved is reported and passed over."""
    for path, raw_item in paths.items():
        item_pointer = join_pointer("/paths", str(path))
        try:
            item, _ = resolver.deref(raw_item, item_pointer)
        except SpecError as exc:
            report.operations.append(
                OperationReport("*", str(path), item_pointer, skipped=str(exc))
            )
            continue
        item = _with_siblings(raw_item, item, item_pointer, "path item", report)
        if not isinstance(item, dict):
            raise SpecError(
                "a path item must be an object.",
                source=resolver.source,
                pointer=item_pointer,
            )

        found = False
        for method in METHODS:
            if item.get(method) is not None:
                found = True
                pointer = join_pointer(item_pointer, method)
                operation = item[method]
                if isinstance(operation, dict) and "$ref" in operation:
                    operation = _referenced_operation(
                        operation, str(path), method, pointer, resolver, report
                    )
                    if operation is None:
                        continue
                yield str(path), item, method, operation, pointer
        if len(item) > len(_PATH_ITEM_FIELDS) or not item.keys() <= _PATH_ITEM_FIELDS:
            found = (
                yield from _unusual_keys(
                    str(path), item, item_pointer, resolver, report
                )
            ) or found
        if not found:
            report.warnings.append(
                f"{item_pointer}: the path item has no operations (no get, put, "
                "post, delete, options, head, patch or trace)"
            )


# What servers read as a segment separator, and an escaped dot.
_SEPARATORS = re.compile(r"/|\\|%2[fF]|%5[cC]")
_ESCAPED_DOT = re.compile(r"%2[eE]")


def _has_dot_segment(path: str) -> bool:
    """Whether a path key holds a `.` or `..` segment as some server reads
    it: escaped (`%2e%2e`), between backslashes or escaped slashes, or with
    a `;parameter` (`..;/`, which Java servers collapse)."""
    if "." not in path and "%" not in path:
        return False
    bare = path.partition("?")[0].partition("#")[0]
    for segment in _SEPARATORS.split(bare):
        segment = _ESCAPED_DOT.sub(".", segment).partition(";")[0]
        if segment in (".", ".."):
            return True
    return False


def _referenced_operation(
    operation: dict[str, Any],
    path: str,
    method: str,
    pointer: str,
    resolver: RefResolver,
    report: BuildReport,
) -> Any:
    """The operation a `$ref` in its place points at; None when it cannot be
    followed, with the operation reported as skipped."""
    try:
        target, _ = resolver.deref(operation, pointer)
    except SpecError as exc:
        report.operations.append(
            OperationReport(method.upper(), path, pointer, skipped=str(exc))
        )
        return None
    # Not allowed by OpenAPI, but multi-file specs do it for every operation
    # (DigitalOcean's) and the meaning is clear: followed without a warning.
    return _with_siblings(operation, target, pointer, "operation", report)


def _with_siblings(
    written: Any, target: Any, pointer: str, what: str, report: BuildReport
) -> Any:
    """`target` of the `$ref` in `written`, with the fields written beside
    that `$ref` laid over it (their parameters after its own, so that they
    win), noted in the report; `target` itself when there are none."""
    if not isinstance(written, dict) or "$ref" not in written or len(written) == 1:
        return target
    if not isinstance(target, dict):
        return target
    siblings = {k: v for k, v in written.items() if k != "$ref"}
    merged = {**target, **siblings}
    # Lists add up: parameters (the written ones after, so that they win),
    # and tags (so that a filter excluding the target's tag still does).
    if isinstance(target.get("parameters"), list) and isinstance(
        siblings.get("parameters"), list
    ):
        merged["parameters"] = [*target["parameters"], *siblings["parameters"]]
    if "tags" in siblings and "tags" in target:
        # Read as the filter reads them: `tags: admin` is one tag.
        merged["tags"] = [*operation_tags(target), *operation_tags(siblings)]
    report.warnings.append(
        f"{pointer}: {', '.join(sorted(map(str, siblings)))} beside the {what}'s "
        "$ref are laid over what it refers to"
    )
    return merged


def _unusual_keys(
    path: str,
    item: Mapping[str, Any],
    item_pointer: str,
    resolver: RefResolver,
    report: BuildReport,
) -> Generator[tuple[str, Mapping[str, Any], str, Any, str], None, bool]:
    """Path item keys OpenAPI 3.0/3.1 do not define: a method in capitals is
    read as that method (with a warning); anything else is reported, not
    silently dropped. True when one was an operation."""
    operations = False
    for key, value in item.items():
        if key in _PATH_ITEM_FIELDS or str(key).startswith("x-"):
            continue
        pointer = join_pointer(item_pointer, str(key))
        lowered = str(key).lower()
        if lowered in METHODS and lowered not in item and isinstance(value, dict):
            report.warnings.append(
                f"{pointer}: method {key!r} is read as {lowered!r} (OpenAPI "
                "method keys are lower case)"
            )
            operations = True
            if "$ref" in value:
                value = _referenced_operation(
                    value, path, lowered, pointer, resolver, report
                )
                if value is None:
                    continue
            yield path, item, lowered, value, pointer
        elif lowered in ("query", "additionaloperations"):
            operations = True
            report.operations.append(
                OperationReport(
                    lowered.upper() if lowered == "query" else "*",
                    path,
                    pointer,
                    skipped=f"{key!r} is an OpenAPI 3.2 feature, not supported "
                    "yet; the operation was not made a tool",
                )
            )
        else:
            report.warnings.append(
                f"{pointer}: {key!r} is not a field of a path item; ignored"
            )
    return operations


def _reported(draft: _Draft, tool: Tool) -> OperationReport:
    name = tool.name
    notes = draft.notes
    if draft.operation_id and name != draft.operation_id:
        notes = (f"operationId {draft.operation_id!r} became {name!r}", *notes)
    security = tool.security
    if security.anonymous is None and security.signed_in is None:
        # Listed for no session: said here, or it would vanish unexplained.
        unserved = ", ".join(security.unserved) or "its schemes"
        notes = (
            *notes,
            f"no session can call it: no configured credential serves "
            f"{unserved}; configure one (auth= or credentials=)",
        )
    return OperationReport(
        draft.method,
        draft.path,
        draft.pointer,
        tool=name,
        renamed_arguments=draft.renamed,
        notes=notes,
    )


def _draft_operation(
    operation: Any,
    item: Mapping[str, Any],
    path: str,
    method: str,
    pointer: str,
    context: _Context,
) -> _Draft:
    resolver = context.resolver
    source = resolver.source
    if not isinstance(operation, dict):
        raise SpecError(
            "an operation must be an object.", source=source, pointer=pointer
        )

    if _has_dot_segment(path):
        # Clients and servers collapse them: `/public/../admin` is `/admin`,
        # so filters and people reading the tool would see another path.
        raise SpecError(
            f"the path {path!r} has a '.' or '..' segment, which HTTP clients "
            "and servers collapse, so calls would not go where it says. Write "
            "the path without it.",
            source=source,
            pointer=pointer,
        )

    session = context.converter.session()
    notes: list[str] = []
    # Schemes whose credential a required parameter is (`api_key` in query).
    carried: list[str] = []
    candidates = _parameters(
        item, operation, pointer, resolver, session, context.hidden, notes, carried
    )
    _check_path_template(path, candidates, notes)
    body, body_candidates = _request_body(operation, pointer, resolver, session, notes)
    arguments, properties, required, renamed = _settle_names(
        candidates + body_candidates, body, context.arguments
    )
    if body is not None and not body.flattened:
        body = replace(body, argument=arguments[-1].name)

    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    schema = session.finish(schema)
    notes.extend(session.notes)
    if body is not None and _essence(body.media_type).startswith("multipart/"):
        body = replace(body, file_types=_file_types(body, arguments, schema))

    requirements = None
    if "security" in operation:
        requirements = parse_requirements(
            operation["security"],
            source=source,
            pointer=join_pointer(pointer, "security"),
        )
    elif "security" in context.document:
        requirements = context.document_requirements()
    if requirements is not None or carried:
        # With no security anywhere a required key parameter still names its
        # scheme: the key goes where that scheme says, not where a default
        # credential would put it.
        requirements = _with_carried(requirements or (), carried, notes)

    raw_id = operation.get("operationId")
    operation_id = spec_operation_id(raw_id)
    if operation_id is None and raw_id not in (None, ""):
        notes.append(
            f"operationId is {type(raw_id).__name__}, not a string; the "
            "tool is named after its method and path"
        )
    notes.extend(_list_field_notes(operation, item))
    return _Draft(
        operation_id=operation_id,
        method=method.upper(),
        path=path,
        pointer=pointer,
        description=_description(operation, method, path),
        input_schema=schema,
        arguments=tuple(arguments),
        body=body,
        requirements=requirements,
        operation=operation,
        path_item=item,
        renamed=tuple(renamed),
        notes=tuple(notes),
    )


def _list_field_notes(
    operation: Mapping[str, Any], item: Mapping[str, Any]
) -> list[str]:
    """How list-valued fields written as something else are read (`parameters`
    and `security` of the wrong kind are errors, raised where they are read)."""
    notes = []
    tags = operation.get("tags")
    if isinstance(tags, str):
        notes.append(f"tags is a string, not a list; read as the one tag {tags!r}")
    elif tags is not None and not isinstance(tags, list):
        notes.append(f"tags is {type(tags).__name__}, not a list; ignored")
    elif isinstance(tags, list) and len(operation_tags(operation)) < len(tags):
        notes.append("tags that are not strings (lists, objects) are ignored")
    for owner, where in ((operation, "the operation's"), (item, "the path item's")):
        servers = owner.get("servers")
        if isinstance(servers, dict) and "url" in servers:
            notes.append(f"{where} servers is one server, not a list; read as such")
        elif servers is not None and not isinstance(servers, list):
            notes.append(
                f"{where} servers is {type(servers).__name__}, not a list of "
                "server objects; ignored"
            )
    return notes


def _with_carried(
    requirements: tuple[tuple[str, ...], ...], carried: list[str], notes: list[str]
) -> tuple[tuple[str, ...], ...]:
    """`requirements` with the schemes of required credential parameters in
    every alternative: an operation that says it is public (`security: []`)
    but requires the `api_key` parameter needs that key all the same."""
    for scheme in dict.fromkeys(carried):
        if requirements and all(scheme in alternative for alternative in requirements):
            continue
        notes.append(
            f"a required parameter is the credential of security scheme "
            f"{scheme!r}, which the operation's security does not list; the "
            "operation is read as needing it"
        )
        requirements = tuple(
            dict.fromkeys(
                alternative if scheme in alternative else (*alternative, scheme)
                for alternative in requirements or ((),)
            )
        )
    return requirements


def _description(operation: Mapping[str, Any], method: str, path: str) -> str:
    parts = []
    for key in ("summary", "description"):
        text = operation.get(key)
        if isinstance(text, str) and text.strip() and text.strip() not in parts:
            parts.append(text.strip())
    if operation.get("deprecated"):
        parts.append("Deprecated: prefer another operation where one exists.")
    return "\n\n".join(parts) or f"{method.upper()} {path}"


def _parameters(
    item: Mapping[str, Any],
    operation: Mapping[str, Any],
    pointer: str,
    resolver: RefResolver,
    session: SchemaSession,
    hidden: Mapping[tuple[str, str], str | None],
    notes: list[str],
    carried: list[str],
) -> list[_Candidate]:
    """Path-item and operation parameters (the operation's win), converted.
    The schemes of required parameters that are credentials go to `carried`."""
    source = resolver.source
    item_pointer = pointer.rsplit("/", 1)[0]
    merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    for owner, owner_pointer in ((item, item_pointer), (operation, pointer)):
        # The operation's parameters replace the path item's silently (that
        # is OpenAPI's rule); two of one list with the same name are noted.
        seen_here: set[tuple[str, str]] = set()
        raw = owner.get("parameters") or []
        if not isinstance(raw, list):
            raise SpecError(
                "`parameters` must be a list.",
                source=source,
                pointer=join_pointer(owner_pointer, "parameters"),
            )
        for index, entry in enumerate(raw):
            at = f"{owner_pointer}/parameters/{index}"
            param, param_pointer = resolver.deref(entry, at)
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                raise SpecError(
                    "a parameter must be an object with a string `name`.",
                    source=source,
                    pointer=param_pointer,
                )
            where = param.get("in")
            if where not in _LOCATIONS:
                raise SpecError(
                    f"parameter {param['name']!r} has in: {where!r}; expected one of "
                    f"{', '.join(_LOCATIONS)}.",
                    source=source,
                    pointer=param_pointer,
                )
            # Header names are case-insensitive: `X-Id` and `x-id` are one.
            key = param["name"].lower() if where == "header" else param["name"]
            if (where, key) in seen_here:
                earlier = merged[(where, key)][1]
                notes.append(
                    f"{where} parameter {param['name']!r} is declared twice "
                    f"({earlier} and {param_pointer}); the later one is used"
                )
            seen_here.add((where, key))
            if "schema" in param and "content" in param:
                notes.append(
                    f"{where} parameter {param['name']!r} has both `schema` and "
                    "`content`, which OpenAPI forbids; `schema` is used"
                )
            merged[(where, key)] = (param, param_pointer)

    candidates = []
    for (where, _), (param, param_pointer) in merged.items():
        name = param["name"]
        if where == "header" and name.lower() in _RESERVED_HEADERS:
            notes.append(
                f"header parameter {name!r} is set by the runtime, not the model"
            )
            continue
        if (where, parameter_key(where, name)) in hidden:
            scheme = hidden[(where, parameter_key(where, name))]
            if scheme is not None and spec_flag(param.get("required")):
                carried.append(scheme)
            notes.append(
                f"{where} parameter {name!r} carries a credential; it is never "
                "offered to the model, and the runtime fills it when the "
                "operation's security uses it"
            )
            continue
        if not _sendable_name(where, name):
            if where == "path" or spec_flag(param.get("required")):
                raise SpecError(
                    f"the required {where} parameter {name!r} has a name that "
                    f"cannot be sent in a {where} (HTTP allows letters, digits "
                    "and !#$%&'*+.^_`|~- there), so the operation cannot be "
                    "called. Fix the parameter's name.",
                    source=source,
                    pointer=param_pointer,
                )
            notes.append(
                f"{where} parameter {name!r} is left out: its name cannot be sent "
                f"in a {where}"
            )
            continue
        candidates.append(_parameter_candidate(param, param_pointer, where, session))
    return candidates


def _sendable_name(where: str, name: str) -> bool:
    if where in ("header", "cookie"):
        return is_field_name(name)
    return name != ""


def _parameter_candidate(
    param: dict[str, Any], pointer: str, where: str, session: SchemaSession
) -> _Candidate:
    """`_candidate`, reused for every parameter written the same way: generated
    specs repeat identical parameters (`format`, `dateRange`) on hundreds of
    operations. The key is the parameter's content serialised by `marshal`,
    which is decodable, so two parameters that differ never share a key, and
    costs a fraction of converting (values it cannot serialise, such as a
    YAML date, just go without reuse)."""
    make = partial(_candidate, param, pointer, where, param["name"], session)
    try:
        key = marshal.dumps(param)
    except ValueError:
        return make()
    return _reused(session, ("parameter", key), make)


def _candidate(
    param: Mapping[str, Any],
    pointer: str,
    where: str,
    name: str,
    session: SchemaSession,
) -> _Candidate:
    as_json = False
    if "schema" in param:
        schema = _converted(param["schema"], join_pointer(pointer, "schema"), session)
    elif isinstance(param.get("content"), dict) and param["content"]:
        media, media_object = next(iter(param["content"].items()))
        as_json = "json" in str(media)
        raw = media_object.get("schema", {}) if isinstance(media_object, dict) else {}
        schema = session.convert(raw, join_pointer(pointer, "content", media, "schema"))
    else:
        schema = {"type": "string"}

    schema = _described(schema, param.get("description"), param.get("deprecated"))
    default_style = "form" if where in ("query", "cookie") else "simple"
    style = str(param.get("style") or default_style)
    explode = param.get("explode")
    return _Candidate(
        location=where,
        wire_name=name,
        schema=schema,
        required=bool(spec_flag(param.get("required"))) or where == "path",
        style=style,
        explode=_explodes(explode, style),
        allow_reserved=bool(spec_flag(param.get("allowReserved"))),
        as_json=as_json,
    )


def _converted(raw: Any, pointer: str, session: SchemaSession) -> Any:
    """A parameter schema, converted once per `$ref` target when it is a bare
    `$ref`: big specs repeat the same few (`account_id`, `zone_id`) on
    hundreds of operations."""
    ref = raw.get("$ref") if isinstance(raw, dict) and len(raw) == 1 else None
    if not isinstance(ref, str):
        return session.convert(raw, pointer)
    return _reused(session, ("schema", ref), lambda: session.convert(raw, pointer))


def _reused(session: SchemaSession, key: Any, make: Callable[[], T]) -> T:
    """`make()`, or what it gave for `key` earlier in another tool of this
    document. Only a result that stands on its own is kept (no note, nothing
    in this tool's `$defs`), so reusing it gives exactly what making it again
    would; its size still counts toward this tool's inline budget."""
    cache = session.converter.shared
    found = cache.get(key)
    if found is not None:
        result, nodes = found
        session.reuse(nodes)
        return result

    mark = session.mark()
    result = make()
    nodes = session.self_contained_since(mark)
    if nodes is not None:
        cache[key] = (result, nodes)
    return result


def _described(
    schema: dict[str, Any] | bool, text: Any, deprecated: Any
) -> dict[str, Any]:
    """A copy of `schema` carrying the parameter's description (the converted
    fragment may be shared, so it is never modified in place)."""
    result: dict[str, Any] = {} if isinstance(schema, bool) else dict(schema)
    if schema is False:
        result = {"not": {}}
    if isinstance(text, str) and text.strip() and "description" not in result:
        result["description"] = text.strip()
    if deprecated:
        result["deprecated"] = True
    return result


def _check_path_template(
    path: str, candidates: list[_Candidate], notes: list[str]
) -> None:
    """Template variables without a declared parameter become required string
    arguments, so the URL can always be filled; declared path parameters the
    template does not name are left out (they could never be sent)."""
    template = {
        segment.split("}", 1)[0] for segment in path.split("{")[1:] if "}" in segment
    }
    for candidate in [c for c in candidates if c.location == "path"]:
        if candidate.wire_name not in template:
            notes.append(
                f"path parameter {candidate.wire_name!r} is not in the path "
                f"{path}; left out"
            )
            candidates.remove(candidate)
    declared = {c.wire_name for c in candidates if c.location == "path"}
    if path.count("{") != path.count("}") or any(
        "}" not in segment for segment in path.split("{")[1:]
    ):
        notes.append(
            f"the path {path} has a brace without its pair; the unpaired part is "
            "sent as written"
        )
    for name in template:
        if name and name not in declared:
            notes.append(f"path variable {{{name}}} is not declared; taken as a string")
            candidates.append(
                _Candidate("path", name, {"type": "string"}, True, "simple", False)
            )
            declared.add(name)


def _essence(media_type: str) -> str:
    """`application/json` for `Application/JSON; charset=utf-8`."""
    return media_type.split(";")[0].strip().lower()


def _pick_media_type(content: Mapping[str, Any]) -> str:
    """The body's media type: JSON when offered (in any spelling), then form,
    multipart and text; a wildcard means we choose, so JSON."""
    by_essence = {_essence(kind): kind for kind in content}
    if "application/json" in by_essence:
        return by_essence["application/json"]
    for essence, kind in by_essence.items():
        if essence.endswith("+json"):
            return kind
    for wanted in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
    ):
        if wanted in by_essence:
            return by_essence[wanted]
    for essence, kind in by_essence.items():
        if "*" in essence:
            return kind
    return next(iter(content))


def _request_body(
    operation: Mapping[str, Any],
    pointer: str,
    resolver: RefResolver,
    session: SchemaSession,
    notes: list[str],
) -> tuple[Body | None, list[_Candidate]]:
    if "requestBody" not in operation:
        return None, []
    at = join_pointer(pointer, "requestBody")
    body, body_pointer = resolver.deref(operation["requestBody"], at)
    if not isinstance(body, dict):
        raise SpecError(
            "requestBody must be an object.", source=resolver.source, pointer=at
        )
    content = body.get("content")
    content_pointer = join_pointer(body_pointer, "content")
    if isinstance(content, dict) and "$ref" in content:
        # OpenAPI allows no $ref here, but what it means is clear; read as a
        # media type called "$ref", the body would lose its schema unnoticed.
        content = _followed(content, content_pointer, resolver, notes)
        body = {**body, "content": content}
    if not isinstance(content, dict) or not content:
        notes.append("requestBody declares no content; no body is sent")
        return None, []

    declared = _pick_media_type(content)
    media = content[declared]
    if isinstance(media, dict) and "$ref" in media:
        media_pointer = join_pointer(content_pointer, declared)
        media = _followed(media, media_pointer, resolver, notes)
        body = {**body, "content": {**content, declared: media}}
    if isinstance(media, dict) and not isinstance(media.get("encoding", {}), dict):
        where = join_pointer(body_pointer, "content", declared, "encoding")
        notes.append(f"{where} is not an object; ignored")
    make = partial(_body_arguments, body, declared, body_pointer, session)
    # Generated specs repeat the same body on many operations: reuse it as
    # parameters are (see `_parameter_candidate`).
    try:
        key = marshal.dumps(body)
    except ValueError:
        found = make()
    else:
        found = _reused(session, ("body", declared, key), make)
    if found[2]:
        notes.append(found[2])
    return found[0], list(found[1])


def _followed(
    written: dict[str, Any], pointer: str, resolver: RefResolver, notes: list[str]
) -> Any:
    """What a `$ref` OpenAPI does not allow at `pointer` refers to, with the
    fields written beside it (an `encoding`, another media type) laid over."""
    target, _ = resolver.deref(written, pointer)
    if isinstance(target, dict) and len(written) > 1:
        target = {**target, **{k: v for k, v in written.items() if k != "$ref"}}
    notes.append(f"{pointer} is a $ref, which OpenAPI does not allow; followed")
    return target


def _body_arguments(
    body: dict[str, Any], declared: str, pointer: str, session: SchemaSession
) -> tuple[Body, tuple[_Candidate, ...], str]:
    """The body's media type `declared`, as a `Body` and its arguments."""
    media = body["content"][declared]
    raw = media.get("schema", {}) if isinstance(media, dict) else {}
    schema = session.convert(raw, join_pointer(pointer, "content", declared, "schema"))
    # `*/*` or `application/*`: the API takes anything, so it gets JSON.
    media_type = "application/json" if "*" in _essence(declared) else declared
    essence = _essence(media_type)
    required = bool(spec_flag(body.get("required")))
    structured = essence.startswith(("application/x-www-form-urlencoded", "multipart/"))
    structured = structured or "json" in essence

    # An optional body whose schema requires properties stays whole: spread
    # into arguments, "all or none" could not be said, and a call giving
    # only some of them would send a body the API must refuse.
    spread = required or not (isinstance(schema, dict) and schema.get("required"))
    if structured and spread and _is_plain_object(schema):
        assert isinstance(schema, dict)
        needed = set(schema.get("required") or []) if required else set()
        multipart = essence.startswith("multipart/")
        candidates = tuple(
            _Candidate(
                "body",
                str(name),
                _file_field(prop) if multipart else prop,
                str(name) in needed,
            )
            for name, prop in (schema.get("properties") or {}).items()
        )
        encoding = _field_encoding(media)
        part_types = _part_types(media) if multipart else {}
        body_info = Body(media_type, True, None, required, encoding, part_types)
        return body_info, candidates, ""

    note = ""
    if structured and "json" not in essence:
        schema, note = _form_body_schema(schema, media_type)
    elif not structured and not _is_text_schema(schema):
        # The runtime cannot write XML (or any other format) from a JSON
        # value, so the model writes the body's text itself.
        if schema not in ({}, True):
            note = (
                f"the request body is {media_type}, which the runtime cannot "
                "write from its schema; the model gives the body as text"
            )
        schema = {"type": "string"}
    whole = _described(
        schema, body.get("description") or f"The request body ({media_type}).", None
    )
    # A form kept whole is encoded field by field, exactly as one spread into
    # arguments: the same `encoding`, the same file parts.
    form = structured and "json" not in essence
    encoding = _field_encoding(media) if form else {}
    part_types = _part_types(media) if essence.startswith("multipart/") else {}
    return (
        Body(media_type, False, None, required, encoding, part_types),
        (_Candidate("body", "body", whole, required),),
        note,
    )


def _form_body_schema(schema: Any, media_type: str) -> tuple[Any, str]:
    """The schema of a form or multipart body kept whole, and a note when it
    had to change. Such a body is a set of named fields, so it is taken as an
    object; a string schema stays text only for a urlencoded form (`a=1&b=2`
    is that body as written), since a multipart body's boundary must match
    its Content-Type, which only the runtime writes. Multipart file fields
    say they take file content."""
    essence = _essence(media_type)
    if schema in ({}, True):
        return {"type": "object"}, ""
    if essence == "application/x-www-form-urlencoded" and _is_text_schema(schema):
        return schema, ""
    if not _holds_fields(schema):
        kind = schema.get("type") if isinstance(schema, dict) else schema
        return {"type": "object"}, (
            f"the request body is {media_type}, a set of named fields, but its "
            f"schema is {kind!r}, not an object; the model gives the fields as "
            "an object"
        )
    properties = schema.get("properties")
    if essence.startswith("multipart/") and isinstance(properties, dict):
        schema = dict(schema)
        schema["properties"] = {k: _file_field(v) for k, v in properties.items()}
    return schema, ""


def _holds_fields(schema: Any) -> bool:
    """Whether a schema's values may be objects: no `type`, or one that
    includes object."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type", "object")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _file_types(
    body: Body, arguments: Sequence[Argument], schema: dict[str, Any]
) -> dict[str, str]:
    """Each multipart field that goes as a file part (or whose items do) ->
    the part's Content-Type, read from the finished input schema, whose
    `$defs` the field schemas may refer to."""
    defs = schema.get("$defs") or {}
    properties = schema["properties"]
    if body.flattened:
        fields = {
            a.wire_name: properties[a.name] for a in arguments if a.location == "body"
        }
    else:
        fields = _declared_fields(_local(properties[body.argument], defs), defs)
    types = {}
    for name, field_schema in fields.items():
        field_schema = _local(field_schema, defs)
        if isinstance(field_schema, dict) and "items" in field_schema:
            field_schema = _local(field_schema["items"], defs)
        content_type = file_part_type(field_schema)
        if content_type is not None:
            types[name] = content_type
    return types


def _declared_fields(
    schema: Any, defs: Mapping[str, Any], depth: int = 0
) -> dict[str, Any]:
    """The properties a whole body's schema declares, its `allOf`, `anyOf`
    and `oneOf` parts' included (the first declaration of a name wins; a few
    levels of parts are read, as a recursive `$defs` entry could go on)."""
    if not isinstance(schema, dict) or depth > 8:
        return {}
    fields = dict(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or ():
            found = _declared_fields(_local(part, defs), defs, depth + 1)
            for name, sub in found.items():
                fields.setdefault(name, sub)
    return fields


def _local(schema: Any, defs: Mapping[str, Any]) -> Any:
    """`schema`, or the definition its `$ref` into the tool's `$defs` names."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return defs.get(ref.removeprefix("#/$defs/"))
    return schema


def _is_text_schema(schema: Any) -> bool:
    """A schema whose values are strings (possibly null): sent as they are."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "string" in kinds and all(k in ("string", "null") for k in kinds)


def _explodes(explode: Any, style: str) -> bool:
    """`explode` as written (`"false"` too), else OpenAPI's default for the style."""
    flag = spec_flag(explode)
    return flag if flag is not None else style == "form"


def _encoding_entries(media: Any) -> dict[Any, Any]:
    """The media type's `encoding` map; anything else is noted by the caller
    and read as none."""
    raw = media.get("encoding") if isinstance(media, dict) else None
    return raw if isinstance(raw, dict) else {}


def _field_encoding(media: Any) -> dict[str, tuple[str, bool]]:
    encoding = {}
    for name, entry in _encoding_entries(media).items():
        if isinstance(entry, dict):
            style = str(entry.get("style") or "form")
            explode = entry.get("explode")
            encoding[str(name)] = (
                style,
                _explodes(explode, style),
            )
    return encoding


def _part_types(media: Any) -> dict[str, str]:
    """Each multipart field's Content-Type from `encoding.<field>.contentType`;
    of a list (`image/png, image/jpeg`) the first usable one."""
    types = {}
    for name, entry in _encoding_entries(media).items():
        declared = entry.get("contentType") if isinstance(entry, dict) else None
        if not isinstance(declared, str):
            continue
        usable = [m.strip() for m in declared.split(",") if _one_media_type(m.strip())]
        if usable:
            types[str(name)] = usable[0]
    return types


def _file_field(schema: Any) -> Any:
    """Multipart file fields, and arrays of them, take each file's content as
    text, which is what a model can produce; the description says so."""
    if file_part_type(schema) is not None:
        note = "File content, as text (sent as a file part named after the field)."
    elif isinstance(schema, dict) and file_part_type(schema.get("items")) is not None:
        note = (
            "One item per file, each the file's content as text (each sent as "
            "a file part named after the field)."
        )
    else:
        return schema
    described = dict(schema)
    described["description"] = (schema.get("description", "") + " " + note).strip()
    return described


def file_part_type(schema: Any) -> str | None:
    """The content type a multipart field's value goes with as a file part,
    or None when it is no file: `format: binary` (3.0) and `contentMediaType`
    (3.1) mark file content, while `format: byte` and `contentEncoding` mean
    encoded text (base64), which goes as a plain text part."""
    if not isinstance(schema, dict) or schema.get("format") == "byte":
        return None
    if "contentEncoding" in schema:
        return None
    media = schema.get("contentMediaType")
    if isinstance(media, str) and media:
        return media if _one_media_type(media) else "application/octet-stream"
    return "application/octet-stream" if schema.get("format") == "binary" else None


def _one_media_type(media: str) -> bool:
    """A media type that can be a part's Content-Type as written: not a range
    (`image/*`) or list, and nothing that could break the part's headers."""
    return (
        "/" in media
        and media.isascii()
        and media.isprintable()
        and not any(c in media for c in "*,")
    )


_WHOLE_OBJECT_KEYWORDS = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "patternProperties",
    "dependentRequired",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
)


def _is_plain_object(schema: Any) -> bool:
    """An object body whose properties can be spread into the arguments."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return False
    # Keywords about the object as a whole would be lost once its properties
    # are spread into the arguments: such a body stays one argument.
    if any(k in schema for k in _WHOLE_OBJECT_KEYWORDS):
        return False
    extra = schema.get("additionalProperties", False)
    if extra is True or (isinstance(extra, dict) and extra):
        return False
    kind = schema.get("type", "object")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _settle_names(
    candidates: list[_Candidate],
    body: Body | None,
    interned: dict[tuple[Any, ...], Argument],
) -> tuple[list[Argument], dict[str, Any], list[str], list[tuple[str, str]]]:
    """Give every candidate a unique, provider-safe argument name."""
    by_name: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_name.setdefault(clean_argument_name(candidate.wire_name), []).append(
            candidate
        )

    arguments: list[Argument] = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    renamed: list[tuple[str, str]] = []
    # Plain names are settled first, so a suffixed name can never take one
    # (a query parameter may itself be called `id__path`).
    taken = set(by_name)
    for plain, group in by_name.items():
        if len(group) > 1:
            group.sort(key=_priority)
        for rank, candidate in enumerate(group):
            name = plain
            if rank > 0:
                name = _suffixed(plain, f"__{candidate.location}")
                count = 1
                while name in taken:
                    count += 1
                    name = _suffixed(plain, f"__{candidate.location}_{count}")
                taken.add(name)
            if name != candidate.wire_name:
                renamed.append((f"{candidate.location} {candidate.wire_name!r}", name))
            fields = (
                name,
                candidate.location,
                candidate.wire_name,
                candidate.required,
                candidate.style,
                candidate.explode,
                candidate.allow_reserved,
                candidate.as_json,
            )
            argument = interned.get(fields)
            if argument is None:
                argument = interned[fields] = Argument(*fields)
            arguments.append(argument)
            properties[name] = candidate.schema
            if candidate.required:
                required.append(name)

    # The whole-body argument, when there is one, goes last so callers can
    # find it; its name is whatever it was settled to.
    if body is not None and not body.flattened:
        whole = [a for a in arguments if a.location == "body"]
        arguments = [a for a in arguments if a.location != "body"] + whole
    return arguments, properties, required, renamed


def _suffixed(plain: str, suffix: str) -> str:
    """`plain` + `suffix`, still within provider limits: a long name is cut and
    marked with a hash of itself, so different long names stay different."""
    if len(plain) + len(suffix) <= MAX_NAME:
        return plain + suffix
    keep = MAX_NAME - len(suffix) - 7
    return f"{plain[:keep]}_{operation_hash('arg', plain)}{suffix}"


def _priority(candidate: _Candidate) -> int:
    return _PRIORITY[candidate.location]


def _finish(
    draft: _Draft,
    name: str,
    integration: str,
    security: ToolSecurity,
    base_url_for: BaseUrlFor,
) -> Tool:
    base_url, error = None, None
    try:
        base_url = base_url_for(draft.operation, draft.path_item, draft.pointer)
    except ConfigError as exc:
        error = exc

    consequential = spec_flag(draft.operation.get("x-openai-isConsequential"))
    if consequential is None and "x-openai-isConsequential" in draft.operation:
        consequential = True
    read_only = draft.method in _READ_ONLY
    return Tool(
        name=name,
        description=draft.description,
        method=draft.method,
        path=draft.path,
        input_schema=draft.input_schema,
        security=security,
        integration=integration,
        operation_id=draft.operation_id,
        tags=operation_tags(draft.operation),
        deprecated=bool(spec_flag(draft.operation.get("deprecated"))),
        read_only=read_only,
        destructive=draft.method == "DELETE",
        # An unreadable flag counts as consequential: asking once too often
        # is the safe mistake.
        consequential=consequential if consequential is not None else not read_only,
        arguments=draft.arguments,
        body=draft.body,
        base_url=base_url,
        base_url_error=error,
        origin=origin_of(base_url) if base_url else None,
        narrowing=tuple(a.name for a in draft.arguments if a.wire_name in _NARROWING),
        pointer=draft.pointer,
    )
