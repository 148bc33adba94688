"""JSON pointers and `$ref` resolution inside one loaded OpenAPI document.

The loader bundles every file a multi-file document refers to into the root
document, so by the time anything here runs every usable `$ref` is local
(`#/...`). A `$ref` that is still not local could not be bundled; the loader
recorded why, and resolving it raises a `SpecError` with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from ._errors import SpecError, shown_pointer

__all__ = [
    "RefResolver",
    "array_index",
    "escape_token",
    "join_pointer",
    "split_pointer",
]

# A chain of `$ref`s pointing at `$ref`s longer than this is treated as a loop.
_MAX_REF_CHAIN = 64

# RFC 6901 array indexes: ASCII digits without leading zeros. `str.isdigit`
# would also take `²` (which int() refuses) and `١` (which it reads as 1).
_INDEX = re.compile(r"0|[1-9][0-9]*")


def escape_token(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901: `~` -> `~0`, `/` -> `~1`)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """Append tokens to a JSON pointer: `join_pointer("/paths", "/a")` is
    `/paths/~1a`."""
    # Called for every node of large specs: skip the escaping when not needed.
    parts = [pointer]
    for token in tokens:
        text = str(token)
        if "~" in text or "/" in text:
            text = escape_token(text)
        parts.append(text)
    return "/".join(parts)


def array_index(token: str, length: int) -> int | None:
    """The list index a pointer token names in a list of `length` items, or
    None when it names none (not an RFC 6901 index, or past the end)."""
    # Longer than the length's digits is out of range, and never reaches
    # int(), which refuses over 4,300 digits.
    if len(token) > len(str(length)) or not _INDEX.fullmatch(token):
        return None
    index = int(token)
    return index if index < length else None


def _clipped(text: str, limit: int = 200) -> str:
    """`text` for a message; a pointer can be kilobytes long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_pointer(pointer: str) -> list[str]:
    """Split a JSON pointer into unescaped tokens; `""` and `"/"`-less input give
    the root (an empty list)."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


class RefResolver:
    """Follows local `$ref`s in `document`, reporting problems against `source`.

    `broken_refs` maps a `$ref` string that could not be bundled to the reason,
    so the error names the missing file rather than just the string. The
    document is what the loader produced: plain dicts and lists, never modified.
    """

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        source: str,
        broken_refs: Mapping[str, str] | None = None,
        anchors: Mapping[str, str] | None = None,
    ) -> None:
        self.document = document
        self.source = source
        self.broken_refs = dict(broken_refs or {})
        # `$id`/`$anchor` names (OpenAPI 3.1) mapped to the pointer they stand for.
        self.anchors = dict(anchors or {})
        # Where each local `$ref` string ends up: big documents repeat the same
        # few thousand references tens of thousands of times. The document is
        # never modified once loaded, so a resolved chain stays valid.
        self._resolved: dict[str, tuple[Any, str]] = {}
        # The `$ref` strings being followed right now: a pointer that runs
        # through a `$ref` (`#/S/properties` where S is a `$ref`) follows it
        # from inside `lookup`, and may come back to one of these.
        self._following: list[str] = []

    def lookup(self, pointer: str, *, referrer: str = "") -> Any:
        """The node at `pointer` in the document; a missing node is a `SpecError`
        reported at `referrer` (the place that pointed there)."""
        node: Any = self.document
        walked = ""
        for token in split_pointer(pointer):
            if isinstance(node, dict) and token not in node and "$ref" in node:
                # The pointer runs through a reference (`#/x/policies/a` where
                # `x` is a `$ref`); follow it, so a broken one names its file.
                node, _ = self.deref(node, walked)
            walked = join_pointer(walked, token)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif (
                isinstance(node, list)
                and (index := array_index(token, len(node))) is not None
            ):
                node = node[index]
            else:
                raise SpecError(
                    f"$ref target {_clipped(shown_pointer(pointer))} does not exist "
                    f"in the document (no {_clipped(repr(token))} there). Fix the "
                    "reference or add the target.",
                    source=self.source,
                    pointer=referrer or pointer,
                )
        return node

    def ref_pointer(self, ref: Any, *, at: str) -> str:
        """The local pointer a `$ref` value names; `at` is where the `$ref` sits."""
        if not isinstance(ref, str):
            raise SpecError(
                f"$ref must be a string, got {type(ref).__name__}.",
                source=self.source,
                pointer=at,
            )
        if ref in self.anchors:
            return self.anchors[ref]
        if not ref.strip() and ref not in self.broken_refs:
            raise SpecError(
                "$ref is empty; point it at a definition "
                "(`#/components/schemas/Name`).",
                source=self.source,
                pointer=at,
            )
        if not ref.startswith("#"):
            reason = self.broken_refs.get(ref)
            if reason is None:
                reason = (
                    f"$ref {ref!r} points outside this document and was not "
                    "loaded; only references within the document (or to files "
                    "beside it, when it is loaded from a file) are followed"
                )
            raise SpecError(reason.rstrip(".") + ".", source=self.source, pointer=at)
        fragment = ref[1:]
        if "%" in fragment:
            fragment = unquote(fragment)
        if fragment and not fragment.startswith("/"):
            raise SpecError(
                f"$ref {ref!r} uses a plain-name fragment that no $anchor in the "
                "document defines.",
                source=self.source,
                pointer=at,
            )
        return fragment

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow `node`'s `$ref` chain; return the final node and its pointer.

        A node without `$ref` is returned as it is. Loops of references that
        only point at each other are a `SpecError`.
        """
        if not isinstance(node, dict) or "$ref" not in node:
            return node, pointer
        ref = node["$ref"]
        found = self._resolved.get(ref) if isinstance(ref, str) else None
        if found is None:
            self._enter(ref, pointer)
            try:
                found = self._follow(node, pointer)
            finally:
                self._following.pop()
            if isinstance(ref, str):
                self._resolved[ref] = found
        return found

    def _enter(self, ref: Any, pointer: str) -> None:
        """Note that `ref` (at `pointer`) is being followed; refuse it if it
        already is, or if too many are: either way it would recurse forever."""
        key = ref if isinstance(ref, str) else repr(ref)
        if key in self._following:
            between = self._following[self._following.index(key) + 1 :]
            through = f" through {', '.join(between)}" if between else ""
            problem = (
                f"following {key}{through} leads back to it (a pointer runs "
                "through the $ref being followed)"
            )
        elif len(self._following) >= _MAX_REF_CHAIN:
            problem = (
                f"{key} is reached through over {_MAX_REF_CHAIN} $refs that each "
                "run through the next"
            )
        else:
            self._following.append(key)
            return
        raise SpecError(
            f"$ref loop: {problem}, so it never reaches a definition. Point the "
            "$ref at the definition itself, not at a place inside another $ref.",
            source=self.source,
            pointer=pointer + "/$ref",
        )

    def _follow(self, node: Any, pointer: str) -> tuple[Any, str]:
        seen: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            referrer = pointer + "/$ref"
            if isinstance(ref, str) and ref.startswith("#/") and "%" not in ref:
                target = ref[1:]  # the common case, without building messages
            else:
                target = self.ref_pointer(ref, at=referrer)
            if target in seen or len(seen) >= _MAX_REF_CHAIN:
                raise SpecError(
                    "$ref chain loops without reaching a definition: "
                    + " -> ".join("#" + p for p in [*seen, target])
                    + ". Point one of them at a real object.",
                    source=self.source,
                    pointer=pointer,
                )
            seen.append(target)
            node = self.lookup(target, referrer=referrer)
            pointer = target
        return node, pointer
