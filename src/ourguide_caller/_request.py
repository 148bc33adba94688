"""Turning a tool's arguments into the parts of an HTTP request.

Argument values come from the model, so they are treated as untrusted data:
a path parameter fills exactly one path segment (every `/`, `?`, `#` and `%`
in it is percent-encoded, and a value that would become a `.` or `..`
segment is refused), and header or cookie values cannot carry line breaks.
Parameters are serialised as the spec's `style` and `explode` say.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from ._errors import ArgumentProblem, InputValidationError
from ._tools import Argument, Tool

__all__ = ["RequestParts", "query_string", "serialize_arguments"]


def _header_safe(text: str) -> bool:
    """Printable ASCII and tabs only: no line breaks, NUL or other controls,
    and nothing httpx would fail to encode at send time."""
    return text.isascii() and all(c == "\t" or " " <= c <= "~" for c in text)


@dataclass(slots=True)
class RequestParts:
    """What `serialize_arguments` produces; credentials are added later."""

    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    # Query pairs whose values keep reserved characters (`allowReserved`).
    reserved: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None
    content: bytes | None = None
    files: list[tuple[str, tuple[str | None, bytes, str | None]]] | None = None
    has_json: bool = False


def _scalar(value: Any) -> str:
    """A value as it appears in a URL or header: JSON spelling for booleans
    and null, plain text for strings, JSON for anything nested."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode_segment(value: Any) -> str:
    return quote(_scalar(value), safe="")


def _path_value(argument: Argument, value: Any) -> str:
    """Serialise one path parameter (styles simple, label, matrix)."""
    name = argument.wire_name
    style = argument.style
    if isinstance(value, list):
        items = [_encode_segment(v) for v in value]
        if style == "label":
            return "." + ("." if argument.explode else ",").join(items)
        if style == "matrix":
            if argument.explode:
                return "".join(f";{name}={item}" for item in items)
            return f";{name}=" + ",".join(items)
        return ",".join(items)
    if isinstance(value, Mapping):
        pairs = [(quote(str(k), safe=""), _encode_segment(v)) for k, v in value.items()]
        if argument.explode:
            joined = ",".join(f"{k}={v}" for k, v in pairs)
        else:
            joined = ",".join(f"{k},{v}" for k, v in pairs)
        if style == "label":
            return "." + joined
        if style == "matrix":
            return f";{name}=" + joined if not argument.explode else ";" + joined
        return joined

    encoded = _encode_segment(value)
    if style == "label":
        return "." + encoded
    if style == "matrix":
        return f";{name}={encoded}"
    return encoded


def _query_pairs(argument: Argument, value: Any) -> list[tuple[str, str]]:
    """Serialise one query parameter into (name, value) pairs."""
    name = argument.wire_name
    if argument.as_json:
        return [(name, json.dumps(value, separators=(",", ":"), ensure_ascii=False))]

    style = argument.style
    if isinstance(value, list):
        items = [_scalar(v) for v in value]
        if argument.explode:
            return [(name, item) for item in items]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [(name, separator.join(items))]
    if isinstance(value, Mapping):
        if style == "deepObject":
            return _form_pairs(name, value)
        if argument.explode:
            return [(str(k), _scalar(v)) for k, v in value.items()]
        flat = [part for k, v in value.items() for part in (str(k), _scalar(v))]
        return [(name, ",".join(flat))]
    return [(name, _scalar(value))]


def _header_value(argument: Argument, value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_scalar(v) for v in value)
    if isinstance(value, Mapping):
        sep = "=" if argument.explode else ","
        return ",".join(f"{k}{sep}{_scalar(v)}" for k, v in value.items())
    return _scalar(value)


def _form_field(
    name: str, value: Any, style: str, explode: bool
) -> list[tuple[str, str]]:
    """One form field, as its `encoding` (style, explode) says: arrays of plain
    values repeated or joined; objects and nested values in bracket notation
    (`a[b][0]=x`), which form APIs expect."""
    if isinstance(value, list) and not any(
        isinstance(v, Mapping | list) for v in value
    ):
        if style == "deepObject":
            return _form_pairs(name, value)
        if explode and style == "form":
            return [(name, _scalar(v)) for v in value]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [(name, separator.join(_scalar(v) for v in value))]
    if isinstance(value, Mapping) and style == "form" and not explode:
        flat = [part for k, v in value.items() for part in (str(k), _scalar(v))]
        return [(name, ",".join(flat))]
    return _form_pairs(name, value)


def _form_pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    """Nested values in bracket notation: `a[b][0]=x`, as form APIs expect."""
    if isinstance(value, Mapping):
        return [
            pair for k, v in value.items() for pair in _form_pairs(f"{prefix}[{k}]", v)
        ]
    if isinstance(value, list):
        return [
            pair
            for i, v in enumerate(value)
            for pair in _form_pairs(f"{prefix}[{i}]", v)
        ]
    return [(prefix, _scalar(value))]


# Reserved characters `allowReserved` lets through unencoded; `&`, `#`, `=`
# and `%` stay encoded all the same, so a value can never add a parameter,
# end the query, or smuggle an escape.
_RESERVED_SAFE = ":/?[]@!$'()*+,;"


