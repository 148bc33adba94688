"""Retry decisions and Retry-After parsing, without sleeping."""

import email.utils
import time

import httpx

from ourguide_caller import RetryPolicy
from ourguide_caller._retry import parse_retry_after


def test_retry_after_seconds_and_dates():
    """Both Retry-After forms are read; garbage gives None."""
    now = time.time()
    date = email.utils.formatdate(now + 4, usegmt=True)

    assert 2.0 == parse_retry_after("2")
    assert 3.0 <= parse_retry_after(date, now=now) <= 4.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_statuses_retried_only_on_idempotent_methods():
    """429/502/503/504 are retried for GET, never for POST; 401 never."""
    policy = RetryPolicy()

    assert policy.retry_status(503, None, "GET")
    assert not policy.retry_status(503, None, "POST")
    assert not policy.retry_status(401, None, "GET")
    assert not policy.retry_status(429, 3600, "GET")


def test_exceptions():
    """Connection failures are retried for any method; bad headers never."""
    policy = RetryPolicy()

    assert policy.retry_exception(httpx.ConnectError("x"), "POST")
    assert not policy.retry_exception(httpx.ReadTimeout("x"), "POST")
    assert policy.retry_exception(httpx.ReadTimeout("x"), "GET")
    assert not policy.retry_exception(httpx.LocalProtocolError("x"), "GET")


def test_wait_prefers_retry_after_and_backs_off():
    """Retry-After wins over backoff; backoff grows with the attempt."""
    policy = RetryPolicy(backoff=0.5, jitter=0.0)

    assert 2.0 == policy.wait(1, 2.0)
    assert 0.5 == policy.wait(1, None)
    assert 1.0 == policy.wait(2, None)
