"""Which operations of a spec become tools.

A vendor spec often has hundreds of operations while an agent needs a dozen;
fewer tools means cheaper prompts and better tool choice. An operation is
kept when it matches every kind of `include` criterion given (any value
within a kind) and no `exclude` criterion. Deprecated operations are left
out unless `include_deprecated` is set. Left-out operations are listed in
the build report with the reason.

    OperationFilter(tags={"orders"}, methods={"GET"}, exclude_paths={"/admin/*"})
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from ._naming import spec_operation_id, tool_names_of

__all__ = ["OperationFilter", "operation_tags", "spec_flag"]

_CRITERIA = (
    "operation_ids",
    "tags",
    "methods",
    "paths",
    "exclude_operation_ids",
    "exclude_tags",
    "exclude_methods",
    "exclude_paths",
)


_SAID_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_SAID_FALSE = frozenset({"false", "no", "n", "off", "0"})


def spec_flag(value: Any) -> bool | None:
    """A boolean field of the spec (`deprecated`, `required`, `explode`):
    hand-written specs also say `"true"`, `"yes"` or `1` (YAML 1.2 leaves
    `yes` a string); None when unset or unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        said = value.strip().lower()
        if said in _SAID_TRUE or said in _SAID_FALSE:
            return said in _SAID_TRUE
    return None


def operation_tags(operation: Mapping[str, Any]) -> tuple[str, ...]:
    """An operation's tags as the filter and the tools read them. A single
    string is one tag (`tags: admin`), never its letters: split, it would let
    `exclude_tags="admin"` keep the operation. Items that are not scalars name
    no tag. The tool builder notes both readings."""
    raw = operation.get("tags")
    if isinstance(raw, str):
        return (raw,)
    if not isinstance(raw, list):
        return ()
    return tuple(str(t) for t in raw if isinstance(t, str | int | float | bool))


def _matches_path(path: str, patterns: Collection[str]) -> bool:
    """True when a pattern matches the path, read either way where a reading
    is unclear, so that an exclusion never fails open: the path as written or
    as a request carries it (see `_as_sent`), `[...]` in a pattern as a
    character class or as the brackets themselves (`/files/[key]/*`)."""
    paths = {path, *_as_sent(path)}
    for pattern in patterns:
        literal = re.sub(r"[\[\]]", lambda m: f"[{m.group(0)}]", pattern)
        for candidate in paths:
            if candidate == pattern or any(
                fnmatchcase(candidate, p) for p in (pattern, literal)
            ):
                return True
    return False


# Characters a server reads the same percent-encoded or not (RFC 3986).
_UNRESERVED_ESCAPE = re.compile(
    r"%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])"
)


def _as_sent(path: str) -> set[str]:
    """The path as a request sends it, the way a server reads it: without a
    literal query or fragment (`/admin?action=delete`), with its leading slash,
    repeated slashes as one, unreserved characters decoded (`/%61dmin`), with
    and without a trailing slash."""
    bare = path.partition("#")[0].partition("?")[0]
    bare = "/" + re.sub("/{2,}", "/", bare).lstrip("/")
    bare = _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), bare)
    # Some servers decode an escaped slash before routing (`/admin%2Fusers`).
    slashed = re.sub("%2[fF]", "/", bare)
    return {bare, bare.rstrip("/") or "/", slashed, slashed.rstrip("/") or "/"}


@dataclass(frozen=True)
class OperationFilter:
    """Selects operations by operationId, tag, method and path pattern
    (`fnmatch` style: `/orders/*`, `*/admin/*`; a pattern also matches the
    path it spells exactly). An operation is known by its operationId as
    written (`123` for `operationId: 123`) and by its tool's name."""

    operation_ids: Collection[str] = ()
    tags: Collection[str] = ()
    methods: Collection[str] = ()
    paths: Collection[str] = ()
    exclude_operation_ids: Collection[str] = ()
    exclude_tags: Collection[str] = ()
    exclude_methods: Collection[str] = ()
    exclude_paths: Collection[str] = ()
    include_deprecated: bool = False

    def __post_init__(self) -> None:
        # `tags="orders"` means the one tag, not the letters o, r, d, e, s;
        # `operation_ids=123` the one id.
        for name in _CRITERIA:
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                value = (value,)
            object.__setattr__(self, name, frozenset(str(v) for v in value))

    def reason_to_leave_out(
        self, method: str, path: str, operation: Mapping[str, Any]
    ) -> str | None:
        """None when the operation is kept, else why it is left out."""
        method = method.upper()
        names: set[str] = set()
        if self.operation_ids or self.exclude_operation_ids:
            operation_id = spec_operation_id(operation.get("operationId"))
            names = tool_names_of(operation_id, method, path)

        if self.operation_ids and not names & set(self.operation_ids):
            return "neither its operationId nor its tool name is included"
        if self.tags and not self._tags(operation) & set(self.tags):
            return "none of its tags is included"
        if self.methods and method not in {m.upper() for m in self.methods}:
            return f"method {method} is not included"
        if self.paths and not _matches_path(path, self.paths):
            return "its path matches no included pattern"

        excluded = sorted(names & set(self.exclude_operation_ids))
        if excluded:
            return f"operationId or tool name {excluded[0]!r} is excluded"
        if self.exclude_tags:
            excluded_tags = sorted(self._tags(operation) & set(self.exclude_tags))
            if excluded_tags:
                return f"tag {excluded_tags[0]!r} is excluded"
        if self.exclude_methods and method in {m.upper() for m in self.exclude_methods}:
            return f"method {method} is excluded"
        if self.exclude_paths and _matches_path(path, self.exclude_paths):
            return "its path matches an excluded pattern"
        if spec_flag(operation.get("deprecated")) and not self.include_deprecated:
            return "it is deprecated (set include_deprecated to keep it)"
        return None

    @staticmethod
    def _tags(operation: Mapping[str, Any]) -> set[str]:
        return set(operation_tags(operation))