def query_string(parts: RequestParts) -> str:
    """The query for requests with `allowReserved` parameters, built here
    because httpx would encode the reserved characters."""
    encoded = [(quote(k, safe="[]"), quote(v, safe="")) for k, v in parts.params]
    encoded += [
        (quote(k, safe="[]"), quote(v, safe=_RESERVED_SAFE)) for k, v in parts.reserved
    ]
    return "&".join(f"{k}={v}" for k, v in encoded)


def serialize_arguments(tool: Tool, arguments: Mapping[str, Any]) -> RequestParts:
    """Place every argument where the spec says; arguments must already have
    passed the tool's schema check."""
    problems: list[ArgumentProblem] = []
    path = tool.path
    parts = RequestParts(path="")
    body: dict[str, Any] = {}
    whole_body: Any = None
    has_whole = False

    for argument in tool.arguments:
        if argument.name not in arguments:
            continue
        value = arguments[argument.name]
        where = argument.location

        if where == "path":
            encoded = _path_value(argument, value)
            if value is None or encoded == "":
                problems.append(
                    ArgumentProblem(
                        "/" + argument.name,
                        "a path value may not be empty or null: the URL would "
                        "lose a segment. Give the identifier.",
                    )
                )
            elif encoded in (".", ".."):
                problems.append(_dot_segment_problem(argument, encoded))
            path = path.replace("{" + argument.wire_name + "}", encoded)
        elif where == "query":
            if value is not None:
                pairs = _query_pairs(argument, value)
                target = parts.reserved if argument.allow_reserved else parts.params
                target.extend(pairs)
        elif where == "header":
            text = _header_value(argument, value)
            if not _header_safe(text):
                problems.append(_line_break_problem(argument))
            else:
                parts.headers[argument.wire_name] = text
        elif where == "cookie":
            text = _header_value(argument, value)
            if not _header_safe(text) or ";" in text:
                problems.append(_line_break_problem(argument))
            else:
                parts.cookies.append((argument.wire_name, text))
        elif tool.body is not None and tool.body.flattened:
            body[argument.wire_name] = value
        else:
            whole_body, has_whole = value, True

    if not problems and any(s in (".", "..") for s in path.split("/")):
        # A style prefix or two values side by side formed a dot segment.
        culprit = next(a for a in tool.arguments if a.location == "path")
        problems.append(_dot_segment_problem(culprit, "."))
    if problems:
        raise InputValidationError(tool=tool.name, problems=problems)

    parts.path = path
    if tool.body is not None and (body or has_whole or tool.body.required):
        payload = whole_body if has_whole else body
        _encode_body(parts, tool, payload)
    return parts


def _dot_segment_problem(argument: Argument, value: str) -> ArgumentProblem:
    return ArgumentProblem(
        "/" + argument.name,
        f"a path value may not be {value!r}: it would change which resource the "
        "URL names. Give the real identifier.",
    )


def _line_break_problem(argument: Argument) -> ArgumentProblem:
    return ArgumentProblem(
        "/" + argument.name,
        f"the {argument.location} value may hold only printable ASCII characters "
        "(no line breaks, control characters, or ';' in cookies). Remove them.",
    )


def _encode_body(parts: RequestParts, tool: Tool, payload: Any) -> None:
    assert tool.body is not None
    media_type = tool.body.media_type
    essence = media_type.split(";")[0].strip().lower()

    if "json" in essence:
        parts.json, parts.has_json = payload, True
        if essence != "application/json":
            parts.headers["Content-Type"] = media_type
        return

    if essence == "application/x-www-form-urlencoded" and isinstance(payload, Mapping):
        encoding = tool.body.encoding
        pairs = [
            pair
            for key, value in payload.items()
            if value is not None
            for pair in _form_field(str(key), value, *encoding.get(key, ("form", True)))
        ]
        parts.content = urlencode(pairs).encode("ascii")
        parts.headers["Content-Type"] = essence
        return

    if essence.startswith("multipart/") and isinstance(payload, Mapping):
        # Every field goes as a part; file fields take their content as text
        # (UTF-8), the others carry no filename. httpx picks the boundary.
        files: list[tuple[str, tuple[str | None, bytes, str | None]]] = []
        for key, value in payload.items():
            binary = _is_binary_field(tool, key)
            # An array is sent as one part per item, as multipart parsers expect.
            for item in value if isinstance(value, list) else [value]:
                if item is None:
                    continue
                text = item if isinstance(item, str) else _scalar(item)
                if binary:
                    part = (key, text.encode("utf-8"), "application/octet-stream")
                    files.append((key, part))
                else:
                    files.append((key, (None, text.encode("utf-8"), None)))
        parts.files = files
        return

    text = payload if isinstance(payload, str) else _scalar(payload)
    parts.content = text.encode("utf-8")
    parts.headers["Content-Type"] = media_type


def _is_binary_field(tool: Tool, wire_name: str) -> bool:
    for argument in tool.arguments:
        if argument.location == "body" and argument.wire_name == wire_name:
            schema = tool.input_schema["properties"].get(argument.name, {})
            return isinstance(schema, dict) and schema.get("format") in (
                "binary",
                "byte",
            )
    return False
