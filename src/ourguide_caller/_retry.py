"""When a call is tried again, and how long to wait before it.

Retried: connection failures (the request never reached the server, so any
method is safe), and on idempotent methods also read failures and the
statuses 429, 502, 503 and 504. The wait grows exponentially with jitter,
except that a server's `Retry-After` wins; a `Retry-After` longer than
`max_retry_after` is not waited for at all: the call ends at once and the
result says when to come back.

Never retried: 401 and every other 4xx, and requests refused before sending
(a bad header value is not a network problem, even though httpx reports it
as a transport error).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = ["NOT_SENT", "RetryPolicy", "is_idempotent", "parse_retry_after"]

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

# Failures before the request was on the wire: safe to retry for any method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after sending: the server may have acted, so only idempotent calls.
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def is_idempotent(method: str) -> bool:
    return method.upper() in _IDEMPOTENT


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an
    HTTP-date), or None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # "inf", "nan" and absurd values read as "no usable hint".
        return max(0.0, seconds) if math.isfinite(seconds) and seconds < 1e7 else None
    try:
        when = parsedate_to_datetime(text)
        # A zone offset of twenty digits overflows here, not in the parser.
        delay = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None
    return max(0.0, delay) if delay < 1e7 else None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is retried.

    `sleep` is awaited for every wait; tests pass a recorder instead of
    `asyncio.sleep` so nothing really waits.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 30.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")

    def retry_exception(self, exc: BaseException, method: str) -> bool:
        if isinstance(exc, httpx.LocalProtocolError):
            return False
        if isinstance(exc, NOT_SENT):
            return True
        return isinstance(exc, _MAYBE_SENT) and is_idempotent(method)

    def retry_status(self, status: int, retry_after: float | None, method: str) -> bool:
        if status not in self.statuses or not is_idempotent(method):
            return False
        return retry_after is None or retry_after <= self.max_retry_after

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before attempt `attempt + 1`."""
        if retry_after is not None:
            return retry_after + random.uniform(0, min(self.jitter, 1.0))
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base + random.uniform(0, self.jitter * base)
