"""What a call hands back: the status, the parsed body, and text for the LLM.

Response bodies are read with a cap on *decoded* bytes (a 65 KB gzip body
can inflate to gigabytes), and the text meant for the model is cut to a
character budget with a marker that says how much there was, so the model
can narrow its request instead of flooding its context.
"""

from __future__ import annotations

import codecs
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from ._errors import RateLimitedError, UpstreamHTTPError
from ._redaction import Redactor

__all__ = ["ToolResult", "read_body", "render_body"]

_MARKER_LIMIT = 300


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call that reached the API.

    `data` is the parsed JSON body (or the text, or None when empty);
    `content` is what to show the model: compact, redacted and cut to the
    configured size. On failure `error` names the kind (`auth`, `forbidden`,
    `not_found`, `invalid_request`, `rate_limited`, `server_error`,
    `redirect`) and `hint` says what to do about it.
    """

    tool: str
    status: int
    content: str
    text: str = field(default="", repr=False)
    error: str | None = None
    hint: str | None = None
    retry_after: float | None = None
    attempts: int = 1
    truncated: bool = False
    content_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @cached_property
    def data(self) -> Any:
        """The body parsed as JSON when it is JSON, else its text; None when
        empty. Parsed on first use: many callers only need `content`."""
        if not self.text.strip():
            return None
        json_like = self.content_type is not None and "json" in self.content_type
        if json_like or self.text.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(self.text)
            except (ValueError, RecursionError):
                # Not JSON, or nested deeper than Python can read: its text.
                pass
        return self.text

    def to_llm(self) -> str:
        """The text to return to the model as the tool's output."""
        if self.ok:
            return self.content
        head = f"Error: HTTP {self.status} ({self.error})."
        if self.hint:
            head += " " + self.hint
        return f"{head}\nResponse: {self.content}" if self.content else head

    def raise_for_status(self) -> ToolResult:
        """Raise `UpstreamHTTPError` (or `RateLimitedError`) unless ok."""
        if self.ok:
            return self
        message = f"{self.tool}: the API answered HTTP {self.status} ({self.error})."
        if self.hint:
            message += " " + self.hint
        if self.error == "rate_limited":
            raise RateLimitedError(
                message,
                tool=self.tool,
                retry_after=self.retry_after,
                hint=self.hint,
                llm_message=self.to_llm(),
            )
        raise UpstreamHTTPError(
            message,
            tool=self.tool,
            status=self.status,
            hint=self.hint,
            llm_message=self.to_llm(),
        )


class BodyRefused(Exception):
    """The response used an encoding we will not decode (stacked or unknown)."""


