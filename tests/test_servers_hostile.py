"""Servers written to mislead: credentials in the URL, placeholder hosts,
doubled prefixes, literal queries in path keys, plain http."""

import asyncio
import logging
from typing import Any

import httpx
import pytest

from ourguide_caller import ApiKey, BearerToken, ConfigError, Integration, Runtime
from ourguide_caller._servers import (
    check_base_url,
    fill_server_url,
    looks_like_placeholder,
)

TOKEN = "tok-SECRET-1"


def spec(servers: Any, paths: Any = None) -> dict[str, Any]:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths
        or {"/users": {"get": {"operationId": "listUsers", "responses": {"200": {}}}}},
    }
    if servers is not None:
        document["servers"] = servers
    return document


def op(name: str, **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": name, "responses": {"200": {}}, **extra}}


def send(
    integration: Integration, tool: str, arguments: dict[str, Any] | None = None
) -> list[httpx.Request]:
    """Call `tool` on a mock transport; the requests that went out."""
    sent: list[httpx.Request] = []
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    )

    async def main() -> None:
        async with Runtime(integration, client=client) as runtime:
            await runtime.call(runtime.session(), tool, arguments or {})

    asyncio.run(main())
    return sent


def fill(
    server: dict[str, Any],
    notes: list[str] | None = None,
    location: str | None = None,
) -> str:
    return fill_server_url(
        server,
        values={},
        location=location,
        source="s",
        pointer="/servers/0",
        notes=notes,
    )


# --- credentials written into a server URL ----------------------------------


def test_userinfo_in_a_spec_server_is_left_out_and_reported(caplog):
    """`https://user:pass@host` never turns into a Basic header in place of the
    configured token; the report says so without the password."""
    caplog.set_level(logging.WARNING, logger="ourguide_caller")
    integration = Integration(
        spec([{"url": "https://user:pa55word@x.test/api"}]),
        auth=BearerToken(token=TOKEN),
    )

    [request] = send(integration, "listUsers")

    assert "https://x.test/api/users" == str(request.url)
    assert f"Bearer {TOKEN}" == request.headers["authorization"]
    assert any("never sent" in w for w in integration.report.warnings)
    shown = " ".join([*integration.report.warnings, caplog.text, str(integration)])
    assert "pa55word" not in shown and "user:" not in shown


def test_userinfo_brought_by_a_variable_is_refused():
    """A variable whose value holds `@` would move the call to another host."""
    server = {
        "url": "https://{host}/",
        "variables": {"host": {"default": "good.test@evil.test"}},
    }
    integration = Integration(spec([server]), auth=BearerToken(token=TOKEN))

    with pytest.raises(ConfigError, match="server_variables.host") as caught:
        send(integration, "listUsers")
    assert "server_variables.host" == caught.value.setting


@pytest.mark.parametrize(
    "url",
    [
        "wss://u:pa55word@x.test",
        "https://u:pa55word@x.test:99999/",
        "https://u:pa55word@x.test/?q=1",
        "https://u:pa55word@{missing}.test",
    ],
)
def test_server_errors_never_show_a_password(url):
    with pytest.raises(ConfigError) as caught:
        fill({"url": url})
    assert "pa55word" not in str(caught.value)


def test_base_url_errors_never_show_a_password():
    with pytest.raises(ConfigError) as caught:
        check_base_url("https://u:pa55word@x.test:99999", setting="base_url")
    assert "pa55word" not in str(caught.value)


