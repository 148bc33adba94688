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

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urljoin, urlsplit

from ._errors import ConfigError, SpecError

__all__ = [
    "check_base_url",
    "common_prefix",
    "doubled_prefix",
    "fill_server_url",
    "fixed_query",
    "is_loopback",
    "join_url",
    "looks_like_placeholder",
    "origin_of",
    "shown_url",
]

_VARIABLE = re.compile(r"\{([^{}]*)\}")
# A DNS name or an IPv4 address; urlsplit strips the brackets of IPv6 ones.
_HOST = re.compile(r"^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|[0-9a-f:.]+)$", re.IGNORECASE)
# Words that name what the customer fills in: `your-domain`, `YOUR_HOST`,
# `myCompanyName`. Kept to nouns for a host, so real names that merely start
# with "my" (`myshopify.com`) stay usable.
_OWN_WORDS = (
    "domain|subdomain|host|hostname|server|servername|company|companyname|org|"
    "orgname|organization|organisation|instance|instancename|tenant|tenantname|"
    "account|shop|store|site|team|workspace|resource|project|url|api|apiurl|"
    "base|baseurl|app|application|bucket|environment|env|region|name|user|"
    "username|customer|client|endpoint"
)
# A label that starts with "your" and ends with such a word (`your-domain`,
# `yourOktaDomain`), or is "my-" and such words only (`my-company-name`; other
# words make a real name, `my-json-server`), perhaps ending in "name"/"id" or
# a digit. "my" needs its separator unless a narrow word follows
# (`myaccount.google.com` is real, `mycompany.zendesk.com` is not).
_OWN_LABEL = re.compile(
    rf"(^|[-_])your[a-z0-9_-]*?({_OWN_WORDS})([-_]?(name|id))?[0-9]*$"
    rf"|(^|[-_])my[-_]((?:{_OWN_WORDS})[-_]?)*({_OWN_WORDS})([-_]?(name|id))?[0-9]*$"
    r"|^my(subdomain|tenant|company|companyname|domain|domainname|org|instance|"
    r"site|shop|store|server|host|hostname|resource|resourcename|workspace)$"
)
# The label a domain is registered under (`your-server` in
# `robot-ws.your-server.de`) is judged by fewer words: registered names are
# real more often.
_DOMAIN_WORDS = (
    "company|companyname|domain|site|website|shop|store|app|api|url|apiurl|"
    "host|hostname|org|organization|business"
)
_OWN_DOMAIN = re.compile(
    rf"^(your[-_]?|my[-_])((?:{_DOMAIN_WORDS})[-_]?)*({_DOMAIN_WORDS})"
    r"([-_]?(name|id))?[0-9]*$"
)
# A leftmost label that is only such a word, under a vendor's domain
# (`subdomain.zendesk.com`, `company-name.atlassian.net`): the spec shows
# where your name goes. `company` alone is a real label (Clearbit's).
_GENERIC_LABELS = frozenset(
    "subdomain instance instancename tenant tenantname companyname "
    "domain domainname org orgname organization organisation hostname "
    "servername".split()
)
# A label that says what to write there: `INSERT_HOST_HERE`,
# `enter-your-domain`, `changeme`, `TODO` (`insert-coin`, `help-here` are
# names).
_FILL_IN_LABEL = re.compile(
    r"^(insert|enter|put)[-_]?(your|the)?[-_].*here$|^(insert|enter)[-_]?your[-_]"
    r"|^(placeholder|change[-_]?me|replace[-_]?me|fill[-_]?in|todo|tbd|x{3,})$"
)
# A label below a vendor's domain that names a field of yours
# (`CUSTOMER_NAME.vendor.com`, `shopname.myshopify.com`).
_NAMED_FIELD = re.compile(
    r"^(customer|client|company|tenant|account|org|user|shop|store|site)"
    r"[-_]?(name|id)$"
)
# Variables left at a default equal to their own name that stand for yours
# (`{subdomain}` = `subdomain`); `{api}` = `api` or `{version}` = `version`
# are ordinary values.
_FILL_VARIABLES = frozenset(
    "subdomain tenant tenantname instance instancename company companyname org "
    "orgname organization organisation account accountname region shop store "
    "site team workspace resource project customer client domain host hostname "
    "server servername bucket environment".split()
)
# Hosts that are probably examples, but could be meant: reported, still used.
_EXAMPLE_HOST = re.compile(
    r"(^|\.)example([-_][a-z0-9-]*)?(\.|$)|\.(invalid|example)$|^localhost$"
)
# A server variable that the customer must fill (`{yourOktaDomain}`): its
# default is only an illustration, even when it looks like a real host.
_OWN_VARIABLE = re.compile(
    rf"^(your|my)[a-z0-9_-]*?({_OWN_WORDS})([-_]?(name|id))?$|^(your|my)$",
    re.IGNORECASE,
)
# Up to the last "@" of the URL: a password may hold "/", "?", "#" or "@",
# and hiding a path's "@" too is the safe side of that doubt.
_USERINFO = re.compile(r"(//)[^\s'\"]*@")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/*")
# A `name=` in a query or fragment, and the value after it.
_QUERY_VALUE = re.compile(r"([?&#][^=&#\s'\"]*=)[^&#\s'\"]*")
# A URL in a message, from its `//` to the end of its query.
_URL_QUERY = re.compile(r"//[^\s'\"?#]*\?[^\s'\"#]+")


def shown_url(url: str) -> str:
    """One URL fit for a message or log: any user name and password, and the
    values in its query and fragment, replaced by `***`, so that a secret
    written into a URL is never repeated. Everything up to the last "@" is
    taken as the user name and password (a password may hold spaces, "/" or
    "@"), with or without a scheme."""
    at = url.rfind("@")
    if at != -1:
        scheme = _SCHEME.match(url)
        start = scheme.end() if scheme else 0
        if at >= start:
            url = url[:start] + "***" + url[at:]
    if "?" in url or "#" in url:
        url = _QUERY_VALUE.sub(r"\1***", url)
    return url


def _mask_query(text: str) -> str:
    """Every `name=value` in the query of a URL in `text` as `name=***`: a
    presigned or tokened URL carries its secret there (`?token=...`)."""

    return _URL_QUERY.sub(lambda m: _QUERY_VALUE.sub(r"\1***", m.group(0)), text)


def shown_text(text: str) -> str:
    """`text` (a message that may quote URLs) with the user names, passwords
    and query values of the URLs in it replaced by `***`."""
    text = _USERINFO.sub(r"\1***@", text)
    if "?" in text:
        text = _mask_query(text)
    return text


def is_loopback(host: str) -> bool:
    """True for this machine (`localhost`, 127.0.0.0/8, ::1): plain http there
    is the test and development case, not a credential on the network."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        # The resolver also reads IPv4 shorthand (`127.1`, `0x7f.0.0.1`).
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _placeholder_host(host: str, written: str | None = None) -> bool:
    """True for hosts that stand for the customer's own (`your-domain.com`,
    `YOUR_HOST`, `subdomain.zendesk.com`, `oag.domain.tld`). `written` is the
    host as the spec wrote it: capitals there mark a template."""
    labels = host.lower().rstrip(".").split(".")
    cased = (written or host).rstrip(".").split(".")
    shouting = [c.isupper() for c in cased] if len(cased) == len(labels) else []
    if len(labels) == 1:
        # A lone `HOST` or `BASE_URL` names no machine; a lone `api` or
        # `my-api` is a service on a private network, and is kept.
        return (
            any(shouting)
            or labels[0].startswith("your")
            or bool(_FILL_IN_LABEL.search(labels[0]))
        )
    if labels[-1] == "tld":
        return True
    # `SHOP_NAME.myshopify.com`: one label in capitals among lower-case ones.
    if any(shouting) and not all(shouting):
        return True
    *below, registered, _ = labels
    # No registrar takes "_" in a domain name: `CHANGE_ME.com` is a template.
    if "_" in registered or _OWN_DOMAIN.search(registered):
        return True
    if registered.startswith("my") and _OWN_LABEL.fullmatch(registered):
        return True
    if _FILL_IN_LABEL.search(registered) and registered != "placeholder":
        return True
    if any(
        _OWN_LABEL.search(label)
        or _FILL_IN_LABEL.search(label)
        or _NAMED_FIELD.search(label)
        for label in below
    ):
        return True
    # `your.domain.com`, `api.your.domain.com` (but `your.io` is a domain).
    if "your" in below:
        return True
    first = labels[0].replace("-", "").replace("_", "")
    return len(labels) > 2 and first in _GENERIC_LABELS


def _plain(name: str) -> str:
    """A name compared loosely: `Sub_Domain`, `sub-domain` -> `subdomain`."""
    return re.sub(r"[-_\s]", "", name).lower()


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
    if any(unicodedata.category(c)[0] in "CZ" for c in url.strip()):
        # urlsplit drops line breaks silently: `https://x.com/\r\nHost: y`
        # would become a path.
        raise ConfigError(
            f"{setting} {shown_url(url.strip())!r} holds a space, line break, "
            "control or invisible formatting character; give the URL alone.",
            setting=setting,
        )
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ConfigError(
            f"{setting} {shown_url(url)!r} is not a valid URL "
            f"({shown_text(str(exc))}).",
            setting=setting,
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{setting} {shown_url(url)!r} is not an absolute http(s) URL. Give "
            "the full base URL, e.g. https://api.example.com/v1.",
            setting=setting,
        )
    if "@" in parts.netloc:
        raise ConfigError(
            f"{setting} must not carry credentials in the URL; configure them "
            "as credentials instead.",
            setting=setting,
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{setting} must not carry a query or fragment; put only scheme, "
            "host and path prefix there.",
            setting=setting,
        )
    return parts.geturl().rstrip("/")


def fill_server_url(
    server: Any,
    *,
    values: Mapping[str, str],
    location: str | None,
    source: str,
    pointer: str,
    notes: list[str] | None = None,
) -> str:
    """One Server Object -> an absolute base URL without a trailing slash.

    What was changed to make it usable (a user name and password left out)
    is appended to `notes`, for the build report.
    """
    if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
        raise SpecError(
            "a server must be an object with a string `url`.",
            source=source,
            pointer=pointer,
        )
    template = server["url"]
    declared = server.get("variables") or {}
    defaulted: list[str] = []
    filled: dict[str, str] = {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        spec = declared.get(name) if isinstance(declared, Mapping) else None
        if name in values:
            value = str(values[name])
            allowed = spec.get("enum") if isinstance(spec, Mapping) else None
            if allowed is not None and not isinstance(allowed, list):
                # `enum: eu-west` is one value, not its letters.
                allowed = [allowed]
            if allowed and value not in [str(v) for v in allowed]:
                raise ConfigError(
                    f"server variable {name!r} is set to {value!r}, which is not "
                    f"one of {', '.join(map(str, allowed))} allowed by {source} "
                    f"at #{pointer}. Pick one of those values.",
                    setting=f"server_variables.{name}",
                )
            filled[name] = value
            return value
        default = spec.get("default") if isinstance(spec, Mapping) else None
        # A number (a port, a version) reads plainly; null or an object would
        # end up in the URL as "None" or "{...}".
        if isinstance(default, str | int | float) and not isinstance(default, bool):
            defaulted.append(name)
            filled[name] = str(default)
            return filled[name]
        if default is not None or (isinstance(spec, Mapping) and "default" in spec):
            raise ConfigError(
                f"server URL {shown_url(template)!r} ({source}#{pointer}) gives "
                f"the variable {{{name}}} the default {default!r}, which is not a "
                f"string. Set server_variables.{name} or configure a base URL.",
                setting=f"server_variables.{name}",
            )
        raise ConfigError(
            f"server URL {shown_url(template)!r} ({source}#{pointer}) uses the "
            f"variable {{{name}}}, which has no default. Set "
            f"server_variables.{name} or configure a base URL.",
            setting=f"server_variables.{name}",
        )

    url = _VARIABLE.sub(substitute, template).strip()
    parts = _split_server_url(url, source, pointer)
    doubled = next((n for n, v in filled.items() if "://" in v), None)
    if doubled is not None and parts.scheme and url.count("://") > 1:
        raise ConfigError(
            f"the server URL {shown_url(template)!r} ({source}#{pointer}) already "
            f"has a scheme, and {{{doubled}}} brings another "
            f"({shown_url(filled[doubled])!r}), giving {shown_url(url)!r}. Set "
            f"server_variables.{doubled} to a host name alone, or configure "
            "base_url.",
            setting=f"server_variables.{doubled}",
        )
    if not parts.scheme:
        first = url.split("/", 1)[0]
        if "." in first and _HOST.match(first) and not first.startswith("."):
            # `api.vendor.com/v2`: read as a relative path it would send calls
            # (and credentials) to whatever host serves the spec.
            raise ConfigError(
                f"the server URL {shown_url(url)!r} ({source}#{pointer}) has no "
                f"scheme. Write it as https://{shown_url(url)} in the spec, or "
                "configure base_url.",
                setting="base_url",
            )
        if not url:
            # OpenAPI's default server is "/"; an empty URL says the same.
            url = "/"
        if location is None:
            raise ConfigError(
                f"the server URL {shown_url(url)!r} ({source}#{pointer}) is "
                "relative and the spec was not loaded from a URL to resolve it "
                "against. Configure a base URL.",
                setting="base_url",
            )
        url = urljoin(location, url)
        parts = _split_server_url(url, source, pointer)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"the server URL {shown_url(url)!r} ({source}#{pointer}) uses "
            f"{parts.scheme}:, not http(s), so it cannot be called. Configure a "
            "base URL.",
            setting="base_url",
        )
    if "@" in parts.netloc:
        url = _without_userinfo(template, url, filled, source, pointer, notes)
        parts = _split_server_url(url, source, pointer)
    if not _HOST.match(parts.hostname or ""):
        raise ConfigError(
            f"the server URL {shown_url(url)!r} ({source}#{pointer}) is not a "
            "usable http(s) URL (its host looks like a placeholder). Configure a "
            "base URL.",
            setting="base_url",
        )
    if parts.query or parts.fragment:
        # Paths are appended to the server URL; a query would end up before them.
        raise ConfigError(
            f"the server URL {shown_url(url)!r} ({source}#{pointer}) carries a "
            "query or fragment, which a base URL cannot. Configure a base URL "
            "without it (and pass any fixed query value as an argument).",
            setting="base_url",
        )
    chosen = any(name not in defaulted for name in filled)
    _refuse_placeholder(
        shown_url(template),
        parts.hostname or "",
        declared,
        defaulted,
        source,
        pointer,
        chosen=chosen,
    )
    # Rebuilt from its parts so that an empty `?` or `#` at the end is gone:
    # kept, the paths appended to it would land in the query.
    return parts.geturl().rstrip("/")


def _split_server_url(url: str, source: str, pointer: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ConfigError(
            f"the server URL {shown_url(url)!r} ({source}#{pointer}) is not a "
            f"valid URL ({shown_text(str(exc))}). Configure a base URL.",
            setting="base_url",
        ) from None
    return parts


def _without_userinfo(
    template: str,
    url: str,
    filled: Mapping[str, str],
    source: str,
    pointer: str,
    notes: list[str] | None,
) -> str:
    """`url` without the user name and password the spec wrote into it.

    They are never sent: httpx would turn them into an `Authorization: Basic`
    header in place of the configured credential. Written by the spec, they
    are an example or a leak, and are left out with a note. Brought in by a
    variable's value (`good.test@evil.test`), they would change which host
    the call goes to, so the server is refused instead.
    """
    culprit = next((name for name, v in filled.items() if "@" in v), None)
    if culprit is not None:
        raise ConfigError(
            f"the server URL {shown_url(template)!r} ({source}#{pointer}) gets a "
            f"user name or password ('@') from the value of {{{culprit}}}, which "
            "would change the host calls go to. Set "
            f"server_variables.{culprit} to a host name alone, or configure "
            "base_url.",
            setting=f"server_variables.{culprit}",
        )
    parts = urlsplit(url)
    stripped = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    if notes is not None and "@" not in template:
        # A relative server took them from the URL the spec was loaded from.
        notes.append(
            f"the relative server URL {template!r} ({source}#{pointer}) is "
            "resolved against the URL the spec was loaded from, whose user name "
            f"and password are left out and never sent: calls go to {stripped}."
        )
    elif notes is not None:
        notes.append(
            f"the server URL {shown_url(url)!r} ({source}#{pointer}) carries a "
            f"user name and password; they are left out and never sent, so "
            f"calls go to {stripped}. Configure the API's credentials with auth= "
            "(or credentials=) instead."
        )
    return stripped


def _refuse_placeholder(
    template: str,
    host: str,
    declared: Any,
    defaulted: list[str],
    source: str,
    pointer: str,
    chosen: bool = False,
) -> None:
    """A server that stands for the customer's own host is never called: the
    spec's example would receive the calls and their credentials. A host the
    user chose (`chosen`: a server variable they set) is theirs to name."""
    for name in defaulted:
        default = str(declared[name]["default"])
        # `{subdomain}` left at `subdomain`, `{customer}` at `customer-name`.
        unfilled = _plain(default) in (_plain(name), _plain(name) + "name")
        if _OWN_VARIABLE.search(name) or (unfilled and _plain(name) in _FILL_VARIABLES):
            raise ConfigError(
                f"the server URL {template!r} ({source}#{pointer}) is a "
                f"placeholder: {{{name}}} stands for your own value and is left "
                f"at the spec's example {shown_url(default)!r}. Set "
                f"server_variables.{name}, or configure base_url.",
                setting=f"server_variables.{name}",
            )
    if not chosen and _placeholder_host(host, _written_host(template)):
        raise ConfigError(
            f"the server URL {template!r} ({source}#{pointer}) names the "
            f"placeholder host {host!r}, which stands for your own. Configure "
            "base_url.",
            setting="base_url",
        )


def _written_host(url: str) -> str | None:
    """The host of `url` in the case it was written in (urlsplit lowers it),
    or None when it cannot be told (a variable or an IPv6 address)."""
    netloc = url.partition("//")[2].split("/")[0].split("?")[0].split("#")[0]
    host = netloc.rpartition("@")[2]
    if not host or "{" in host or host.startswith("["):
        return None
    return host.rsplit(":", 1)[0] if ":" in host else host


def looks_like_placeholder(url: str) -> bool:
    """True for hosts vendors write as examples (`example.com`, `localhost`):
    calls would probably go nowhere useful. (Hosts that stand for the
    customer's own, such as `yourOktaDomain`, are refused when filled in.)"""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # `https://]x[`: no host to judge
        return False
    return bool(
        _EXAMPLE_HOST.search(host) or _placeholder_host(host, _written_host(url))
    )


def fixed_query(path: str) -> tuple[str, list[tuple[str, str]]]:
    """A path key split from the query it writes out (`/search?type=user`):
    the path, and the fixed pairs, decoded, to send before the arguments'.
    A fragment is dropped, as no request carries one."""
    path = path.partition("#")[0]
    path, _, query = path.partition("?")
    return path, parse_qsl(query, keep_blank_values=True)


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
