"""What HTTP lets a header carry, checked before anything is sent: a name or
value that breaks these rules would fail at send time, or worse, split into
a second header."""

from __future__ import annotations

import re

__all__ = ["header_safe", "is_field_name"]

# RFC 9110 token characters: what a header or cookie name may consist of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_field_name(name: str) -> bool:
    """Whether `name` may be sent as a header or cookie name."""
    return _TOKEN.fullmatch(name) is not None


def header_safe(text: str) -> bool:
    """Printable ASCII and tabs only: no line breaks, NUL or other controls,
    and nothing httpx would fail to encode at send time."""
    return text.isascii() and all(c == "\t" or " " <= c <= "~" for c in text)
