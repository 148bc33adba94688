r"""Keeping secrets out of text: results, hints, errors and log lines.

An API may echo a credential back in a form other than the one configured:
percent-encoded in an echoed URL, JSON-escaped in an echoed body, or as the
base64 of `user:password` in an echoed Authorization header. Every such form
of every secret is replaced by `[redacted]`. JSON lets a string escape any
character (`\/`, `\u0073`), so no list of spellings covers it: where text
holds such escapes, a pattern that reads every character of a secret either
way finds it.

httpx logs each request's URL at INFO level; for an API key sent as a query
parameter that line would carry the key. A filter on httpx's logger masks
the values of query parameters that carry credentials.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = ["Redactor", "mask_query_credentials"]

MASK = "[redacted]"


def _forms(secret: str) -> set[str]:
    """The spellings an echo of `secret` may take: as is, percent-encoded
    (either hex case, `+` for spaces, `/` kept, twice), JSON-escaped,
    HTML-escaped (named or numeric), base64."""
    encoded = quote(secret, safe="")
    forms = {secret, encoded, _lower_hex(encoded), quote_plus(secret)}
    forms |= {quote(secret), quote(encoded, safe="")}
    forms.add("".join(f"&#{ord(c)};" for c in secret))
    forms.add("".join(f"&#x{ord(c):x};" for c in secret))
    escaped = json.dumps(secret)[1:-1]
    forms |= {escaped, escaped.replace("/", "\\/")}
    forms.add(html.escape(secret))
    raw = secret.encode()
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(b64.decode().rstrip("="))
    return {f for f in forms if f}


# A secret cut short by a truncated read still shows its first characters;
# a cut that ends in this many or more of them is masked.
_SHORTEST_TELLING_PREFIX = 4


def _escapable(secret: str) -> str:
    """A pattern for `secret` with any of its characters JSON-escaped."""
    return "".join(map(_escapable_char, secret))


def _escapable_char(char: str) -> str:
    # JSON escapes a character as itself, a short escape (`\/`, `\"`) or
    # `\uXXXX` in either case (a surrogate pair beyond the first plane).
    units = char.encode("utf-16-be")
    unicode_escape = "".join(
        r"\\u" + _any_case(units[i : i + 2].hex()) for i in range(0, len(units), 2)
    )
    choices = {re.escape(char), re.escape(json.dumps(char)[1:-1]), unicode_escape}
    if char == "/":
        choices.add(re.escape("\\/"))
    return "(?:" + "|".join(sorted(choices)) + ")"


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
        # Only `\u` and `\/` can stand for ordinary characters; other escapes
        # are covered by the JSON-escaped form.
        if self._secrets and ("\\u" in text or "\\/" in text):
            if self._escaped is None:
                longest_first = sorted(self._secrets, key=len, reverse=True)
                self._escaped = re.compile("|".join(map(_escapable, longest_first)))
            text = self._escaped.sub(MASK, text)
        return text

    def cut(self, text: str) -> str:
        """Redact text that was cut off mid-stream: a secret straddling the
        cut leaves its first characters at the end, which are masked too."""
        text = self(text)
        for form in self._forms:
            for size in range(min(len(form) - 1, len(text)), 0, -1):
                if size < min(_SHORTEST_TELLING_PREFIX, len(form) - 1):
                    break
                if text.endswith(form[:size]):
                    return text[:-size] + MASK
        return text


_query_names: set[str] = set()


class _QueryCredentialFilter(logging.Filter):
    """Masks credential query parameters in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _query_names and isinstance(record.args, tuple):
            record.args = tuple(_mask_url(arg) for arg in record.args)
        return True


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
    logger = logging.getLogger("httpx")
    if _filter not in logger.filters:
        logger.addFilter(_filter)
