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

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["OperationFilter", "spec_flag"]

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


def spec_flag(value: Any) -> bool | None:
    """A boolean field of the spec (`deprecated`, `x-openai-isConsequential`):
    hand-written specs also say `"true"`/`"false"`; None when unset or unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _matches_path(path: str, patterns: Collection[str]) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in patterns)


@dataclass(frozen=True)
class OperationFilter:
    """Selects operations by operationId, tag, method and path pattern
    (`fnmatch` style: `/orders/*`, `*/admin/*`)."""

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
        # `tags="orders"` means the one tag, not the letters o, r, d, e, s.
        for name in _CRITERIA:
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, frozenset(str(v) for v in value))

    def reason_to_leave_out(
        self, method: str, path: str, operation: Mapping[str, Any]
    ) -> str | None:
        """None when the operation is kept, else why it is left out."""
        method = method.upper()
        operation_id = operation.get("operationId")
        if not isinstance(operation_id, str):
            operation_id = None  # the tool builder reports an unusable one

        if self.operation_ids and operation_id not in self.operation_ids:
            return "its operationId is not among the included ones"
        if self.tags and not self._tags(operation) & set(self.tags):
            return "none of its tags is included"
        if self.methods and method not in {m.upper() for m in self.methods}:
            return f"method {method} is not included"
        if self.paths and not _matches_path(path, self.paths):
            return "its path matches no included pattern"

        if operation_id is not None and operation_id in self.exclude_operation_ids:
            return f"operationId {operation_id!r} is excluded"
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
        raw = operation.get("tags")
        return {str(t) for t in raw} if isinstance(raw, list) else set()
