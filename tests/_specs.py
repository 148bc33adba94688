"""Small OpenAPI documents for tests, built in code."""

from __future__ import annotations

from typing import Any

BASE = "https://api.example.test"


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An OpenAPI 3.0 document serving `paths` from BASE."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": BASE}],
        "paths": paths,
        **extra,
    }
