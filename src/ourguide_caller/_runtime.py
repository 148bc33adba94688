"""The runtime: integrations, one shared HTTP client, and the call path.

A call goes through these steps, and nothing is sent unless all of the
first four pass:

1. find the tool and check the session may use it;
2. check the arguments against the tool's compiled input schema;
3. place the arguments into path, query, headers, cookies and body;
4. attach the chosen credentials and check the URL's origin is the
   integration's own;
5. send, retrying where safe, and read the answer into a `ToolResult`.

The shared client keeps no cookies and follows no redirects, and carries no
credential: they are attached to each request.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema_rs
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_before_delay,
)

from ._errors import (
    ArgumentProblem,
    AuthRequiredError,
    ConfigError,
    InputValidationError,
    UpstreamUnavailableError,
)
from ._integration import Integration
from ._redaction import Redactor
from ._request import (
    non_finite_numbers,
    query_string,
    serialize_arguments,
    without_body_nulls,
    without_refused_nulls,
)
from ._result import BodyRefused, ToolResult, read_body, render_body
from ._retry import NOT_SENT, RetryPolicy, is_idempotent, parse_retry_after
from ._security import Alternative
from ._servers import origin_of
from ._session import Session
from ._subschemas import changed_subschemas
from ._tools import Tool

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Deadline:
    """Cancel the current task when `seconds` have passed: a total deadline
    per call, since httpx's timeouts apply to each read, not to a whole
    response a server drips out. Lighter than `asyncio.timeout`, which costs
    tens of microseconds per call on a busy loop."""

    __slots__ = ("_handle", "_seconds", "_task", "expired")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self.expired = False

    async def __aenter__(self) -> _Deadline:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._handle = asyncio.get_running_loop().call_later(
            self._seconds, self._expire
        )
        return self

    def _expire(self) -> None:
        self.expired = True
        self._task.cancel()

    async def __aexit__(self, kind: object, exc: object, tb: object) -> None:
        self._handle.cancel()
        if self.expired and isinstance(exc, asyncio.CancelledError):
            self._task.uncancel()
            raise TimeoutError from None


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuse every cookie: one user's `Set-Cookie` must never ride along
    on another user's call through the shared client."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


@dataclass(slots=True)
class _Answer:
    """One attempt's outcome, read and closed."""

    status: int
    headers: httpx.Headers
    body: bytes
    cut: bool
    retry_after: float | None


