"""An integration: one customer API, built once and reused for every call.

It holds the loaded spec, the tools built from it, the credentials bound to
the spec's security schemes, and the verifier for the customer's identity
tokens. Everything that can be checked without a request is checked here,
when the integration is built, so a misconfiguration shows at setup time.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ._credentials import ApiKey, BasicAuth, BearerToken, Credential, JwtForward
from ._errors import ConfigError, IdentityTokenError, SpecError, UnknownToolError
from ._filter import OperationFilter
from ._http import header_safe, is_field_name
from ._loader import LoadedSpec, check_location, collector_paused, load_spec
from ._redaction import Redactor, mask_query_credentials
from ._refs import RefResolver
from ._retry import RetryPolicy
from ._security import assign_credentials, configured_bindings, security_schemes
from ._servers import (
    check_base_url,
    common_prefix,
    doubled_prefix,
    fill_server_url,
    is_loopback,
    join_url,
    looks_like_placeholder,
    origin_of,
)
from ._session import IdentityVerifier, Session
from ._tools import BuildReport, Tool, build_tools

__all__ = ["Integration"]

logger = logging.getLogger(__name__)

# Identity tokens whose redactors are kept; a token is usually used for a
# conversation's worth of calls.
_SESSION_REDACTORS = 1024

SpecSource = str | os.PathLike[str] | Mapping[str, Any] | LoadedSpec
DoubledPrefix = Literal["collapse", "keep", "error"]


class Integration:
    """One customer API: a spec, where to send calls, and how to authenticate.

    Args:
        spec: a file path, an http(s) URL, JSON/YAML text, a parsed dict, or
            a `LoadedSpec`.
        name: how sessions and reports refer to this integration.
        base_url: where calls go; wins over the spec's `servers`.
        auth: the credential(s) configured for the API (`ApiKey`,
            `BearerToken`, `JwtForward`, `BasicAuth`); they are matched to the
            spec's security schemes by kind.
        credentials: credentials by the spec's security scheme name, for specs
            that declare several schemes of one kind.
        verification_secret: the secret the customer's backend signs identity
            tokens with (HS256); needed for `JwtForward`.
        server_variables: values for `{variables}` in server URLs.
        spec_location: the URL the spec came from, for relative server URLs.
        spec_root_dir: the folder a multi-file spec's `$ref`s may reach; by
            default the root file's own folder.
        operations: which operations become tools (`OperationFilter`); by
            default all but the deprecated ones.
        doubled_prefix: what to do when a base URL (configured, or a spec's
            server) ends with the prefix every path starts with (`.../api` +
            `/api/users`): `collapse` (default, sends `/api/users` once, with
            a warning in the report), `keep`, or `error`.
    """

    def __init__(
        self,
        spec: SpecSource,
        *,
        name: str = "default",
        base_url: str | None = None,
        auth: Credential | Sequence[Credential] | None = None,
        credentials: Mapping[str, Credential] | None = None,
        verification_secret: str | None = None,
        server_variables: Mapping[str, str] | None = None,
        spec_location: str | None = None,
        doubled_prefix: DoubledPrefix = "collapse",
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_result_chars: int = 20_000,
        max_response_bytes: int = 5_000_000,
        allow_remote_refs: bool = False,
        spec_root_dir: str | os.PathLike[str] | None = None,
        operations: OperationFilter | None = None,
    ) -> None:
        _check_settings(
            name=name,
            base_url=base_url,
            auth=auth,
            credentials=credentials,
            verification_secret=verification_secret,
            server_variables=server_variables,
            spec_location=spec_location,
            retry=retry,
            timeout=timeout,
            max_result_chars=max_result_chars,
            max_response_bytes=max_response_bytes,
            operations=operations,
            spec_root_dir=spec_root_dir,
            allow_remote_refs=allow_remote_refs,
        )
        self.name = name
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_result_chars = max_result_chars
        self.max_response_bytes = max_response_bytes
        if doubled_prefix not in ("collapse", "keep", "error"):
            raise ConfigError(
                f"integration {name!r}: doubled_prefix is {doubled_prefix!r}; "
                "use 'collapse', 'keep' or 'error'.",
                setting="doubled_prefix",
            )
        self.doubled_prefix = doubled_prefix
        self.operations = operations or OperationFilter()

        if isinstance(spec, LoadedSpec):
            if spec_location is not None:
                check_location(spec_location)
            self.spec = spec
        else:
            self.spec = load_spec(
                spec,
                location=spec_location,
                allow_remote_refs=allow_remote_refs,
                root_dir=spec_root_dir,
            )
        self._location = spec_location or self.spec.location
        self._variables = {str(k): str(v) for k, v in (server_variables or {}).items()}
        self._base_url = (
            check_base_url(base_url, setting="base_url") if base_url else None
        )

        auth_list = _as_list(auth)
        explicit = dict(credentials or {})
        self._secrets = _secret_values([*auth_list, *explicit.values()])
        self._verifier = self._make_verifier(
            verification_secret, [*auth_list, *explicit.values()]
        )
        if verification_secret:
            self._secrets += (verification_secret,)
        self.redact = Redactor(self._secrets)
        self._session_redactors: dict[str, Redactor] = {}

        # Building allocates many small dicts and no cycles; the collector
        # would rescan the whole document again and again (a fifth of the
        # build on Cloudflare's spec).
        with collector_paused():
            self.tools, self.report = self._build(auth_list, explicit)
        self._by_name = {tool.name: tool for tool in self.tools}
        mask_query_credentials(
            b.name
            for t in self.tools
            for a in (t.security.anonymous, t.security.signed_in)
            if a is not None
            for b in a.bindings
            if b.location == "query"
        )
        self._anonymous = [t for t in self.tools if t.security.anonymous is not None]
        self._signed_in = [t for t in self.tools if t.security.signed_in is not None]
        logger.info(
            "integration %r: %d tools from %s (%d skipped)",
            name,
            len(self.tools),
            self.spec.source,
            len(self.report.skipped),
        )

    def __repr__(self) -> str:
        return (
            f"Integration({self.name!r}, {self.spec.source!r}, {len(self.tools)} tools)"
        )

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret, so results and errors can be redacted."""
        return self._secrets

    def _make_verifier(
        self, secret: str | None, credentials: list[Credential]
    ) -> IdentityVerifier | None:
        forwards = any(isinstance(c, JwtForward) for c in credentials)
        if secret is None:
            if forwards:
                raise ConfigError(
                    f"integration {self.name!r} forwards the user's identity token "
                    "(JwtForward) but has no verification_secret to verify it with. "
                    "Set verification_secret to the secret the customer's backend "
                    "signs identity tokens with.",
                    setting="verification_secret",
                )
            return None
        if len(secret.encode()) < 32:
            logger.warning(
                "integration %r: the verification secret is shorter than 32 bytes, "
                "below what HS256 calls for (RFC 7518 3.2); use a longer one",
                self.name,
            )
        return IdentityVerifier(secret)

    def _build(
        self, auth: list[Credential], explicit: dict[str, Credential]
    ) -> tuple[list[Tool], BuildReport]:
        document = self.spec.document
        source = self.spec.source
        resolver = RefResolver(
            document,
            source=source,
            broken_refs=self.spec.broken_refs,
            anchors=self.spec.anchors,
        )
        unusable: list[str] = []
        schemes = security_schemes(document, resolver, unusable)
        bindings = assign_credentials(
            schemes, auth=auth, explicit=explicit, source=source
        )
        self._prefix = _paths_prefix(document)
        self._notes: dict[str, None] = {}  # report warnings, in order, once each
        configured = self._undoubled(self._base_url) if self._base_url else None

        def base_url_for(
            operation: Mapping[str, Any], item: Mapping[str, Any], pointer: str
        ) -> str:
            return configured or self._server_for(operation, item, pointer)

        version = str(document.get("openapi", "3.0"))
        tools, report = build_tools(
            document,
            resolver=resolver,
            dialect="3.1" if version.startswith("3.1") else "3.0",
            integration=self.name,
            spec_version=self.spec.original_version,
            schemes=schemes,
            bindings=bindings,
            fallback=configured_bindings(auth),
            base_url_for=base_url_for,
            selection=self.operations,
        )
        report.warnings.extend(self.spec.warnings)
        report.warnings.extend(unusable)
        short = [secret for secret in self._secrets if len(secret) < 8]
        if short:
            # Redaction masks a secret wherever it occurs: "1" or "admin" would
            # be cut out of ids, sums and words in every result.
            report.warnings.append(
                f"{len(short)} configured secret(s) shorter than 8 characters: "
                "every occurrence in a result is masked, which can hide "
                "ordinary text. Use the real credential."
            )
        if not tools and report.skipped:
            first = report.skipped[0]
            raise SpecError(
                f"no operation could be turned into a tool; the first problem: "
                f"{first.skipped}",
                source=source,
                pointer=first.pointer,
            )
        report.warnings.extend(self._notes)
        report.warnings.extend(self._origin_warnings(tools))
        errors = {str(t.base_url_error) for t in tools if t.base_url_error}
        for error in sorted(errors):
            report.warnings.append(error)
            logger.warning("integration %r: %s", self.name, error)
        return tools, report

    def _note(self, message: str) -> None:
        """A server problem worked around: logged once and put in the report."""
        if message not in self._notes:
            self._notes[message] = None
            logger.warning("integration %r: %s", self.name, message)

    def _origin_warnings(self, tools: list[Tool]) -> list[str]:
        """What the report should say about where calls and credentials go."""
        warnings = []
        credentialed = {
            origin_of(t.base_url) for t in tools if t.base_url and _credentialed(t)
        }
        if not self._base_url and len(credentialed) > 1:
            shown = ", ".join(f"{s}://{h}:{p}" for s, h, p in sorted(credentialed))
            warnings.append(
                f"the spec sends credentialed calls to {len(credentialed)} origins "
                f"({shown}), each named in its servers; configure base_url to "
                "send every call to one"
            )
        plain = sorted(
            f"http://{host}:{port}"
            for scheme, host, port in credentialed
            if scheme == "http" and not is_loopback(host)
        )
        if plain:
            where = "the configured base_url" if self._base_url else "its servers"
            warnings.append(
                f"credentials are sent over plain http to {', '.join(plain)} (named "
                f"by {where}), where anyone on the network path can read them; "
                "configure an https base_url"
            )
        if not self._base_url:
            for url in sorted({t.base_url for t in tools if t.base_url}):
                if looks_like_placeholder(url):
                    warnings.append(
                        f"the spec's server {url} looks like a placeholder for the "
                        "customer's own host; configure base_url"
                    )
        return warnings

    def _undoubled(self, base: str, at: str = "") -> str:
        """`base` without the segments every path repeats (`.../api` +
        `/api/users`), as `doubled_prefix` says; reported once per base.
        `at` locates a spec's server; without it `base` is the configured one."""
        doubled = doubled_prefix(base, self._prefix)
        if not doubled or self.doubled_prefix == "keep":
            return base
        shown = "/" + "/".join(doubled)
        collapsed = base[: -len(shown)]
        example = str(next(iter(self.spec.document["paths"])))
        named = f"the spec's server {base} ({at})" if at else f"the base URL {base}"
        message = (
            f"{named} ends with {shown} and every path in {self.spec.source} "
            f"starts with {shown} (e.g. {example})"
        )
        remove = "configure base_url" if at else f"remove {shown} from the base URL"
        if self.doubled_prefix == "error":
            raise ConfigError(
                f"integration {self.name!r}: {message}. {remove[0].upper()}"
                f"{remove[1:]}, or set doubled_prefix='collapse' or 'keep'.",
                setting="base_url",
            )
        self._note(
            f"{message}; sending {join_url(collapsed, example)}, not "
            f"{join_url(base, example)}. Set doubled_prefix='keep' if the API "
            f"really repeats {shown}, or {remove}."
        )
        return collapsed

    def _server_for(
        self, operation: Mapping[str, Any], item: Mapping[str, Any], pointer: str
    ) -> str:
        """The spec's server for one operation (the first of the nearest
        `servers`), filled in and without a doubled prefix."""
        item_pointer = pointer.rsplit("/", 1)[0]
        for owner, at in (
            (operation, pointer),
            (item, item_pointer),
            (self.spec.document, ""),
        ):
            servers = owner.get("servers")
            if isinstance(servers, dict) and "url" in servers:
                # One server object written without its list: unambiguous.
                at = f"{at}/servers"
                self._note(f"{self.spec.source}#{at} is one server, not a list")
                server = servers
            elif isinstance(servers, list) and servers:
                at = f"{at}/servers/0"
                server = servers[0]
            else:
                continue
            url = self._fill(server, self._variables, at)
            return self._undoubled(url, f"{self.spec.source}#{at}")
        if self._location:
            return self._fill({"url": "/"}, {}, "/servers")
        servers = self.spec.document.get("servers")
        if servers is not None and not isinstance(servers, list):
            raise ConfigError(
                f"{self.spec.source}#/servers is {type(servers).__name__}, not a "
                f"list of server objects, and integration {self.name!r} has no "
                "base_url: there is nowhere to send calls. Configure base_url, or "
                "make servers a list of objects with a url.",
                setting="base_url",
            )
        raise ConfigError(
            f"{self.spec.source} declares no servers and integration {self.name!r} "
            "has no base_url: there is nowhere to send calls. Configure base_url.",
            setting="base_url",
        )

    def _fill(self, server: Any, values: Mapping[str, str], pointer: str) -> str:
        notes: list[str] = []
        url = fill_server_url(
            server,
            values=values,
            location=self._location,
            source=self.spec.source,
            pointer=pointer,
            notes=notes,
        )
        for note in notes:
            self._note(note)
        return url

    def tool(self, name: str, session: Session | None = None) -> Tool:
        """The tool called `name`, or `UnknownToolError` listing close names:
        only names `session` may use, when one is given."""
        tool = self._by_name.get(name)
        if tool is None:
            offered = (
                self._by_name
                if session is None
                else [t.name for t in self.tools_for(session)]
            )
            close = difflib.get_close_matches(str(name), offered, n=3)
            offer = (
                " Did you mean " + " or ".join(repr(c) for c in close) + "?"
                if close
                else ""
            )
            raise UnknownToolError(
                f"integration {self.name!r} has no tool named {name!r}.{offer}",
                tool=name,
                llm_message=f"There is no tool named {name!r}.{offer} "
                "Use one of the tools listed.",
            )
        return tool

    def redactor_for(self, session: Session) -> Redactor:
        """`redact` that also masks the session's identity token."""
        token = session.identity_token
        if not token:
            return self.redact
        redactor = self._session_redactors.get(token)
        if redactor is None:
            # A signed-in user makes many calls: their token's spellings are
            # worked out once, not on every call. Cleared whole when full,
            # which is safe with calls from several threads.
            if len(self._session_redactors) >= _SESSION_REDACTORS:
                self._session_redactors.clear()
            redactor = self.redact.with_secret(token)
            self._session_redactors[token] = redactor
        return redactor

    def tools_for(self, session: Session) -> list[Tool]:
        """The tools `session` may call (precomputed: no work per call)."""
        return self._signed_in if session.identified else self._anonymous

    def session(
        self, identity_token: str | None = None, *, on_invalid: str = "raise"
    ) -> Session:
        """A session for this integration, identified if the token verifies.

        A token that does not verify raises `IdentityTokenError` saying why, or
        with `on_invalid="anonymous"` gives an anonymous session whose
        `token_error` holds that error.
        """
        if identity_token is None:
            return Session(self.name)
        try:
            if self._verifier is None:
                raise IdentityTokenError(
                    f"integration {self.name!r} has no verification_secret, so "
                    "identity tokens cannot be verified. Configure it to sign users "
                    "in.",
                    reason="no_secret",
                )
            claims = self._verifier.verify(identity_token)
        except IdentityTokenError as exc:
            if on_invalid == "anonymous":
                logger.info(
                    "integration %r: identity token refused (%s)", self.name, exc.reason
                )
                return Session(self.name, token_error=exc)
            raise
        return Session(self.name, identity_token, claims)

    def verify_still_valid(self, session: Session) -> IdentityTokenError | None:
        """Re-check an identified session's token (it may have expired since)."""
        if not session.identified or self._verifier is None:
            return None
        try:
            self._verifier.verify(session.identity_token or "")
        except IdentityTokenError as exc:
            return exc
        return None


