"""Turning a tool's arguments into the parts of an HTTP request.

Argument values come from the model, so they are treated as untrusted data:
a path parameter fills exactly one path segment (every `/`, `?`, `#` and `%`
in it is percent-encoded, and a value that would become a `.` or `..`
segment is refused), and header or cookie values cannot carry line breaks.
Parameters are serialised as the spec's `style` and `explode` say.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from ._errors import ArgumentProblem, InputValidationError
from ._http import header_safe
from ._servers import fixed_query
from ._tools import Argument, Tool

__all__ = [
    "RequestParts",
    "non_finite_numbers",
    "query_string",
    "serialize_arguments",
    "without_body_nulls",
    "without_refused_nulls",
]


@dataclass(slots=True)
class RequestParts:
    """What `serialize_arguments` produces; credentials are added later."""

    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    # Query pairs whose values are already percent-encoded, sent as written:
    # `allowReserved` values keep reserved characters, and joined arrays keep
    # their delimiters literal (`a,b`) while the same character in an item
    # stays encoded (`a%2Cb`). Names are still encoded by `query_string`.
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
        # json.dumps would write NaN and Infinity, which no API reads as numbers.
        return json.dumps(value, allow_nan=False)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_text(value: Any) -> str:
    """A `content: application/json` parameter's value. ASCII-only: `\\u`
    escapes keep the same JSON value and let it go in headers and cookies."""
    return json.dumps(value, separators=(",", ":"))


def _encode_segment(value: Any) -> str:
    return quote(_scalar(value), safe="")


def _path_value(argument: Argument, value: Any) -> str:
    """Serialise one path parameter (styles simple, label, matrix)."""
    if argument.as_json:
        # `content` parameters have no style: the JSON text is the segment.
        return quote(_json_text(value), safe="")
    name = argument.wire_name
    style, explode = argument.style, argument.explode
    if isinstance(value, Mapping):
        pairs = [(quote(str(k), safe=""), _encode_segment(v)) for k, v in value.items()]
        if explode:
            members = [f"{k}={v}" for k, v in pairs]
        else:
            members = [part for pair in pairs for part in pair]
    else:
        items = value if isinstance(value, list) else [value]
        members = [_encode_segment(v) for v in items]
        if style == "matrix" and explode:
            # Exploded matrix arrays repeat the name: `;color=a;color=b`.
            members = [f"{name}={m}" for m in members]

    if style == "label":
        return "." + ("." if explode else ",").join(members)
    if style == "matrix":
        if explode:
            return "".join(";" + m for m in members)
        return f";{name}=" + ",".join(members)
    return ",".join(members)


# Delimiters of joined query arrays, as sent (spaceDelimited's space is
# `%20`, so that a space inside an item, sent as `+`, stays distinct).
_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "|"}

# Reserved characters `allowReserved` lets through unencoded: those that mean
# the same to every query parser. Encoded all the same: `&` and `=` (they would
# add a parameter), `#` (it ends the query), `%` (it would smuggle an escape),
# `+` (form decoders read it as a space, so `x+y` would arrive as `x y`) and
# `;` (some servers still split parameters on it).
_RESERVED_SAFE = ":/?[]@!$'()*,"


def _encode_item(text: str, delimiter: str, allow_reserved: bool) -> str:
    """One item of a joined query value, percent-encoded so that the
    delimiter's character inside it stays encoded and the join can be split."""
    safe = _RESERVED_SAFE if allow_reserved else ""
    if delimiter == "%20":
        return quote_plus(text, safe=safe)
    return quote(text, safe=safe.replace(delimiter, ""))


def _joined_query_value(argument: Argument, value: Any) -> str | None:
    """The encoded value of a non-exploded array or object (`color=a,b,c`,
    `color=R,100,G,200`), or None when the parameter is not joined."""
    if argument.as_json or argument.explode:
        return None
    if isinstance(value, list):
        items = [_scalar(v) for v in value]
    elif isinstance(value, Mapping) and argument.style != "deepObject":
        items = [part for k, v in value.items() for part in (str(k), _scalar(v))]
    else:
        return None
    delimiter = _DELIMITERS.get(argument.style, ",")
    return delimiter.join(
        _encode_item(item, delimiter, argument.allow_reserved) for item in items
    )


