"""Base URLs: which server an operation is sent to, and how paths are joined.

The configured base URL wins over everything in the spec. Otherwise the
operation's own `servers` are used, then its path item's, then the document's
first server, with `{variables}` filled from the configuration or their
defaults. A relative server URL is resolved against the URL the spec was
loaded from.

Joining keeps the base URL's whole path and never doubles a slash:

    join("https://gw.test/tenant-7/api/", "/users/1")
    -> "https://gw.test/tenant-7/api/users/1"

(`urllib.parse.urljoin` would drop `/tenant-7/api` here, because the path
starts with a slash.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from ._errors import ConfigError, SpecError

__all__ = [
    "check_base_url",
    "common_prefix",
    "doubled_prefix",
    "fill_server_url",
    "join_url",
    "looks_like_placeholder",
    "origin_of",
]

_VARIABLE = re.compile(r"\{([^{}]*)\}")
# A DNS name or an IPv4 address; urlsplit strips the brackets of IPv6 ones.
_HOST = re.compile(r"^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|[0-9a-f:.]+)$", re.IGNORECASE)
# Hosts that stand for the customer's own: no call or credential goes there.
_OWN_HOST = re.compile(
    r"(^|[.-])(your|my)[a-z]*(domain|org|subdomain|host|server|instance|company)"
    r"|(^|\.)domain\.tld$"
)
# Hosts that are probably examples, but could be meant: reported, still used.
_EXAMPLE_HOST = re.compile(r"(^|\.)example\.(com|org|net)$|^localhost$")
# A server variable that the customer must fill (`{yourOktaDomain}`): its
# default is only an illustration, even when it looks like a real host.
_OWN_VARIABLE = re.compile(r"^(your|my)[A-Z_-]|^(your|my)(domain|host|server)", re.I)


@lru_cache(maxsize=256)  # every tool of an integration asks for the same few
def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port made explicit."""
    parts = urlsplit(url)
    port = parts.port
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_base_url(url: str, *, setting: str) -> str:
    """A configured base URL must be absolute http(s) with a host; returns it
    without a trailing slash."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ConfigError(
            f"{setting} {url!r} is not a valid URL ({exc}).", setting=setting
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{setting} {url!r} is not an absolute http(s) URL. Give the full "
            "base URL, e.g. https://api.example.com/v1.",
            setting=setting,
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{setting} must not carry a query or fragment; put only scheme, "
            "host and path prefix there.",
            setting=setting,
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"{setting} must not carry credentials in the URL; configure them "
            "as credentials instead.",
            setting=setting,
        )
    return url.strip().rstrip("/")


def fill_server_url(
    server: Any,
    *,
    values: Mapping[str, str],
    location: str | None,
    source: str,
    pointer: str,
) -> str:
    """One Server Object -> an absolute base URL without a trailing slash."""
    if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
        raise SpecError(
            "a server must be an object with a string `url`.",
            source=source,
            pointer=pointer,
        )
    template = server["url"]
    declared = server.get("variables") or {}
    defaulted: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        spec = declared.get(name) if isinstance(declared, Mapping) else None
        if name in values:
            value = str(values[name])
            allowed = spec.get("enum") if isinstance(spec, Mapping) else None
            if allowed and value not in [str(v) for v in allowed]:
                raise ConfigError(
                    f"server variable {name!r} is set to {value!r}, which is not "
                    f"one of {', '.join(map(str, allowed))} allowed by {source} "
                    f"at #{pointer}. Pick one of those values.",
                    setting=f"server_variables.{name}",
                )
            return value
        if isinstance(spec, Mapping) and "default" in spec:
            defaulted.append(name)
            return str(spec["default"])
        raise ConfigError(
            f"server URL {template!r} ({source}#{pointer}) uses the variable "
            f"{{{name}}}, which has no default. Set server_variables.{name} or "
            "configure a base URL.",
            setting=f"server_variables.{name}",
        )

    url = _VARIABLE.sub(substitute, template).strip()
    parts = _split_server_url(url, source, pointer)
    if not parts.scheme:
        if location is None:
            raise ConfigError(
                f"the server URL {url!r} ({source}#{pointer}) is relative and the "
                "spec was not loaded from a URL to resolve it against. Configure "
                "a base URL.",
                setting="base_url",
            )
        url = urljoin(location, url)
        parts = _split_server_url(url, source, pointer)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"the server URL {url!r} ({source}#{pointer}) uses {parts.scheme}:, "
            "not http(s), so it cannot be called. Configure a base URL.",
            setting="base_url",
        )
    if not _HOST.match(parts.hostname or ""):
        raise ConfigError(
            f"the server URL {url!r} ({source}#{pointer}) is not a usable http(s) "
            "URL (its host looks like a placeholder). Configure a base URL.",
            setting="base_url",
        )
    if parts.query or parts.fragment:
        # Paths are appended to the server URL; a query would end up before them.
        raise ConfigError(
            f"the server URL {url!r} ({source}#{pointer}) carries a query or "
            "fragment, which a base URL cannot. Configure a base URL without it "
            "(and pass any fixed query value as an argument).",
            setting="base_url",
        )
    _refuse_placeholder(template, parts.hostname or "", defaulted, source, pointer)
    return url.rstrip("/")


def _split_server_url(url: str, source: str, pointer: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ConfigError(
            f"the server URL {url!r} ({source}#{pointer}) is not a valid URL "
            f"({exc}). Configure a base URL.",
            setting="base_url",
        ) from None
    return parts


def _refuse_placeholder(
    template: str, host: str, defaulted: list[str], source: str, pointer: str
) -> None:
    """A server that stands for the customer's own host is never called: the
    spec's example would receive the calls and their credentials."""
    own = [name for name in defaulted if _OWN_VARIABLE.search(name)]
    if own:
        name = own[0]
        raise ConfigError(
            f"the server URL {template!r} ({source}#{pointer}) is a placeholder: "
            f"{{{name}}} stands for your own host and is left at the spec's "
            f"example value. Set server_variables.{name}, or configure base_url.",
            setting=f"server_variables.{name}",
        )
    if _OWN_HOST.search(host.lower()):
        raise ConfigError(
            f"the server URL {template!r} ({source}#{pointer}) names the "
            f"placeholder host {host!r}, which stands for your own. Configure "
            "base_url.",
            setting="base_url",
        )