# --- placeholder hosts -------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        {"url": "https://your-domain.com/api"},
        {"url": "https://YOUR_HOST/api"},
        {"url": "https://api.my-company-name.com"},
        {"url": "https://company-name.atlassian.net"},
        {"url": "https://acme.domain.tld"},
        {
            "url": "https://{subdomain}.zendesk.com",
            "variables": {"subdomain": {"default": "subdomain"}},
        },
        {
            "url": "https://{instance}.service-now.com",
            "variables": {"instance": {"default": "instance"}},
        },
        {
            "url": "https://{Tenant_Name}.auth.test",
            "variables": {"Tenant_Name": {"default": "tenant-name"}},
        },
        {
            "url": "https://{your_site}.vendor.test",
            "variables": {"your_site": {"default": "acme"}},
        },
        {"url": "https://your-resource-name.openai.azure.com/openai"},
        {"url": "https://your-shop.myshopify.com/admin"},
        {"url": "https://my-store.vendor.test"},
        {"url": "https://yourteam.slack.com/api"},
        {"url": "https://your-site.atlassian.net"},
        {"url": "https://youraccount.zendesk.com"},
        {"url": "https://YOUR_ACCOUNT_ID.suitetalk.api.netsuite.com"},
        {"url": "https://my-workspace.vendor.test"},
        {"url": "https://YOUR_BASE_URL/api"},
        {"url": "https://your-api-url.com"},
        {"url": "https://yourname.vendor.test"},
        {"url": "https://your-app-name.herokuapp.com"},
        {"url": "https://your-bucket.s3.amazonaws.com"},
        {"url": "https://your.domain.com"},
        {"url": "https://api.your.domain.com"},
        {"url": "https://your-region.api.vendor.test"},
        {"url": "https://CUSTOMER_NAME.vendor.test"},
        {"url": "https://INSERT_HOST_HERE/v1"},
        {"url": "https://HOST/v1"},
        {
            "url": "https://{customer}.vendor.test",
            "variables": {"customer": {"default": "customer-name"}},
        },
        {"url": "https://mycompany.zendesk.com"},
        {"url": "https://mytenant.okta.com"},
        {"url": "https://CHANGE_ME.com"},
        {"url": "https://BASE_URL/v1"},
        {"url": "https://API_HOST"},
        {"url": "https://HOST"},
        {"url": "https://TODO/v1"},
        {"url": "https://api.mydomain.com"},
        {"url": "https://myserver.com"},
        {"url": "https://SHOP_NAME.myshopify.com"},
        {"url": "https://shopname.myshopify.com"},
        {"url": "https://MyDomainName.my.salesforce.com"},
        {"url": "https://xxxx.zendesk.com"},
        {"url": "https://myresource.openai.azure.com"},
        {"url": "https://enter-your-domain.vendor.test"},
    ],
)
def test_placeholder_servers_get_no_request_or_credential(server):
    integration = Integration(spec([server]), auth=BearerToken(token=TOKEN))

    with pytest.raises(ConfigError, match="placeholder"):
        send(integration, "listUsers")
    assert integration.tool("listUsers").base_url is None


def test_a_placeholder_variable_works_once_set():
    server = {
        "url": "https://{subdomain}.zendesk.com",
        "variables": {"subdomain": {"default": "subdomain"}},
    }
    integration = Integration(spec([server]), server_variables={"subdomain": "acme"})

    assert "https://acme.zendesk.com" == integration.tool("listUsers").base_url


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.myshopify.com/admin",
        "https://account.box.com/api/oauth2",
        "https://host.docker.internal:8080",
        "https://yourls.org/api",
        "https://mydomainservice.test",
        "https://mysql.vendor.test/v1",
        "https://your.io",
        "https://company.clearbit.com/v2",
        "https://domain.com/api",
        "https://hostname.io",
        "https://myaccount.google.com",
        "https://myapps.vendor.test",
        "http://backend:8080",
        "https://jsonplaceholder.typicode.com",
        "https://my-json-server.typicode.com",
        "https://robot-ws.your-server.de",
        "https://via.placeholder.com",
        "https://api.insertion.io",
        "https://api.fillingstation.io",
        "https://api.replacementparts.com",
        "https://your-server.de",  # Hetzner's domain
        "http://server:3000",  # services on a private network
        "http://api:8080",
        "http://my-api:8080",
        "http://api_gateway:8080",
        "https://help-here.com",
        "https://insert-coin.com",
        "https://username.com",
        "https://api.userid.com",
    ],
)
def test_real_hosts_are_not_taken_for_placeholders(url):
    assert url.rstrip("/") == fill({"url": url})


@pytest.mark.parametrize("name", ["api", "www", "sandbox"])
def test_a_variable_whose_default_is_a_real_label_is_used(name):
    server = {
        "url": f"https://{{{name}}}.vendor.test",
        "variables": {name: {"default": name}},
    }

    assert f"https://{name}.vendor.test" == fill(server)


@pytest.mark.parametrize("end", ["?", "#", "/?", "/#"])
def test_an_empty_query_or_fragment_at_the_end_of_a_base_is_dropped(end):
    """Kept, it would put every path after it into the query."""
    assert "https://x.test/v1" == fill({"url": f"https://x.test/v1{end}"})
    assert "https://x.test/v1" == check_base_url(
        f"https://x.test/v1{end}", setting="base_url"
    )


# --- doubled prefix ------------------------------------------------------------

PREFIXED = {
    "/api/users": op("listUsers"),
    "/api/orders": op("listOrders"),
}


def test_a_spec_server_repeating_the_paths_prefix_is_collapsed_and_reported():
    integration = Integration(spec([{"url": "https://x.test/api"}], PREFIXED))

    [request] = send(integration, "listUsers")

    assert "https://x.test/api/users" == str(request.url)
    [warning] = integration.report.warnings
    assert "sending https://x.test/api/users, not https://x.test/api/api/users" in (
        warning
    )
    assert "1 warnings" in str(integration.report)


