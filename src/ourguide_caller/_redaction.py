"""Keeping secrets out of text: results, hints, errors and log lines.

An API may echo a credential back in a form other than the one configured:
percent-encoded in an echoed URL, JSON-escaped in an echoed body, or as the
base64 of `user:password` in an echoed Authorization header. Every such form
of every secret is replaced by `[redacted]`.

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
from urllib.parse import quote, quote_plus

__all__ = ["Redactor", "mask_query_credentials"]

MASK = "[redacted]"


def _forms(secret: str) -> set[str]:
    """The spellings an echo of `secret` may take: as is, percent-encoded
    (either hex case, `+` for spaces), JSON-escaped, HTML-escaped, base64."""
    encoded = quote(secret, safe="")
    forms = {secret, encoded, _lower_hex(encoded), quote_plus(secret)}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(html.escape(secret))
    raw = secret.encode()
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(b64.decode().rstrip("="))
    return {f for f in forms if f}


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


class Redactor:
    """Replaces every known form of a set of secrets in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _forms(secret)
        # Longest first, so a form containing another is replaced whole.
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def __repr__(self) -> str:
        return f"Redactor({len(self._forms)} forms)"

    def with_secret(self, secret: str | None) -> Redactor:
        """This redactor plus one more secret (a session's identity token)."""
        if not secret:
            return self
        extended = Redactor(())
        extended._forms = tuple(
            sorted({*self._forms, *_forms(secret)}, key=len, reverse=True)
        )
        return extended

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
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
        pairs.append(f"{name}={MASK}" if sep and name in _query_names else pair)
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