def looks_like_placeholder(url: str) -> bool:
    """True for hosts vendors write as examples (`example.com`, `localhost`):
    calls would probably go nowhere useful. (Hosts that stand for the
    customer's own, such as `yourOktaDomain`, are refused when filled in.)"""
    host = (urlsplit(url).hostname or "").lower()
    return bool(_EXAMPLE_HOST.search(host) or _OWN_HOST.search(host))


def join_url(base: str, path: str) -> str:
    """Base URL + path template, keeping the base's whole path, one slash."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def common_prefix(paths: Iterable[str]) -> list[str]:
    """The leading segments every path shares (template segments excluded)."""
    prefix: list[str] | None = None
    for path in paths:
        segments = _segments(path)
        if prefix is None:
            # A template segment ends the usable prefix: `/{tenant}/x` has none.
            literal = segments
            for index, segment in enumerate(segments):
                if "{" in segment:
                    literal = segments[:index]
                    break
            prefix = literal
            continue

        keep = 0
        while keep < min(len(prefix), len(segments)):
            if prefix[keep] != segments[keep]:
                break
            keep += 1
        prefix = prefix[:keep]
        if not prefix:
            break
    return prefix or []


def doubled_prefix(base_url: str, prefix: list[str]) -> list[str]:
    """The longest run of segments the base URL ends with and every path
    starts with (`/api` in `https://x.test/api` + `/api/users`)."""
    base = _segments(urlsplit(base_url).path)
    for size in range(min(len(base), len(prefix)), 0, -1):
        if base[-size:] == prefix[:size]:
            return prefix[:size]
    return []