def test_a_configured_doubled_prefix_is_reported_with_the_url_sent(caplog):
    caplog.set_level(logging.WARNING, logger="ourguide_caller")
    integration = Integration(spec(None, PREFIXED), base_url="https://x.test/api/")

    [request] = send(integration, "listUsers")

    assert "https://x.test/api/users" == str(request.url)
    [warning] = integration.report.warnings
    assert "sending https://x.test/api/users, not https://x.test/api/api/users" in (
        warning
    )
    assert 1 == caplog.text.count("sending https://x.test/api/users")


def test_keep_sends_the_spec_servers_prefix_twice_without_a_warning():
    integration = Integration(
        spec([{"url": "https://x.test/api"}], PREFIXED), doubled_prefix="keep"
    )

    [request] = send(integration, "listUsers")

    assert "https://x.test/api/api/users" == str(request.url)
    assert [] == integration.report.warnings


def test_error_refuses_a_spec_server_that_doubles_the_prefix():
    integration = Integration(
        spec([{"url": "https://x.test/api"}], PREFIXED), doubled_prefix="error"
    )

    with pytest.raises(ConfigError, match="doubled_prefix"):
        send(integration, "listUsers")
    assert any("ends with /api" in w for w in integration.report.warnings)


# --- plain http ----------------------------------------------------------------


def test_credentials_over_plain_http_are_reported():
    paths = {
        "/a": op("a"),
        "/c": op("c", servers=[{"url": "http://api.good.test"}]),
    }
    integration = Integration(
        spec([{"url": "https://api.good.test"}], paths), auth=BearerToken(token=TOKEN)
    )

    plain = [w for w in integration.report.warnings if "plain http" in w]
    assert 1 == len(plain)
    assert "http://api.good.test:80" in plain[0]


@pytest.mark.parametrize("host", ["api.good.test", "10.0.0.8", "127.evil.test"])
def test_a_configured_plain_http_base_url_is_reported(host):
    integration = Integration(
        spec(None), base_url=f"http://{host}", auth=BearerToken(token=TOKEN)
    )

    assert any("plain http" in w for w in integration.report.warnings)


@pytest.mark.parametrize(
    ("url", "auth"),
    [
        ("http://127.0.0.1:8080", BearerToken(token=TOKEN)),
        ("http://localhost:5055/api", BearerToken(token=TOKEN)),
        ("http://[::1]:8000", BearerToken(token=TOKEN)),
        ("http://127.1:8000", BearerToken(token=TOKEN)),
        ("http://[::ffff:127.0.0.1]:8000", BearerToken(token=TOKEN)),
        ("http://api.good.test", None),
    ],
)
def test_plain_http_to_loopback_or_without_credentials_is_fine(url, auth):
    integration = Integration(spec([{"url": url}]), auth=auth)

    assert not any("plain http" in w for w in integration.report.warnings)


# --- a literal query in a path key ------------------------------------------

SEARCH = {
    "/search?type=user": op(
        "search",
        parameters=[
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "type", "in": "query", "schema": {"type": "string"}},
            {
                "name": "r",
                "in": "query",
                "allowReserved": True,
                "schema": {"type": "string"},
            },
        ],
    )
}


def search_spec(key_in_query: bool = False) -> dict[str, Any]:
    document = spec([{"url": "https://x.test/base"}], SEARCH)
    if key_in_query:
        scheme = {"type": "apiKey", "in": "query", "name": "type"}
        document["components"] = {"securitySchemes": {"key": scheme}}
        document["security"] = [{"key": []}]
    return document


@pytest.mark.parametrize(
    ("arguments", "query"),
    [
        ({"q": "a"}, "type=user&q=a"),
        ({"q": "a", "r": "b/c"}, "type=user&q=a&r=b/c"),
        ({"type": "org"}, "type=org"),
    ],
)
def test_a_path_keys_literal_query_is_merged_with_the_arguments(arguments, query):
    integration = Integration(search_spec())

    [request] = send(integration, "search", arguments)

    assert "/base/search" == request.url.path
    assert query == request.url.query.decode()


def test_a_credential_replaces_a_literal_query_pair_of_its_name():
    integration = Integration(search_spec(key_in_query=True), auth=ApiKey(key=TOKEN))

    [request] = send(integration, "search", {"q": "a"})

    assert [("q", "a"), ("type", TOKEN)] == sorted(request.url.params.multi_items())


