"""Tool and argument names that every LLM provider accepts.

Tool names must match `^[a-zA-Z0-9_-]{1,64}$` and be unique within an
integration. A name comes from the `operationId`, else from the method and
path. When a name is too long, or several operations would get the same one,
the clash is settled by a short hash of the operation's method and path: the
suffix of an operation never changes when other operations are added or
reordered, unlike a counter.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "MAX_NAME",
    "assign_tool_names",
    "clean_argument_name",
    "operation_hash",
    "spec_operation_id",
    "tool_names_of",
]

MAX_NAME = 64
_HASH_LEN = 6
_INVALID_TOOL = re.compile(r"[^A-Za-z0-9_-]+")
_INVALID_ARG = re.compile(r"[^A-Za-z0-9_.-]+")


def operation_hash(method: str, path: str) -> str:
    """Six hex digits that identify an operation by method and path."""
    digest = hashlib.sha256(f"{method.upper()} {path}".encode()).hexdigest()
    return digest[:_HASH_LEN]


def spec_operation_id(raw: object) -> str | None:
    """The operationId as the tools show it: a string, or a number written as
    one (`123` -> "123"); anything else (a list, a map) names nothing."""
    if isinstance(raw, str | int) and not isinstance(raw, bool) and raw != "":
        return str(raw)
    return None


def tool_names_of(operation_id: str | None, method: str, path: str) -> set[str]:
    """Every name a user may know an operation by before tools are named: its
    operationId, its tool name, and that name with its hash suffix (which it
    carries when another operation wants the same name)."""
    name = base_name(operation_id, method, path)
    names = {name, _with_suffix(name, method, path)}
    if operation_id is not None:
        names.add(operation_id)
    return names


def _clean(text: str) -> str:
    return _INVALID_TOOL.sub("_", text).strip("_") or "operation"


def base_name(operation_id: str | None, method: str, path: str) -> str:
    """The name before uniqueness: the operationId, or `get_users_userId`."""
    if operation_id:
        # Letters with accents keep their base letter (`créer` -> `creer`);
        # an id with nothing usable left falls back to method and path.
        ascii_id = unicodedata.normalize("NFKD", operation_id)
        ascii_id = ascii_id.encode("ascii", "ignore").decode()
        if _INVALID_TOOL.sub("", ascii_id):
            return _clean(ascii_id)
    segments = [s.strip("{}") for s in path.split("/") if s]
    return _clean("_".join([method.lower(), *segments]))


def _with_suffix(name: str, method: str, path: str) -> str:
    suffix = "_" + operation_hash(method, path)
    return name[: MAX_NAME - len(suffix)].rstrip("_") + suffix


def assign_tool_names(
    operations: Sequence[tuple[str | None, str, str]],
) -> list[str]:
    """Names for `(operation_id, method, path)` triples, in the same order.

    A valid, unique name is kept as it is; a name that is too long or shared
    by several operations gets `_<hash of method and path>` (cut to fit).
    """
    wanted = [base_name(op_id, method, path) for op_id, method, path in operations]
    holders: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(wanted):
        holders[name].append(index)

    names = []
    for index, (_, method, path) in enumerate(operations):
        name = wanted[index]
        rivals = holders[name]
        # A name the spec chose (an operationId) wins over one derived from
        # method and path, so adding an operation never renames another
        # that has an operationId.
        chosen = [i for i in rivals if operations[i][0]]
        keeps = len(rivals) == 1 or (len(chosen) == 1 and chosen[0] == index)
        if len(name) > MAX_NAME or not keeps:
            name = _with_suffix(name, method, path)
        names.append(name)

    # A suffixed name could, in theory, equal another operation's plain name;
    # fall back to a longer hash for those few so every name stays unique.
    taken: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in taken:
            _, method, path = operations[index]
            digest = hashlib.sha256(f"{method.upper()} {path}".encode()).hexdigest()
            name = names[index][: MAX_NAME - 17].rstrip("_") + "_" + digest[:16]
            names[index] = name
        taken[name] = index
    return names


# Big specs repeat the same few hundred parameter names thousands of times.
@lru_cache(maxsize=4096)
def clean_argument_name(name: str) -> str:
    """An argument name providers accept (`^[a-zA-Z0-9_.-]{1,64}$`)."""
    cleaned = _INVALID_ARG.sub("_", name).strip("_") or "value"
    if len(cleaned) > MAX_NAME:
        cleaned = cleaned[: MAX_NAME - 7] + "_" + operation_hash("arg", name)
    return cleaned