def _query_pairs(argument: Argument, value: Any) -> list[tuple[str, str]]:
    """Serialise one query parameter that is not joined into (name, value)
    pairs, not yet encoded."""
    name = argument.wire_name
    if argument.as_json:
        return [(name, json.dumps(value, separators=(",", ":"), ensure_ascii=False))]
    if isinstance(value, list):
        return [(name, _scalar(item)) for item in value]
    if isinstance(value, Mapping):
        if argument.style == "deepObject":
            return _form_pairs(name, value)
        return [(str(k), _scalar(v)) for k, v in value.items()]
    return [(name, _scalar(value))]


def _add_query(parts: RequestParts, argument: Argument, value: Any) -> None:
    """Plain pairs go to `params`, for httpx to encode; joined values and
    `allowReserved` ones need encoding of their own and go to `reserved`."""
    joined = _joined_query_value(argument, value)
    if joined is not None:
        parts.reserved.append((argument.wire_name, joined))
        return
    pairs = _query_pairs(argument, value)
    if argument.allow_reserved:
        parts.reserved.extend((k, quote(v, safe=_RESERVED_SAFE)) for k, v in pairs)
    else:
        parts.params.extend(pairs)


def _header_value(argument: Argument, value: Any) -> str:
    if argument.as_json:
        return _json_text(value)
    if isinstance(value, list):
        return ",".join(_scalar(v) for v in value)
    if isinstance(value, Mapping):
        sep = "=" if argument.explode else ","
        return ",".join(f"{k}{sep}{_scalar(v)}" for k, v in value.items())
    return _scalar(value)


def _cookie_pairs(argument: Argument, value: Any) -> list[tuple[str, str]]:
    """Serialise one cookie parameter into (cookie name, value) pairs."""
    if argument.as_json:
        # `;` only occurs inside JSON strings, where `\\u003b` means the same.
        return [(argument.wire_name, _json_text(value).replace(";", "\\u003b"))]
    if isinstance(value, Mapping) and argument.style == "form" and argument.explode:
        # Exploded form objects spread their properties, as in a query:
        # each property is a cookie of its own.
        return [(str(k), _scalar(v)) for k, v in value.items()]
    return [(argument.wire_name, _header_value(argument, value))]


# Characters a cookie name may not hold (RFC 6265 `token`), beside controls.
_COOKIE_NAME_UNSAFE = frozenset(' \t"(),/:;<=>?@[\\]{}')


def _cookie_problem(argument: Argument, name: str, text: str) -> ArgumentProblem | None:
    if not name or not header_safe(name) or not _COOKIE_NAME_UNSAFE.isdisjoint(name):
        return ArgumentProblem(
            "/" + argument.name,
            f"{name!r} cannot be a cookie name: cookie names are ASCII letters, "
            "digits and -_.!#$%&'*+^`|~ only. Rename the property.",
        )
    if not text.isascii():
        return _non_ascii_problem(argument)
    if not header_safe(text) or ";" in text:
        return _line_break_problem(argument)
    return None


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


def query_string(parts: RequestParts) -> str:
    """The query for requests with `reserved` pairs, built here because httpx
    would encode their reserved characters and delimiters again."""
    encoded = [(quote(k, safe="[]"), quote(v, safe="")) for k, v in parts.params]
    encoded += [(quote(k, safe="[]"), v) for k, v in parts.reserved]
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

        try:
            if where == "path":
                path = _place_path(path, argument, value, problems)
            elif where in ("query", "header", "cookie"):
                _place_parameter(parts, argument, value, problems)
            elif tool.body is not None and tool.body.flattened:
                body[argument.wire_name] = value
            elif value is not None or (tool.body is not None and tool.body.required):
                # A null for an optional body means "no body", as for any
                # optional argument.
                whole_body, has_whole = value, True
        except UnicodeEncodeError:
            problems.append(_unencodable_problem("/" + argument.name))
        except (ValueError, TypeError, RecursionError):
            # An integer past Python's 4,300-digit text limit, nesting too
            # deep to flatten into a query, or a Python value with no JSON
            # spelling: said, not raised as a bare error.
            problems.append(_unsendable_problem("/" + argument.name))

    segments = path.partition("?")[0].split("/")
    if not problems and any(s in (".", "..") for s in segments):
        # A style prefix or two values side by side formed a dot segment (a
        # path key cannot hold one: such operations are skipped at build).
        culprit = next((a for a in tool.arguments if a.location == "path"), None)
        if culprit is not None:
            problems.append(_dot_segment_problem(culprit, "."))
    if problems:
        raise InputValidationError(tool=tool.name, problems=problems)

    # A path key may write part of the query (`/search?type=user`): those
    # pairs go first, unless an argument of the same name replaces them.
    parts.path, fixed = fixed_query(path)
    given = {name for name, _ in [*parts.params, *parts.reserved]}
    parts.params[:0] = [pair for pair in fixed if pair[0] not in given]
    if tool.body is not None and (body or has_whole or tool.body.required):
        payload = whole_body if has_whole else body
        where = "/" + (tool.body.argument or "")
        try:
            _encode_body(parts, tool, payload)
        except UnicodeEncodeError:
            problem = _unencodable_problem(where)
        except (ValueError, TypeError, RecursionError):
            problem = _unsendable_problem(where)
        else:
            return parts
        raise InputValidationError(tool=tool.name, problems=[problem])
    return parts


