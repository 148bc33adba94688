"""Tools in the formats agent services take: OpenAI, Anthropic and MCP.

Each provider has its own limits; an export respects them so a provider never
rejects the list. Where a description is too long it is cut at a fixed
length with an ellipsis, the same way every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._tools import Tool

__all__ = ["to_anthropic", "to_mcp", "to_openai"]

# OpenAI rejects function descriptions longer than this.
OPENAI_DESCRIPTION_LIMIT = 1024
ANTHROPIC_DESCRIPTION_LIMIT = 10_000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def to_openai(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """Chat Completions `tools` entries: `{"type": "function", "function": ...}`."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": _cut(tool.description, OPENAI_DESCRIPTION_LIMIT),
                "parameters": tool.input_schema,
            },
        }
        for tool in tools
    ]


def to_anthropic(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """Messages API `tools` entries: `{"name", "description", "input_schema"}`."""
    return [
        {
            "name": tool.name,
            "description": _cut(tool.description, ANTHROPIC_DESCRIPTION_LIMIT),
            "input_schema": tool.input_schema,
        }
        for tool in tools
    ]


def to_mcp(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """MCP `tools/list` entries, with behaviour hints as annotations."""
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": tool.input_schema,
            "annotations": {
                "readOnlyHint": tool.read_only,
                "destructiveHint": tool.destructive,
                "idempotentHint": tool.method in ("GET", "HEAD", "PUT", "DELETE"),
                "openWorldHint": True,
            },
        }
        for tool in tools
    ]
