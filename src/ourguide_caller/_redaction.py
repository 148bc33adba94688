r"""Keeping secrets out of text: results, hints, errors and log lines.

An API may echo a credential back in a form other than the one configured:
percent-encoded in an echoed URL, JSON-escaped in an echoed body, or as the
base64 of `user:password` in an echoed Authorization header. Every such form
of every secret is replaced by `[redacted]`. JSON, HTML and URLs let a text
escape any single character (`\/`, `\u0073`, `&#x2F;`, `%2f`), mixed at will,
so no list of spellings covers them: where text holds such escapes, a
pattern that reads every character of a secret either way finds it.

httpcore logs response headers at DEBUG level, where an API may echo a
credential; a filter on its loggers leaves their values out.

httpx logs each request's URL at INFO level; for an API key sent as a query
parameter that line would carry the key. A filter on httpx's logger masks
the values of query parameters that carry credentials.
"""

from __future__ import annotations

import base64
import html
import html.entities
import json
import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = ["Redactor", "mask_query_credentials"]

MASK = "[redacted]"


def _forms(secret: str) -> set[str]:
    """The spellings an echo of `secret` may take: as is, percent-encoded
    (either hex case, `+` for spaces, `/` kept, twice), JSON-escaped (ASCII
    or UTF-8 JSON), HTML-escaped (named or numeric), base64."""
    forms = {secret}
    for escaped in (
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ):
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms.add(html.escape(secret))
    forms.add("".join(f"&#{ord(c)};" for c in secret))
    forms.add("".join(f"&#x{ord(c):x};" for c in secret))
    try:
        raw = secret.encode()
    except UnicodeEncodeError:
        # A lone surrogate: no URL or base64 spelling exists.
        return {f for f in forms if f}
    encoded = quote(secret, safe="")
    forms |= {encoded, _lower_hex(encoded), quote_plus(secret), quote(secret)}
    forms.add(quote(encoded, safe=""))
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(b64.decode().rstrip("="))
    return {f for f in forms if f}


# A secret cut short by a truncated read still shows its first characters;
# a cut that ends in this many or more of them is masked.
_SHORTEST_TELLING_PREFIX = 4


def _escapable(secret: str) -> str:
    """A pattern for `secret` with any of its characters escaped: by JSON,
    by an HTML character reference, or percent-encoded."""
    return "".join(map(_escapable_char, secret))


def _escapable_char(char: str) -> str:
    # JSON escapes a character as itself, a short escape (`\/`, `\"`) or
    # `\uXXXX` in either case (a surrogate pair beyond the first plane).
    choices = {re.escape(char), re.escape(json.dumps(char)[1:-1])}
    try:
        units = char.encode("utf-16-be")
    except UnicodeEncodeError:  # a lone surrogate
        units = b""
    if units:
        choices.add(
            "".join(
                r"\\u" + _any_case(units[i : i + 2].hex())
                for i in range(0, len(units), 2)
            )
        )
    if char == "/":
        choices.add(re.escape("\\/"))
    # HTML: `&#47;`, `&#x2F;` (any case, leading zeros, the `;` left out as
    # browsers allow), or any named reference (`&sol;`, `&period;`).
    # Without its `;` a reference ends where its digits do: `&#65` in
    # `&#651;` is not an `A`.
    choices.add(f"&#0*{ord(char)}(?:;|(?![0-9]))")
    choices.add(f"&#[xX]0*{_any_case(format(ord(char), 'x'))}(?:;|(?![0-9a-fA-F]))")
    choices.update(re.escape("&" + name) for name in _HTML_NAMES.get(char, ()))
    # URLs: each UTF-8 byte as `%hh`, either case; a space as `+` in forms.
    try:
        choices.add("".join("%" + _any_case(f"{b:02x}") for b in char.encode()))
    except UnicodeEncodeError:
        pass
    if char == " ":
        choices.add(re.escape("+"))
    return "(?:" + "|".join(sorted(choices)) + ")"