class Runtime:
    """Holds integrations and one `httpx.AsyncClient`; use it as `async with`.

    async with Runtime(integration) as runtime:
        session = runtime.session(identity_token)
        tools = runtime.tools_for(session)
        result = await runtime.call(session, "getOrder", {"orderId": "o-1"})
    """

    def __init__(
        self,
        integrations: Integration | Iterable[Integration],
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if isinstance(integrations, Integration):
            integrations = [integrations]
        self.integrations: dict[str, Integration] = {}
        for integration in integrations:
            if integration.name in self.integrations:
                raise ConfigError(
                    f"two integrations are named {integration.name!r}; give each a "
                    "unique name.",
                    setting="name",
                )
            self.integrations[integration.name] = integration
        if not self.integrations:
            raise ConfigError("a Runtime needs at least one integration.")

        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            follow_redirects=False,
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            timeout=httpx.Timeout(30.0, connect=10.0),
            # Only encodings `read_body` can decode with a size bound.
            headers={"Accept-Encoding": "gzip, deflate"},
        )
        # A caller's client may bring its own default headers and timeout;
        # they apply, except that encodings stay ones `read_body` can decode.
        self._default_headers = {
            k.lower(): v
            for k, v in self.client.headers.items()
            # Credentials are attached per call and per integration; a
            # client-wide one would reach every API and every user.
            if k.lower() not in ("authorization", "cookie")
        } | {"accept-encoding": "gzip, deflate"}
        self._timeout = self.client.timeout.as_dict()

    def __repr__(self) -> str:
        return f"Runtime({', '.join(self.integrations)})"

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def integration(self, name: str | None = None) -> Integration:
        if name is None:
            if len(self.integrations) == 1:
                return next(iter(self.integrations.values()))
            raise ConfigError(
                "this runtime has several integrations "
                f"({', '.join(self.integrations)}); name the one to use."
            )
        try:
            return self.integrations[name]
        except KeyError:
            raise ConfigError(
                f"no integration named {name!r}; known: {', '.join(self.integrations)}."
            ) from None

    def session(
        self,
        identity_token: str | None = None,
        *,
        integration: str | None = None,
        on_invalid: str = "raise",
    ) -> Session:
        """An anonymous session, or one identified by a verified identity token
        (see `Integration.session`)."""
        return self.integration(integration).session(
            identity_token, on_invalid=on_invalid
        )

    def tools_for(self, session: Session) -> list[Tool]:
        """The tools this session may call."""
        return self.integration(session.integration).tools_for(session)

    async def call(
        self,
        session: Session,
        tool_name: str,
        arguments: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """Call one tool for `session` and return what the API answered.

        Raises `UnknownToolError`, `AuthRequiredError`, `InputValidationError`
        or `ConfigError` before anything is sent, and
        `UpstreamUnavailableError` when no answer came back; an HTTP answer,
        even a failure, is a `ToolResult` (see `ToolResult.raise_for_status`).
        """
        integration = self.integration(session.integration)
        tool = integration.tool(tool_name, session)
        alternative = self._alternative(integration, tool, session)
        arguments = self._validate(tool, {} if arguments is None else arguments)
        if tool.base_url is None:
            assert tool.base_url_error is not None
            raise tool.base_url_error

        request = self._request(tool, arguments, alternative, session)
        redact = integration.redactor_for(session)
        started = time.perf_counter()
        answer, attempts = await self._send(integration, tool, request, redact)
        result = self._result(
            integration, tool, alternative, session, answer, attempts, redact
        )
        logger.debug(
            "%s: %s %s -> %s in %.1f ms (%d attempt(s))",
            tool.name,
            tool.method,
            tool.path,
            answer.status,
            (time.perf_counter() - started) * 1000,
            attempts,
        )
        return result

    def _alternative(
        self, integration: Integration, tool: Tool, session: Session
    ) -> Alternative:
        security = tool.security
        if session.identified:
            expired = integration.verify_still_valid(session)
            if expired is None and security.signed_in is not None:
                return security.signed_in
            if security.anonymous is not None:
                return security.anonymous
            if expired is not None and security.signed_in is not None:
                raise AuthRequiredError(
                    f"{tool.name}: the user's identity token is no longer valid "
                    f"({expired.reason}); the user must sign in again.",
                    tool=tool.name,
                    needs_sign_in=True,
                    llm_message="The user's sign-in has expired. Ask them to sign in "
                    "again, then retry.",
                )
        elif security.anonymous is not None:
            return security.anonymous

        if security.signed_in is not None:
            raise AuthRequiredError(
                f"{tool.name} needs a signed-in user: it forwards the user's identity "
                "token, and this session is anonymous.",
                tool=tool.name,
                needs_sign_in=True,
                llm_message=f"The tool {tool.name!r} is only available to signed-in "
                "users. Ask the user to sign in first.",
            )
        missing = ", ".join(security.unserved) or "none configured"
        raise AuthRequiredError(
            f"{tool.name} needs credentials for security scheme(s) {missing}, which "
            f"integration {integration.name!r} does not configure. Add them to the "
            "integration's credentials.",
            tool=tool.name,
            schemes=security.unserved,
            llm_message=f"The tool {tool.name!r} is not available: the service is not "
            "configured with the credentials it needs.",
        )

    def _validate(self, tool: Tool, arguments: Any) -> Mapping[str, Any]:
        """The arguments to send: as given when valid, else without the nulls
        that stand for optional arguments left out, if that makes them valid."""
        if not isinstance(arguments, Mapping):
            raise InputValidationError(
                tool=tool.name,
                problems=[ArgumentProblem("", "arguments must be a JSON object")],
            )
        validator = tool._validator or _compile(tool)
        try:
            if validator.is_valid(arguments):
                return arguments
        except (ValueError, TypeError, OverflowError, RecursionError):
            # Only a Python caller can pass these (bytes, sets, int keys).
            raise InputValidationError(
                tool=tool.name, problems=[ArgumentProblem("", _NOT_JSON)]
            ) from None
        odd = non_finite_numbers(arguments)
        if odd:
            # The checker reads NaN as null and would say "null is not a number".
            raise InputValidationError(
                tool=tool.name,
                problems=[ArgumentProblem(where, _NOT_FINITE) for where in odd],
            )
        try:
            return self._loosened(tool, validator, arguments)
        except (UnicodeError, ValueError, TypeError, RecursionError):
            # A lone surrogate in a value the checker quotes in its message.
            problem = ArgumentProblem("", f"{_NOT_JSON}; text must be valid Unicode")
            raise InputValidationError(tool=tool.name, problems=[problem]) from None

    @staticmethod
    def _loosened(
        tool: Tool, validator: Any, arguments: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Invalid `arguments` without the nulls that mean "not given", when
        that makes them valid; else `InputValidationError` naming each problem."""
        trimmed = without_refused_nulls(
            tool, arguments, validator.iter_errors(arguments)
        )
        if trimmed is not None:
            arguments = trimmed
            if validator.is_valid(arguments):
                return arguments
        # A whole body that is a union (oneOf/anyOf) reports its errors at
        # the body, not at the null inside it: dropped only if that is valid.
        loosened = without_body_nulls(tool, arguments, validator.is_valid)
        if loosened is not None:
            return loosened
        raise InputValidationError(
            tool=tool.name, problems=_problems(validator, arguments)
        )

    def _request(
        self,
        tool: Tool,
        arguments: Mapping[str, Any],
        alternative: Alternative,
        session: Session,
    ) -> httpx.Request:
        assert tool.base_url is not None
        parts = serialize_arguments(tool, arguments)

        for binding in alternative.bindings:
            value = (
                binding.value if binding.value is not None else session.identity_token
            )
            assert value is not None
            if binding.needs_user:
                value = "Bearer " + value
            # The credential replaces anything of the same name the arguments
            # produced: the model can never supply or shadow a credential.
            name = binding.name
            if binding.location == "header":
                lower = name.lower()
                for key in [k for k in parts.headers if k.lower() == lower]:
                    del parts.headers[key]
                parts.headers[name] = value
            elif binding.location == "query":
                parts.params = [p for p in parts.params if p[0] != name]
                parts.reserved = [p for p in parts.reserved if p[0] != name]
                parts.params.append((name, value))
            else:
                parts.cookies = [c for c in parts.cookies if c[0] != name]
                parts.cookies.append((name, value))

        url = tool.base_url + "/" + parts.path.lstrip("/")
        params = parts.params or None
        if parts.reserved:
            url, params = url + "?" + query_string(parts), None
        # Built directly rather than with `client.build_request`: that would
        # merge the client's cookie jar (another user's cookies, on a shared
        # client) and costs tens of microseconds a call for nothing we need.
        headers = {**self._default_headers}
        headers.update((k.lower(), v) for k, v in parts.headers.items())
        if parts.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in parts.cookies)
        try:
            request = httpx.Request(
                tool.method,
                url,
                params=params,
                headers=headers,
                json=parts.json if parts.has_json else None,
                content=parts.content,
                files=parts.files,
                extensions={"timeout": self._timeout},
            )
        except (
            UnicodeEncodeError,
            httpx.InvalidURL,
            ValueError,
            TypeError,
            RecursionError,
        ) as exc:
            if isinstance(exc, httpx.InvalidURL):
                reason = "the URL would be too long or malformed; send shorter values"
            elif isinstance(exc, UnicodeEncodeError):
                reason = (
                    "an argument holds text that cannot be encoded (such as a "
                    "lone surrogate); send valid Unicode text"
                )
            else:
                # NaN in an argument whose schema says nothing of its type.
                reason = f"{_NOT_JSON}; {_NOT_FINITE}"
            raise InputValidationError(
                tool=tool.name, problems=[ArgumentProblem("", reason)]
            ) from None

        # Credentials go only to the integration's own origin. Arguments are
        # encoded so they cannot change it; this check keeps it that way.
        url_object = request.url
        target = (
            url_object.scheme,
            url_object.host,
            url_object.port or _DEFAULT_PORTS.get(url_object.scheme),
        )
        if target != tool.origin:
            raise ConfigError(
                f"{tool.name}: the request URL's origin differs from the "
                "integration's base URL; refusing to send credentials there."
            )
        return request

    async def _send(
        self,
        integration: Integration,
        tool: Tool,
        request: httpx.Request,
        redact: Redactor,
    ) -> tuple[_Answer, int]:
        policy = integration.retry
        method = tool.method

        async def attempt() -> _Answer:
            # Never follow redirects, even on a client configured to: httpx keeps
            # custom credential headers when it follows one to another origin.
            response = await self.client.send(
                request, stream=True, follow_redirects=False, auth=None
            )
            try:
                body, cut = await read_body(response, integration.max_response_bytes)
            finally:
                await response.aclose()
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return _Answer(
                response.status_code, response.headers, body, cut, retry_after
            )

        started = time.monotonic()
        attempts = 1
        try:
            async with _Deadline(integration.timeout):
                # Most calls succeed at once; tenacity's machinery (tens of
                # microseconds a call) is only set up when a retry is due.
                try:
                    answer = await attempt()
                except Exception as exc:
                    if policy.attempts == 1 or not policy.retry_exception(exc, method):
                        raise
                    first: _Answer | BaseException = exc
                else:
                    if policy.attempts == 1 or not policy.retry_status(
                        answer.status, answer.retry_after, method
                    ):
                        return answer, 1
                    first = answer

                # A wait that would outlast the call's deadline is not taken:
                # the last answer (say, a 429 with its Retry-After) is worth
                # more to the caller than a timeout.
                retry_after = first.retry_after if isinstance(first, _Answer) else None
                pause = policy.wait(1, retry_after)
                left = integration.timeout - (time.monotonic() - started)
                if pause >= left:
                    if isinstance(first, _Answer):
                        return first, 1
                    raise first

                retrying = _retrying(policy, tool, budget=left - pause)
                _log_retry(tool, first, 2, policy.attempts)
                await policy.sleep(pause)
                try:
                    answer = await retrying(attempt)
                finally:
                    attempts = 1 + retrying.statistics.get("attempt_number", 1)
        except httpx.LocalProtocolError as exc:
            raise ConfigError(
                f"{tool.name}: httpx refused to send the request as built "
                f"({redact(str(exc))}). A header name or value taken "
                "from the spec or the configuration is not valid HTTP; fix it there."
            ) from None
        except (httpx.TransportError, TimeoutError, BodyRefused) as exc:
            failure = self._unavailable(
                integration, tool, exc, attempts, started, redact
            )
        else:
            return answer, attempts
        # Raised here, outside the handler, so the original exception (whose
        # text may hold a URL with a query credential) is not its context.
        raise failure

    def _unavailable(
        self,
        integration: Integration,
        tool: Tool,
        exc: BaseException,
        attempts: int,
        started: float,
        redact: Redactor,
    ) -> UpstreamUnavailableError:
        scheme, host, port = origin_of(tool.base_url or "")
        if isinstance(exc, TimeoutError):
            what = f"no answer within {integration.timeout:g} s"
        elif isinstance(exc, BodyRefused):
            what = redact(str(exc))
        else:
            detail = redact(str(exc) or "no detail")
            what = f"{type(exc).__name__}: {detail}"
        return UpstreamUnavailableError(
            f"{tool.name}: {tool.method} to {scheme}://{host}:{port} failed after "
            f"{attempts} attempt(s) in {time.monotonic() - started:.1f} s ({what}). "
            "Check that the base URL is right and the API is up.",
            tool=tool.name,
            attempts=attempts,
            llm_message=_unavailable_advice(tool, exc),
        )

    def _result(
        self,
        integration: Integration,
        tool: Tool,
        alternative: Alternative,
        session: Session,
        answer: _Answer,
        attempts: int,
        redact: Redactor,
    ) -> ToolResult:
        content_type = answer.headers.get("content-type")
        text, content, truncated = render_body(
            answer.body,
            content_type=content_type,
            status=answer.status,
            max_chars=integration.max_result_chars,
            cut_at_bytes=integration.max_response_bytes if answer.cut else None,
            redact=redact,
            narrowing=tool.narrowing,
        )
        error, hint = _diagnose(tool, alternative, session, answer)
        if hint is not None:
            hint = redact(hint)
        return ToolResult(
            tool=tool.name,
            status=answer.status,
            content=content,
            text=text,
            error=error,
            hint=hint,
            retry_after=answer.retry_after,
            attempts=attempts,
            truncated=truncated,
            # A header the API wrote: it may echo a credential too.
            content_type=redact(content_type) if content_type else None,
        )


def _problems(validator: Any, arguments: Mapping[str, Any]) -> list[ArgumentProblem]:
    """The first ten problems the checker finds, each at its argument."""
    problems = []
    for error in validator.iter_errors(arguments):
        where = "".join(f"/{p}" for p in error.instance_path)
        # Point at the argument itself, not at the object that lacks it.
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            where += f"/{kind.property}"
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            where += "/" + ",".join(map(str, kind.unexpected))
        problems.append(ArgumentProblem(where, error.message))
        if len(problems) >= 10:
            break
    return problems


_NOT_JSON = (
    "arguments must be JSON values: objects with string keys, arrays, strings, "
    "numbers, booleans and null"
)
_NOT_FINITE = "NaN and Infinity are not JSON numbers; give a finite number"


def _unavailable_advice(tool: Tool, exc: BaseException) -> str:
    """What the model should do after a call got no usable answer."""
    if isinstance(exc, NOT_SENT) or is_idempotent(tool.method):
        return (
            "The service could not be reached just now. Try again later, "
            "or tell the user it is unavailable."
        )
    # A create or payment may have gone through even though no answer came
    # back: a blind retry could do it twice.
    return (
        f"The {tool.name} request was sent but no complete answer came back, "
        "so it may or may not have taken effect. Do not simply repeat it: check "
        "whether it happened first (for example by looking the record up), or "
        "tell the user the outcome is unknown."
    )


def _retrying(policy: RetryPolicy, tool: Tool, *, budget: float) -> AsyncRetrying:
    """Tenacity's loop for the attempts after the first (which the caller made
    and already waited after), stopping before a wait would exceed `budget`."""
    method = tool.method

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        retry_after = None
        if outcome is not None and not outcome.failed:
            retry_after = outcome.result().retry_after
        return policy.wait(state.attempt_number + 1, retry_after)

    def before_sleep(state: RetryCallState) -> None:
        outcome = state.outcome
        if outcome is not None:
            failure = outcome.exception() if outcome.failed else outcome.result()
            _log_retry(tool, failure, state.attempt_number + 2, policy.attempts)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts - 1) | stop_before_delay(budget),
        wait=wait,
        retry=retry_if_exception(lambda e: policy.retry_exception(e, method))
        | retry_if_result(
            lambda a: policy.retry_status(a.status, a.retry_after, method)
        ),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        # When attempts run out on a retryable status, that answer is the result.
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        reraise=True,
    )


def _log_retry(tool: Tool, failure: Any, next_attempt: int, attempts: int) -> None:
    what = (
        f"HTTP {failure.status}"
        if isinstance(failure, _Answer)
        else type(failure).__name__
    )
    logger.warning(
        "%s: %s; retrying (attempt %d of %d)", tool.name, what, next_attempt, attempts
    )


def _compile(tool: Tool) -> Any:
    """Compile the tool's argument check once, on its first call.

    Some specs carry regular expressions the validator's engine rejects; the
    check then runs without `pattern`s rather than making the tool unusable.
    """
    try:
        tool._validator = jsonschema_rs.validator_for(_lenient(tool.input_schema))
    except (ValueError, jsonschema_rs.ValidationError) as exc:
        logger.warning(
            "%s: its input schema does not compile (%s); checking it without "
            "`pattern` keywords",
            tool.name,
            exc,
        )
        tool._validator = jsonschema_rs.validator_for(
            _without_patterns(_lenient(tool.input_schema))
        )
    return tool._validator


def _lenient(schema: Any) -> Any:
    """The input schema as the argument check reads it: `oneOf` as `anyOf`.

    Specs often list `oneOf` alternatives that overlap (an empty object
    matches two of them), which would make good arguments fail "valid under
    more than one"; the API itself decides between them.
    """
    if not isinstance(schema, dict):
        return schema
    result = {**schema, **changed_subschemas(schema, _lenient)}
    if "oneOf" in result:
        alternatives = result.pop("oneOf")
        if "anyOf" in result:
            both = [{"anyOf": result.pop("anyOf")}, {"anyOf": alternatives}]
            result["allOf"] = [*result.get("allOf", []), *both]
        else:
            result["anyOf"] = alternatives
    return result


def _without_patterns(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _without_patterns(v)
            for k, v in schema.items()
            if not (k == "pattern" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_without_patterns(v) for v in schema]
    return schema


def _diagnose(
    tool: Tool, alternative: Alternative, session: Session, answer: _Answer
) -> tuple[str | None, str | None]:
    """Error kind and advice for a failed answer; (None, None) on success."""
    status = answer.status
    if 200 <= status < 300:
        return None, None

    if 300 <= status < 400:
        location = answer.headers.get("location", "")
        shown = location.split("?", 1)[0]
        return "redirect", (
            f"The API redirected to {shown or 'another URL'}; redirects are not "
            "followed, so credentials never leave the API's own address. If the API "
            "moved, update the integration's base URL."
        )

    if status == 401:
        return "auth", _unauthorised_hint(alternative, session)
    if status == 403:
        return "forbidden", (
            "The credentials were accepted but do not allow this operation; the user "
            "or the integration lacks the permission."
        )
    if status == 404:
        return "not_found", "Nothing exists at that address: check the identifiers."
    if status == 429:
        wait = answer.retry_after
        when = f" after {wait:g} s" if wait is not None else " later"
        return "rate_limited", f"The API is rate-limiting calls; try again{when}."
    if 400 <= status < 500:
        return "invalid_request", (
            "The API rejected the request; read its message and correct the arguments."
        )
    wait = answer.retry_after
    when = f" Retry after {wait:g} s." if wait is not None else ""
    return "server_error", f"The API failed on its side.{when}"


def _unauthorised_hint(alternative: Alternative, session: Session) -> str:
    if alternative.needs_user:
        expires = session.expires_at
        if expires is not None and expires < time.time():
            return (
                "The user's identity token has expired: ask the user to sign in again."
            )
        return (
            "The API refused the user's identity token, which is valid here: the API "
            "probably verifies tokens with a different secret than this integration's "
            "verification_secret, or expects another token. Check that both use the "
            "same secret."
        )
    if not alternative.bindings:
        return (
            "The API wants credentials for this operation although the spec marks it "
            "public; configure credentials for it (and fix the spec's `security`)."
        )
    used = ", ".join(f"{b.scheme} ({b.describe()})" for b in alternative.bindings)
    return (
        f"The API refused the configured credential: {used}. Check the key or token "
        "configured for the integration."
    )