def _paths_prefix(document: Mapping[str, Any]) -> list[str]:
    """The leading segments every path of the document shares."""
    paths = document.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        return []
    return common_prefix(map(str, paths))


def _credentialed(tool: Tool) -> bool:
    """True when a call of `tool` may carry a configured credential."""
    return any(
        a is not None and bool(a.bindings)
        for a in (tool.security.anonymous, tool.security.signed_in)
    )


_CREDENTIALS = (ApiKey, BearerToken, JwtForward, BasicAuth)


def _check_settings(**settings: Any) -> None:
    """Each setting of the wrong kind is a `ConfigError` naming it, rather
    than an AttributeError deep inside the build (a value read from an unset
    environment variable, a dict where an object was meant)."""

    def refuse(setting: str, wanted: str) -> ConfigError:
        value = settings[setting]
        shown = type(value).__name__
        # Values that may hold a secret (a URL with a password) are named by
        # type alone.
        quiet = (
            "auth",
            "credentials",
            "verification_secret",
            "base_url",
            "spec_location",
        )
        if setting not in quiet:
            shown += f" {value!r}"[:80]
        return ConfigError(f"{setting} must be {wanted}, not {shown}.", setting=setting)

    if not isinstance(settings["name"], str) or not settings["name"]:
        raise refuse("name", "a non-empty string")
    for setting in ("base_url", "spec_location", "verification_secret"):
        value = settings[setting]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise refuse(setting, "a non-empty string, or left out (None)")
    auth = settings["auth"]
    items = [auth] if isinstance(auth, _CREDENTIALS) else auth
    if auth is not None and (
        isinstance(auth, str | bytes | Mapping)
        or not isinstance(items, Sequence)
        or not all(isinstance(c, _CREDENTIALS) for c in items)
    ):
        raise refuse(
            "auth",
            "a credential (ApiKey, BearerToken, JwtForward, BasicAuth) or a list "
            "of them",
        )
    credentials = settings["credentials"]
    given = [
        *(items or ()),
        *(credentials.values() if isinstance(credentials, Mapping) else ()),
    ]
    for credential in given:
        if not isinstance(credential, _CREDENTIALS):
            continue
        # A Basic password is sent base64-encoded, so any text will do
        # but a control character; keys and tokens go in headers as written.
        basic = isinstance(credential, BasicAuth)
        for value in credential.secret_values():
            if basic:
                bad = any(ord(c) < 32 or ord(c) == 127 for c in value)
            else:
                bad = (
                    not value
                    or value != value.strip()
                    or "\t" in value
                    or not header_safe(value)
                )
            if bad:
                # Shown by kind only: the value is a secret.
                raise ConfigError(
                    f"a {type(credential).__name__} secret has leading or trailing "
                    "whitespace, a line break or a character HTTP headers cannot "
                    "carry (a copy-paste slip?). Configure the value alone.",
                    setting="credentials"
                    if credential not in (items or ())
                    else "auth",
                )
    if credentials is not None and (
        not isinstance(credentials, Mapping)
        or not all(isinstance(c, _CREDENTIALS) for c in credentials.values())
        or not all(isinstance(k, str) for k in credentials)
    ):
        raise refuse("credentials", "a mapping of scheme names to credentials")
    for credential in given:
        if isinstance(credential, ApiKey) and not is_field_name(credential.header):
            raise ConfigError(
                f"ApiKey header {credential.header!r} is not a header name HTTP "
                "can carry (letters, digits and !#$%&'*+.^_`|~-).",
                setting="auth",
            )
    variables = settings["server_variables"]
    if variables is not None and not isinstance(variables, Mapping):
        raise refuse("server_variables", "a mapping of variable names to values")
    for key, value in (variables or {}).items():
        # None (an unset environment variable) would be sent as "None".
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(
                f"server_variables.{key} must be a string, not {type(value).__name__}.",
                setting=f"server_variables.{key}",
            )
    root = settings["spec_root_dir"]
    if root is not None and not isinstance(root, str | os.PathLike):
        raise refuse("spec_root_dir", "a folder path")
    if not isinstance(settings["allow_remote_refs"], bool):
        raise refuse("allow_remote_refs", "True or False")
    if settings["operations"] is not None and not isinstance(
        settings["operations"], OperationFilter
    ):
        raise refuse("operations", "an OperationFilter(...)")
    if settings["retry"] is not None and not isinstance(settings["retry"], RetryPolicy):
        raise refuse("retry", "a RetryPolicy(...)")
    timeout = settings["timeout"]
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (0 < timeout < float("inf"))
    ):
        raise refuse("timeout", "a positive number of seconds")
    for setting in ("max_result_chars", "max_response_bytes"):
        value = settings[setting]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise refuse(setting, "a positive integer")


def _as_list(auth: Credential | Sequence[Credential] | None) -> list[Credential]:
    if auth is None:
        return []
    if isinstance(auth, ApiKey | BearerToken | JwtForward | BasicAuth):
        return [auth]
    return list(auth)


def _secret_values(credentials: list[Credential]) -> tuple[str, ...]:
    values: list[str] = []
    for credential in credentials:
        values.extend(v for v in credential.secret_values() if v)
    for value in values:
        # Caught here rather than at send time, where httpx would quote the
        # offending value, secret and all, in its error message.
        if not all(" " <= c <= "~" for c in value):
            raise ConfigError(
                "a configured credential contains a character other than "
                "printable ASCII (a line break, tab, control character or "
                "non-ASCII letter), which cannot be sent in a header. Check how "
                "the secret was pasted.",
                setting="credentials",
            )
    return tuple(values)