# Every HTML5 named reference of a single character, by that character.
_HTML_NAMES: dict[str, list[str]] = {}
for _name, _char in html.entities.html5.items():
    if len(_char) == 1:
        _HTML_NAMES.setdefault(_char, []).append(_name)

# Text holding one of these may spell a secret with per-character escapes.
_ESCAPE_MARKS = ("\\", "%", "&", "+")


def _any_case(hex_digits: str) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in hex_digits)


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


class Redactor:
    """Replaces every known form of a set of secrets in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(s for s in secrets if s)
        forms: set[str] = set()
        for secret in self._secrets:
            forms |= _forms(secret)
        # Longest first, so a form containing another is replaced whole.
        self._forms = tuple(sorted(forms, key=len, reverse=True))
        self._escaped: re.Pattern[str] | None = None

    def __repr__(self) -> str:
        return f"Redactor({len(self._forms)} forms)"

    def with_secret(self, secret: str | None) -> Redactor:
        """This redactor plus one more secret (a session's identity token)."""
        if not secret:
            return self
        extended = Redactor(())
        extended._secrets = (*self._secrets, secret)
        extended._forms = tuple(
            sorted({*self._forms, *_forms(secret)}, key=len, reverse=True)
        )
        return extended

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        # Escapes of single characters can be mixed at will (`sk&#95;live`,
        # `%73k_live`, `\u0073k`): one pattern per secret reads each
        # character either way.
        if self._secrets and any(mark in text for mark in _ESCAPE_MARKS):
            if self._escaped is None:
                longest_first = sorted(self._secrets, key=len, reverse=True)
                self._escaped = re.compile("|".join(map(_escapable, longest_first)))
            text = self._escaped.sub(MASK, text)
        return text

    def cut(self, text: str) -> str:
        """Redact text that was cut off mid-stream: a secret straddling the
        cut leaves its first characters at the end, in any of its spellings
        (JSON escapes included), and they are masked too."""
        text = self(text)
        dangling = max((_dangling(text, form) for form in self._forms), default=0)
        tail = text[-(12 * _longest(self._secrets) + 12) :]
        if "\\" in tail or "&" in tail or "%" in tail:
            for secret in self._secrets:
                dangling = max(dangling, _dangling_escaped(text, secret))
        return text[:-dangling] + MASK if dangling else text


def _longest(secrets: tuple[str, ...]) -> int:
    return max(map(len, secrets), default=0)


def _dangling(text: str, form: str) -> int:
    """How many characters at the end of `text` are the start of `form`
    (long enough to tell), or 0."""
    shortest = min(_SHORTEST_TELLING_PREFIX, len(form) - 1)
    tail = text[max(0, len(text) - len(form) + 1) :] if len(form) > 1 else ""
    start = tail.find(form[0]) if tail else -1
    while start != -1:
        size = len(tail) - start
        if size < shortest:
            break
        if form.startswith(tail[start:]):
            return size
        start = tail.find(form[0], start + 1)
    return 0


# One character of text as an API may write it: a JSON escape, an HTML
# character reference, a percent escape, or the character itself; an escape
# cut short at the very end counts as a character still to come.
_ESCAPED_CHAR = re.compile(
    r'\\u[0-9a-fA-F]{4}|\\["\\/bfnrt]'
    r"|&#[xX][0-9a-fA-F]+;?|&#[0-9]+;?|&[A-Za-z][A-Za-z0-9]*;"
    r"|%[0-9a-fA-F]{2}"
    r"|\\u?[0-9a-fA-F]{0,3}$|&#?[xX]?[0-9A-Za-z]*$|%[0-9a-fA-F]?$"
    r"|.",
    re.S,
)


def _dangling_escaped(text: str, secret: str) -> int:
    """Like `_dangling`, for `secret` written with escapes of any kind: how
    many raw characters at the end of `text` spell the start of it, or 0."""
    tail = text[-(12 * len(secret) + 12) :]
    offsets: list[int] = []
    decoded: list[str] = []
    for match in _ESCAPED_CHAR.finditer(tail):
        decoded.append(_read_escape(match.group(0), match.end() == len(tail)))
        offsets.append(match.start())
    if decoded and decoded[-1] == "\0":
        # Whatever the half escape was, the text before it must be a prefix.
        size = _dangling("".join(decoded[:-1]), secret[:-1] or secret)
        size = size + 1 if size else 0
    else:
        size = _dangling("".join(decoded), secret)
    return len(tail) - offsets[len(decoded) - size] if size else 0


def _read_escape(token: str, at_end: bool) -> str:
    """The character one `_ESCAPED_CHAR` token stands for; NUL for an escape
    cut in half at the end, whose character is unknown."""
    if len(token) == 1:
        return token
    if token.startswith("\\u") and len(token) == 6:
        return chr(int(token[2:], 16))
    if token[0] == "\\" and len(token) == 2 and token[1] in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[token[1]]
    if token[0] == "%" and len(token) == 3:
        return chr(int(token[1:], 16))
    if token[0] == "&" and token.endswith(";") or token.startswith("&#") and not at_end:
        read = html.unescape(token if token.endswith(";") else token + ";")
        if len(read) == 1:
            return read
    return "\0" if at_end else token[0]


_SHORT_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


_query_names: set[str] = set()


class _QueryCredentialFilter(logging.Filter):
    """Masks credential query parameters, and the API's own reason phrase, in
    httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            # `HTTP Request: GET url "HTTP/1.1 200 OK"`: the reason phrase is
            # the API's own text, which could echo a token; the standard one
            # is shown instead.
            method, url, version, status, reason = record.args
            record.args = (method, url, version, status, _standard_phrase(status))
        if _query_names and isinstance(record.args, tuple):
            record.args = tuple(_mask_url(arg) for arg in record.args)
        return True


def _standard_phrase(status: object) -> str:
    try:
        return HTTPStatus(int(status)).phrase  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""


def _mask_url(arg: object) -> object:
    text = str(arg) if type(arg).__name__ == "URL" else None
    if text is None or "?" not in text:
        return arg
    base, _, query = text.partition("?")
    pairs = []
    for pair in query.split("&"):
        name, sep, _ = pair.partition("=")
        # The log shows the name as sent: percent- or plus-encoded.
        masked = sep and unquote_plus(name) in _query_names
        pairs.append(f"{name}={MASK}" if masked else pair)
    return base + "?" + "&".join(pairs)


_filter = _QueryCredentialFilter()


def mask_query_credentials(names: Iterable[str]) -> None:
    """Mask these query parameters' values in httpx's log lines from now on."""
    new = set(names) - _query_names
    if not new:
        return
    _query_names.update(new)


# On from import: the reason phrase is masked for every integration.
logging.getLogger("httpx").addFilter(_filter)


class _HeaderValuesFilter(logging.Filter):
    """Leaves response headers out of httpcore's DEBUG lines: an API may echo
    a credential or a user's token in one, and the lines are written before
    the runtime sees the answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        if "headers.complete return_value=" in message:
            record.msg = message.partition(" return_value=")[0] + (
                " return_value=(left out by ourguide_caller: may hold credentials)"
            )
            record.args = ()
        elif " exception=" in message:
            # h11 quotes the header it refused, value and all.
            head, _, error = message.partition(" exception=")
            record.msg = f"{head} exception={error.partition('(')[0]}(...)"
            record.args = ()
        return True


_header_filter = _HeaderValuesFilter()
# A filter on a logger sees only the records logged on that logger itself.
for _name in ("http11", "http2", "proxy", "socks", "connection"):
    logging.getLogger(f"httpcore.{_name}").addFilter(_header_filter)
