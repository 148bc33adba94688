"""Base URLs: server variables, relative servers and joining."""

import pytest

from ourguide_caller import ConfigError
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