async def read_body(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` decoded bytes; True in second place if cut.

    Decoding is done here, chunk by chunk with a bound on each chunk's output,
    rather than by httpx, which inflates a whole compressed chunk at once.
    """
    try:
        # Built in memory (a test transport, a cache): already read and decoded.
        content = response.content
    except httpx.ResponseNotRead:
        pass
    else:
        return content[:limit], len(content) > limit

    written = [
        c.strip()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    codings = [c.lower() for c in written]
    if len(codings) > 1 or (
        codings and codings[0] not in ("gzip", "x-gzip", "deflate")
    ):
        # Named as written: an echoed secret lower-cased would slip past
        # redaction.
        raise BodyRefused(
            f"the response uses content-encoding {', '.join(written)!r}; only one "
            "layer of gzip or deflate is accepted"
        )

    decoder = None
    if codings:
        # 47 accepts a gzip or a zlib header. "deflate" should be zlib-wrapped
        # but some servers send it raw; that is detected on the first bytes.
        decoder = zlib.decompressobj(47)
    chunks: list[bytes] = []
    size = 0
    first = True
    async for raw in response.aiter_raw():
        piece = raw
        while piece:
            if decoder is None:
                data, piece = piece, b""
            else:
                try:
                    data = decoder.decompress(piece, limit - size + 1)
                except zlib.error as exc:
                    if not (first and codings[0] == "deflate"):
                        raise BodyRefused(
                            f"the response body is not valid {codings[0]}"
                        ) from exc
                    decoder = zlib.decompressobj(-15)
                    continue
                piece = decoder.unconsumed_tail
            first = False
            chunks.append(data)
            size += len(data)
            if size > limit:
                return b"".join(chunks)[:limit], True
            if decoder is not None and not data:
                break
    if decoder is not None and not decoder.eof and size:
        # The stream ended inside the compressed data: the body is incomplete,
        # and handing half a JSON document over as a success would mislead.
        raise BodyRefused(f"the response body ended inside its {codings[0]} data")
    return b"".join(chunks), False


def _charset(content_type: str | None) -> str:
    """The text encoding the Content-Type names, if Python has it as a text
    encoding (not `zlib`, `rot13` or an unknown name), else UTF-8."""
    if content_type and "charset=" in content_type.lower():
        at = content_type.lower().index("charset=") + len("charset=")
        candidate = content_type[at:].split(";")[0].strip().strip('"')
        try:
            info = codecs.lookup(candidate)
        except LookupError:
            return "utf-8"
        if getattr(info, "_is_text_encoding", True) and info.name not in _NOT_CHARSETS:
            return info.name
    return "utf-8"


# Text codecs that are no charset an API sends: `punycode` decodes in time
# quadratic in the body's size (seconds for half a megabyte), the others
# turn escapes in the text into characters.
_NOT_CHARSETS = frozenset(
    {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined"}
)


def _decode(body: bytes, content_type: str | None) -> str:
    """The body as text. Some codecs refuse `errors="replace"` (`idna`);
    then it is read as UTF-8. NUL characters are left out: a body in UTF-16
    labelled UTF-8 would otherwise show a secret between NULs, past the
    redactor, and they mean nothing to a model."""
    try:
        text = body.decode(_charset(content_type), errors="replace")
    except UnicodeError:
        text = body.decode("utf-8", errors="replace")
    return text.replace("\0", "") if "\0" in text else text


def render_body(
    body: bytes,
    *,
    content_type: str | None,
    status: int,
    max_chars: int,
    cut_at_bytes: int | None,
    redact: Redactor,
    narrowing: Iterable[str] = (),
) -> tuple[str, str, bool]:
    """(body text, content for the model, truncated?) from a raw body.

    Secrets the API echoes back are replaced in both, including the start of
    one the read limit cut through. Pretty-printed JSON is made compact for
    the model (fewer tokens); compact text is used as it is.
    """
    text = _decode(body, content_type)
    text = redact(text) if cut_at_bytes is None else redact.cut(text)
    if not text.strip():
        note = "(no content)" if status == 204 else "(empty response body)"
        return text, f"HTTP {status} {note}", False

    rendered = text
    data: Any = None
    json_like = (content_type is not None and "json" in content_type) or text.lstrip()[
        :1
    ] in ("{", "[")
    if json_like and ("\n" in text or len(text) > max_chars):
        try:
            data = json.loads(text)
            rendered = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            data = None

    if len(rendered) <= max_chars and cut_at_bytes is None:
        return text, rendered, False

    what = f"{len(rendered):,} characters"
    if isinstance(data, list):
        what += f", {len(data):,} items"
    if cut_at_bytes is not None:
        what = f"more than {cut_at_bytes:,} bytes; reading stopped there"
    advice = "Ask for less"
    narrowing = list(narrowing)
    if narrowing:
        advice += " (e.g. with " + ", ".join(f"`{n}`" for n in narrowing[:3]) + ")"
    marker = (
        f"\n[truncated: the response had {what}; showing the first "
        f"{min(max_chars, len(rendered)):,} characters. {advice}.]"
    )
    return text, rendered[:max_chars] + marker[:_MARKER_LIMIT], True
