"""
Every error the library raises, in one tree:

* OurguideError - the root; catch it to catch everything from this library.
  * ConfigError - the integration cannot work as configured; a person must fix
    the configuration (base URL, credentials, server variables, options).
    * SpecError - the OpenAPI document itself is unusable; carries the source
      (file or URL) and the JSON pointer of the problem.
  * IdentityTokenError - a session's identity token was refused (expired, badly
    signed, malformed, ...); carries the reason as a short code.
  * ToolCallError - one tool call could not be made or completed; carries the
    tool name and a message meant for the LLM (`llm_message`).
    * UnknownToolError - no tool of that name for this session.
    * AuthRequiredError - the tool needs a credential this session lacks.
    * InputValidationError - the arguments do not match the tool's schema.
    * UpstreamError - the request was sent but gave no usable answer.
      * UpstreamUnavailableError - connection failures and timeouts, after retries.
      * UpstreamHTTPError - the API answered with a failure status; raised by
        `ToolResult.raise_for_status()`, never by `Runtime.call()` itself.
        * RateLimitedError - a 429 whose Retry-After is longer than we wait.

Messages say what happened, where, and what to do. None of them ever contains
a credential, an identity token or the verification secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ArgumentProblem",
    "AuthRequiredError",
    "ConfigError",
    "IdentityTokenError",
    "InputValidationError",
    "OurguideError",
    "RateLimitedError",
    "SpecError",
    "ToolCallError",
    "UnknownToolError",
    "UpstreamError",
    "UpstreamHTTPError",
    "UpstreamUnavailableError",
]


class OurguideError(Exception):
    """Root of every error raised by ourguide_caller."""


class ConfigError(OurguideError):
    """The integration's configuration cannot produce a working call.

    `setting` names the configuration entry at fault (for example
    `server_variables.region` or `credentials.ApiKeyAuth`), when there is one.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class SpecError(ConfigError):
    """The OpenAPI document is unusable at `source`, JSON pointer `pointer`."""

    def __init__(self, message: str, *, source: str, pointer: str = "") -> None:
        location = _bundled_location(pointer) or (
            f"{source}#{_shortened(pointer)}" if pointer else source
        )
        super().__init__(f"{location}: {message}")
        self.source = source
        self.pointer = pointer
        self.reason = message


# Where the loader mounts the files a multi-file document refers to
# (`_loader.BUNDLE_KEY`); a pointer into it is shown as the file's own.
_BUNDLED = "/x-ourguide-bundled/"


def _shortened(pointer: str, limit: int = 240) -> str:
    """A pointer fit for a message: the middle of a very deep one is elided
    (`.pointer` keeps it whole)."""
    if len(pointer) <= limit:
        return pointer
    half = limit // 2
    return f"{pointer[:half]}/.../{pointer[-half:].partition('/')[2]}"


def shown_pointer(pointer: str) -> str:
    """How a message names a place: `#/a/b`, or `file.yaml#/b` in a bundled
    file."""
    return _bundled_location(pointer) or "#" + pointer


def _bundled_location(pointer: str) -> str:
    """`common.yaml#/Pet` for `/x-ourguide-bundled/common.yaml/Pet`, else ""."""
    if not pointer.startswith(_BUNDLED):
        return ""
    key, _, rest = pointer[len(_BUNDLED) :].partition("/")
    key = key.replace("~1", "/").replace("~0", "~")
    return f"{key}#{_shortened('/' + rest) if rest else ''}"


class IdentityTokenError(OurguideError):
    """An identity token did not produce a signed-in session.

    `reason` is one of: `expired`, `bad_signature`, `algorithm_not_allowed`,
    `malformed`, `missing_claim`, `not_yet_valid`, `no_secret`.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ToolCallError(OurguideError):
    """A tool call failed; `llm_message` is the text to hand back to the model."""

    def __init__(self, message: str, *, tool: str, llm_message: str | None = None):
        super().__init__(message)
        self.tool = tool
        self.llm_message = llm_message or message


class UnknownToolError(ToolCallError):
    """The session asked for a tool that does not exist or that it may not see."""


class AuthRequiredError(ToolCallError):
    """The tool needs a credential (often a signed-in user) this session lacks."""

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        schemes: Sequence[str] = (),
        needs_sign_in: bool = False,
        llm_message: str | None = None,
    ) -> None:
        super().__init__(message, tool=tool, llm_message=llm_message)
        self.schemes = tuple(schemes)
        self.needs_sign_in = needs_sign_in


@dataclass(frozen=True)
class ArgumentProblem:
    """One thing wrong with the arguments: where (`argument`, a JSON pointer into
    the arguments object, "" for the object itself) and what."""

    argument: str
    message: str

    def __str__(self) -> str:
        where = self.argument or "(arguments)"
        return f"{where}: {self.message}"


class InputValidationError(ToolCallError):
    """The arguments do not match the tool's input schema; nothing was sent."""

    def __init__(self, *, tool: str, problems: Sequence[ArgumentProblem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(p).rstrip(".") for p in self.problems)
        message = (
            f"Invalid arguments for tool {tool!r}: {listed}. "
            "Fix these arguments to match the tool's input schema and call again."
        )
        super().__init__(message, tool=tool)

    @property
    def arguments(self) -> tuple[str, ...]:
        """The JSON pointers of the offending arguments."""
        return tuple(p.argument for p in self.problems)


class UpstreamError(ToolCallError):
    """The request left, but no usable answer came back."""


class UpstreamUnavailableError(UpstreamError):
    """Connecting, sending or reading failed, also after the allowed retries."""

    def __init__(
        self, message: str, *, tool: str, attempts: int, llm_message: str | None = None
    ) -> None:
        super().__init__(message, tool=tool, llm_message=llm_message)
        self.attempts = attempts


class UpstreamHTTPError(UpstreamError):
    """The API answered with a failure status (after retries)."""

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        status: int,
        hint: str | None = None,
        llm_message: str | None = None,
    ) -> None:
        super().__init__(message, tool=tool, llm_message=llm_message)
        self.status = status
        self.hint = hint


class RateLimitedError(UpstreamHTTPError):
    """The API rate-limited the call and asked for a wait longer than allowed."""

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        retry_after: float | None,
        hint: str | None = None,
        llm_message: str | None = None,
    ) -> None:
        super().__init__(
            message, tool=tool, status=429, hint=hint, llm_message=llm_message
        )
        self.retry_after = retry_after
