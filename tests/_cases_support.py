"""Shared helpers for tests/test_cases.py: specs, a recording mock API, JWTs."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt

from ourguide_caller import Integration, Runtime, Session, ToolResult

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Answer = Callable[[httpx.Request], httpx.Response]


def spec_path(case: str) -> str:
    """The spec.yaml of case folder `case`, e.g. `B01-tool-name-length`."""
    return str(CASES / case / "spec.yaml")


def json_answer(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Answer:
    """An answer that returns `body` as JSON to every request."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return answer


def as_network_response(response: httpx.Response) -> httpx.Response:
    """`response` with its body as an unread stream, as a network transport
    hands it over (`httpx.Response(content=...)` comes already read)."""
    stream = httpx.ByteStream(response.content)
    return httpx.Response(response.status_code, headers=response.headers, stream=stream)


def sequence(*responses: httpx.Response) -> Answer:
    """An answer that returns `responses` in order, repeating the last one."""
    queue = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer


class SleepRecorder:
    """Stands in for `asyncio.sleep`: records each wait, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Harness:
    """One integration from a case's spec, a runtime on a recording mock API.

    Answers are handed over as unread streams, the way a network transport
    delivers them, unless `prebuilt=True` (then exactly as `answer` built them).
    `client` holds extra `httpx.AsyncClient` options.
    """

    def __init__(
        self,
        case: str,
        answer: Answer | None = None,
        *,
        prebuilt: bool = False,
        client: Mapping[str, Any] | None = None,
        **integration: Any,
    ) -> None:
        self.integration = Integration(spec_path(case), **integration)
        self.answer = answer or json_answer({})
        self.prebuilt = prebuilt
        self.requests: list[httpx.Request] = []
        transport = httpx.MockTransport(self._handle)
        self.runtime = Runtime(
            self.integration,
            client=httpx.AsyncClient(transport=transport, **(client or {})),
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response = self.answer(request)
        return response if self.prebuilt else as_network_response(response)

    def session(self, token: str | None = None, **options: Any) -> Session:
        return self.runtime.session(token, **options)

    def tool_names(self, session: Session | None = None) -> set[str]:
        tools = self.runtime.tools_for(session or self.session())
        return {tool.name for tool in tools}

    def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        session: Session | None = None,
    ) -> ToolResult:
        call = self.runtime.call(session or self.session(), name, arguments)
        return asyncio.run(call)

    def sent(self) -> list[tuple[str, str]]:
        """(method, URL) of every recorded request."""
        return [(r.method, str(r.url)) for r in self.requests]


def query_pairs(request: httpx.Request) -> list[tuple[str, str]]:
    """The decoded query of `request` as a sorted multiset of pairs."""
    return sorted(parse_qsl(request.url.query.decode(), keep_blank_values=True))


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def everything_sent(request: httpx.Request) -> str:
    """URL, headers and body of a request as one string, for leak checks."""
    headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.url}\n{headers}\n{request.content.decode(errors='replace')}"


def b64url(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def user_claims(sub: str = "u-123", now: int | None = None) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    return {"sub": sub, "iat": now - 60, "exp": now + 3600}


def signed_jwt(claims: Mapping[str, Any], secret: str, algorithm: str = "HS256") -> str:
    """A JWT with header `{"alg": algorithm, "typ": "JWT"}`."""
    with warnings.catch_warnings():
        # Short keys for HS512 are part of what a case mints on purpose.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(
            dict(claims), secret, algorithm=algorithm, headers={"typ": "JWT"}
        )


def unsigned_jwt(claims: Mapping[str, Any], alg: str = "none") -> str:
    """An unsigned JWT: header and payload, empty signature (ends with `.`)."""
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(claims)}."


def with_payload(token: str, claims: Mapping[str, Any]) -> str:
    """`token` with its payload replaced, keeping header and signature."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url(claims)}.{signature}"


def required_strings(schema: Mapping[str, Any]) -> Iterable[str]:
    """Names of required properties of type string in an input schema."""
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if properties.get(name, {}).get("type") == "string":
            yield name