def _place_path(
    path: str, argument: Argument, value: Any, problems: list[ArgumentProblem]
) -> str:
    """`path` with the argument's template filled in."""
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
    return path.replace("{" + argument.wire_name + "}", encoded)


def _place_parameter(
    parts: RequestParts,
    argument: Argument,
    value: Any,
    problems: list[ArgumentProblem],
) -> None:
    """Add a query, header or cookie parameter to `parts`. Null leaves an
    optional one out, as sending it empty would say something else."""
    if value is None and (argument.location == "query" or not argument.required):
        return
    if argument.location == "query":
        _add_query(parts, argument, value)
    elif argument.location == "header":
        text = _header_value(argument, value)
        if not text.isascii():
            problems.append(_non_ascii_problem(argument))
        elif not header_safe(text):
            problems.append(_line_break_problem(argument))
        else:
            parts.headers[argument.wire_name] = text
    else:
        cookies = _cookie_pairs(argument, value)
        found = (_cookie_problem(argument, k, v) for k, v in cookies)
        problem = next((p for p in found if p is not None), None)
        if problem is not None:
            problems.append(problem)
        else:
            parts.cookies.extend(cookies)


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


def _non_ascii_problem(argument: Argument) -> ArgumentProblem:
    # Said apart from line breaks: the model can fix it by transliterating.
    return ArgumentProblem(
        "/" + argument.name,
        f"{argument.location} values must be ASCII: HTTP cannot carry other "
        f"characters in the {argument.wire_name!r} {argument.location}. Spell "
        "the value in plain ASCII (drop accents, transliterate other scripts).",
    )


def _unsendable_problem(where: str) -> ArgumentProblem:
    return ArgumentProblem(
        where,
        "the value cannot be sent as given: numbers must be finite and shorter "
        "than 4,300 digits, objects nested at most a few hundred levels, and "
        "every value JSON (objects with string keys, arrays, strings, numbers, "
        "booleans, null).",
    )


def _unencodable_problem(where: str) -> ArgumentProblem:
    return ArgumentProblem(
        where,
        "the value holds text that cannot be encoded (such as a lone "
        "surrogate); send valid Unicode text.",
    )


def _fields_problem(tool: Tool) -> ArgumentProblem:
    assert tool.body is not None
    return ArgumentProblem(
        "/" + (tool.body.argument or "body"),
        f"a {tool.body.media_type} body is a set of named fields: give them "
        "as an object, one property per field.",
    )


def _encode_body(parts: RequestParts, tool: Tool, payload: Any) -> None:
    assert tool.body is not None
    media_type = tool.body.media_type
    essence = media_type.split(";")[0].strip().lower()

    if "json" in essence and payload is None:
        # A body whose schema allows null, given null: httpx would send none.
        parts.content = b"null"
        parts.headers["Content-Type"] = media_type
        return
    if "json" in essence:
        parts.json, parts.has_json = payload, True
        if essence != "application/json":
            parts.headers["Content-Type"] = media_type
        return

    form = essence == "application/x-www-form-urlencoded"
    if (form or essence.startswith("multipart/")) and not isinstance(payload, Mapping):
        if not (form and isinstance(payload, str)):
            raise InputValidationError(tool=tool.name, problems=[_fields_problem(tool)])

    if form and isinstance(payload, Mapping):
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
        parts.files = _multipart_parts(tool, payload)
        return

    text = payload if isinstance(payload, str) else _scalar(payload)
    parts.content = text.encode("utf-8")
    parts.headers["Content-Type"] = media_type