@pytest.mark.parametrize("default", [None, {"host": "x.test"}, ["a"], True])
def test_a_variable_default_that_is_not_a_string_is_refused(default):
    server = {"url": "https://{host}/v1", "variables": {"host": {"default": default}}}

    with pytest.raises(ConfigError, match="not a string. Set server_variables.host"):
        fill(server)


@pytest.mark.parametrize("url", ["api.vendor.com/v2", "api.vendor.com"])
def test_a_server_host_written_without_a_scheme_is_refused(url):
    """Read as a path relative to the spec's URL, calls would go to the host
    serving the spec."""
    with pytest.raises(ConfigError, match="has no scheme"):
        fill({"url": url}, location="https://specs.vendor.com/docs/openapi.json")


def test_an_empty_server_url_is_the_root_of_the_specs_host():
    server = {"url": ""}

    assert "https://specs.vendor.com" == fill(
        server, location="https://specs.vendor.com/docs/openapi.json"
    )


def test_a_variable_that_brings_a_second_scheme_is_refused():
    server = {
        "url": "https://{h}/v1",
        "variables": {"h": {"default": "https://api.vendor.com"}},
    }

    with pytest.raises(ConfigError, match="brings another"):
        fill(server)


@pytest.mark.parametrize(
    ("url", "example"),
    [
        ("https://example.zendesk.com", True),  # {subdomain} left at "example"
        ("https://api.example", True),
        ("https://api.vendor.invalid", True),
        ("https://api.example.com", True),
        ("https://api.good.test", False),
        ("https://examples.vendor.test", False),
        ("https://example-company.zendesk.com", True),
    ],
)
def test_example_hosts_are_reported(url, example):
    assert example == looks_like_placeholder(url)


def test_a_relative_server_under_a_spec_url_with_a_password_says_where_it_came_from():
    notes: list[str] = []

    url = fill({"url": "/v1"}, notes, location="https://u:pw@specs.test/spec.json")

    assert "https://specs.test/v1" == url
    assert ["loaded from" in n and "pw" not in n for n in notes] == [True]


@pytest.mark.parametrize(("enum", "value"), [(5, "5"), ("eu-west", "eu-west")])
def test_an_enum_that_is_not_a_list_is_one_value(enum, value):
    server = {
        "url": "https://{r}.vendor.test",
        "variables": {"r": {"default": value, "enum": enum}},
    }

    assert f"https://{value}.vendor.test" == fill_server_url(
        server, values={"r": value}, location=None, source="s", pointer="/servers/0"
    )
    with pytest.raises(ConfigError, match="not one of"):
        fill_server_url(
            server, values={"r": "w"}, location=None, source="s", pointer="/servers/0"
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://admin:s3cret pass@api.x.test",
        "https://admin:s3cret\n@api.x.test",
        "https:/u:s3cret@api.x.test",
        "https://u:My@s3cret word@api.x.test",
        "https://api.x.test/v1?token=s3cret",
        "https://api.x.test/v1#token=s3cret",
        "https://api.x.test\u200b/v1?token=s3cret",  # a zero-width space
    ],
)
def test_a_refused_base_url_never_shows_its_password_or_token(url):
    with pytest.raises(ConfigError) as caught:
        check_base_url(url, setting="base_url")

    assert "s3cret" not in str(caught.value)


def test_a_host_the_user_set_is_never_refused_as_a_placeholder():
    server = {
        "url": "https://{shop}.myshopify.com",
        "variables": {"shop": {"default": "your-shop"}},
    }

    assert "https://my-shop.myshopify.com" == fill_server_url(
        server, values={"shop": "my-shop"}, location=None, source="s", pointer="/s"
    )
    with pytest.raises(ConfigError, match="placeholder"):
        fill(server)


@pytest.mark.parametrize(
    "name", ["beta", "latest", "graphql", "public", "version", "cluster", "v1"]
)
def test_a_variable_left_at_an_ordinary_value_named_like_it_is_used(name):
    server = {
        "url": f"https://api.vendor.test/{{{name}}}",
        "variables": {name: {"default": name}},
    }

    assert f"https://api.vendor.test/{name}" == fill(server)


@pytest.mark.parametrize(
    ("url", "variables", "expected"),
    [
        ("https://api.vendor.test:{myPort}", {"myPort": "443"}, ":443"),
        ("https://api.vendor.test/{myVersion}", {"myVersion": "v1"}, "/v1"),
    ],
)
def test_my_variables_that_name_no_place_of_yours_are_used(url, variables, expected):
    declared = {name: {"default": value} for name, value in variables.items()}

    assert fill({"url": url, "variables": declared}).endswith(expected)
