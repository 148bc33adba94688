"""Base URLs: server variables, relative servers and joining."""

import asyncio

import httpx
import pytest

from ourguide_caller import ApiKey, ConfigError, Integration, Runtime
from ourguide_caller._servers import (
    check_base_url,
    common_prefix,
    doubled_prefix,
    fill_server_url,
    join_url,
)

SERVER = {
    "url": "https://{region}.api.example.test/{version}",
    "variables": {
        "region": {"default": "eu", "enum": ["eu", "us"]},
        "version": {"default": "v2"},
    },
}


def fill(server, values=None, location=None):
    return fill_server_url(
        server,
        values=values or {},
        location=location,
        source="s.yaml",
        pointer="/servers/0",
    )


def test_defaults_fill_the_variables():
    """Without configured values the defaults are used."""
    assert "https://eu.api.example.test/v2" == fill(SERVER)


def test_configured_value_wins_and_is_checked_against_enum():
    """A configured value replaces the default; one outside the enum is an error."""
    assert "https://us.api.example.test/v2" == fill(SERVER, {"region": "us"})

    with pytest.raises(ConfigError) as caught:
        fill(SERVER, {"region": "apac"})

    assert "region" in str(caught.value)
    assert "server_variables.region" == caught.value.setting


def test_undeclared_variable_without_value_is_an_error():
    """A template variable with no default and no value names the setting."""
    with pytest.raises(ConfigError, match="merchantAccount"):
        fill({"url": "https://{merchantAccount}.test"})


def test_relative_server_needs_a_location():
    """A relative server URL resolves against the spec's URL, or is an error."""
    assert "https://host.test/api/v31" == fill(
        {"url": "/api/v31"}, location="https://host.test/openapi.json"
    )

    with pytest.raises(ConfigError, match="relative"):
        fill({"url": "/api/v31"})


@pytest.mark.parametrize(
    "base",
    ["https://gw.test/tenant-7/api", "https://gw.test/tenant-7/api/"],
)
def test_join_keeps_the_whole_base_path(base):
    """Joining keeps every segment of the base and never doubles a slash."""
    assert "https://gw.test/tenant-7/api/users/1" == join_url(base, "/users/1")


def test_doubled_prefix_detection():
    """The prefix the base ends with and every path starts with is found."""
    prefix = common_prefix(["/api/users", "/api/orders/{id}"])

    assert ["api"] == prefix
    assert ["api"] == doubled_prefix("https://x.test/api", prefix)
    assert [] == doubled_prefix("https://x.test/v1", prefix)
    assert [] == common_prefix(["/api/users", "/health"])


def test_base_url_must_be_absolute_and_clean():
    """A configured base URL must be absolute http(s) without credentials."""
    assert "https://x.test/api" == check_base_url(
        "https://x.test/api/", setting="base_url"
    )

    for bad in [
        "x.test/api",
        "ftp://x.test",
        "https://user:pw@x.test",
        "https://x.test?k=1",
    ]:
        with pytest.raises(ConfigError):
            check_base_url(bad, setting="base_url")


OKTA_LIKE = {
    "url": "https://{yourOktaDomain}/api",
    "variables": {"yourOktaDomain": {"default": "subdomain.okta.com"}},
}


def test_a_variable_standing_for_the_customers_host_must_be_set():
    """`{yourOktaDomain}` left at its example default is refused, naming it."""
    with pytest.raises(ConfigError, match="server_variables.yourOktaDomain") as info:
        fill(OKTA_LIKE)

    assert info.value.setting == "server_variables.yourOktaDomain"
    assert "https://acme.okta.com/api" == fill(
        OKTA_LIKE, {"yourOktaDomain": "acme.okta.com"}
    )


@pytest.mark.parametrize(
    "url",
    ["https://drapp.yourOrgSubDomain.okta.com", "https://oag.domain.tld/x"],
)
def test_placeholder_hosts_written_out_are_refused(url):
    with pytest.raises(ConfigError, match="placeholder host"):
        fill({"url": url})


@pytest.mark.parametrize(
    "url", ["https://api.example.com", "http://localhost:8080", "https://your.io"]
)
def test_example_hosts_that_could_be_meant_are_kept(url):
    assert url == fill({"url": url})


def test_no_request_or_credential_goes_to_a_placeholder_server():
    """With a key configured and no base_url, the call fails before sending."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [OKTA_LIKE],
        "paths": {
            "/users": {"get": {"operationId": "listUsers", "responses": {"200": {}}}}
        },
    }
    sent: list[httpx.Request] = []
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    )
    integration = Integration(
        document, auth=ApiKey(key="SSWS secret-1", header="Authorization")
    )

    async def main() -> None:
        async with Runtime(integration, client=client) as runtime:
            await runtime.call(runtime.session(), "listUsers", {})

    with pytest.raises(ConfigError, match="yourOktaDomain"):
        asyncio.run(main())
    assert sent == []
    assert any("yourOktaDomain" in w for w in integration.report.warnings)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("wss://stream.example.test", "uses wss:"),
        ("https://x.example.test/api?v=2", "carries a query"),
    ],
)
def test_servers_that_cannot_be_a_base_url_say_why(url, problem):
    with pytest.raises(ConfigError, match=problem):
        fill({"url": url})


@pytest.mark.parametrize(
    "url", ["http://[::1", "https://x.example.test:99999/", "https://[not-ip]/"]
)
def test_server_urls_that_do_not_parse_are_config_errors(url):
    with pytest.raises(ConfigError, match="not a valid URL"):
        fill({"url": url})