def _multipart_parts(
    tool: Tool, payload: Mapping[str, Any]
) -> list[tuple[str, tuple[str | None, bytes, str | None]]]:
    """Every field as a part; file fields take their content as text (UTF-8)
    and go as file parts, the others carry no filename. httpx picks the
    boundary."""
    files: list[tuple[str, tuple[str | None, bytes, str | None]]] = []
    assert tool.body is not None
    declared = tool.body.part_types
    for key, value in payload.items():
        content_type = tool.body.file_types.get(key)
        # An array is sent as one part per item, as multipart parsers expect;
        # its files are numbered so that a server keeping them by filename
        # keeps them all.
        if isinstance(value, list):
            named = [(f"{key}-{n}", item) for n, item in enumerate(value, 1)]
        else:
            named = [(key, value)]
        for filename, item in named:
            if item is None:
                continue
            data = (item if isinstance(item, str) else _scalar(item)).encode("utf-8")
            if content_type is not None:
                files.append((key, (filename, data, declared.get(key, content_type))))
            else:
                files.append((key, (None, data, declared.get(key))))
    return files


def _local(tool: Tool, schema: Any) -> Any:
    """`schema`, or what its `$ref` into the tool's `$defs` names."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return tool.input_schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
    return schema


def without_refused_nulls(
    tool: Tool, arguments: Mapping[str, Any], errors: Iterable[Any]
) -> dict[str, Any] | None:
    """`arguments` without the nulls given for optional arguments (and optional
    top-level properties of a whole body) whose schema does not allow null, or
    None when there are none. Models send null to mean "not given"; for a
    required argument the null stays, and so does its error.

    `errors` are the validator's errors for `arguments`: a null the schema
    refuses is one with an error at its own place. Reading them costs nothing
    on the usual path, where the arguments are valid at once."""
    refused: dict[tuple[str, ...], None] = {}
    for error in errors:
        place = tuple(str(p) for p in error.instance_path)
        if 1 <= len(place) <= 2 and _value_at(arguments, place) is None:
            refused[place] = None
    if not refused:
        return None

    required = set(tool.input_schema.get("required") or ())
    body = tool.body.argument if tool.body is not None else None
    trimmed = dict(arguments)
    whole = dict(arguments[body]) if isinstance(arguments.get(body), Mapping) else {}
    for place in refused:
        if len(place) == 1:
            if place[0] not in required:
                del trimmed[place[0]]
        elif place[0] == body and place[1] not in _required_of(tool, body):
            del whole[place[1]]
            trimmed[body] = whole
    return trimmed if trimmed != arguments else None


def without_body_nulls(
    tool: Tool, arguments: Mapping[str, Any], is_valid: Callable[[Any], bool]
) -> dict[str, Any] | None:
    """`arguments` with the nulls at the top of a whole body left out where
    that makes them valid, keeping each null the schema accepts (`note: null`
    beside a `bank: null` that had to go); None when no such reading is
    valid."""
    if tool.body is None or tool.body.argument is None:
        return None
    body = tool.body.argument
    whole = arguments.get(body)
    if not isinstance(whole, Mapping) or None not in whole.values():
        return None
    kept = {k: v for k, v in whole.items() if v is not None}
    if not is_valid({**arguments, body: kept}):
        return None
    for key in [k for k, v in whole.items() if v is None]:
        with_null = {**kept, key: None}
        if is_valid({**arguments, body: with_null}):
            kept = with_null
    return {**arguments, body: {k: kept[k] for k in whole if k in kept}}


def non_finite_numbers(arguments: Mapping[str, Any]) -> list[str]:
    """Where the arguments hold NaN or an infinity (at most ten places)."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", arguments)]
    while stack and len(found) < 10:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.append(where)
        elif isinstance(value, Mapping):
            stack.extend((f"{where}/{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}/{i}", v) for i, v in enumerate(value))
    return sorted(found)


def _value_at(arguments: Mapping[str, Any], place: tuple[str, ...]) -> Any:
    """The value at `place`, or a non-null marker when there is none."""
    value: Any = arguments
    for key in place:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


_MISSING = object()


def _required_of(tool: Tool, argument: str) -> set[str]:
    """The property names a whole body's schema requires, its `allOf` parts'
    included."""
    schema = _local(tool, tool.input_schema["properties"].get(argument))
    if not isinstance(schema, dict):
        return set()
    parts = [schema, *(_local(tool, p) for p in schema.get("allOf") or ())]
    return {
        str(name)
        for part in parts
        if isinstance(part, dict)
        for name in part.get("required") or ()
    }
