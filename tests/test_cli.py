"""The `ourguide-caller` command, run in-process with click's CliRunner (and
once as the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ourguide_caller._cli import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC = "specs/shop.yaml"
ALL_TOOLS = {
    "searchProducts",
    "getProduct",
    "getOrder",
    "cancelOrder",
    "getStockReport",
    "getCurrentUser",
    "listMyOrders",
}
USER_TOOLS = {"getCurrentUser", "listMyOrders"}
WRONG_KEY = "wrong-cli-key-9b8a7c6d"

DANGLING_REQUEST_BODY = """\
openapi: 3.0.3
info: {title: Dangling, version: "1"}
paths:
  /things:
    post:
      operationId: makeThing
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Thing'
      responses:
        '200': {description: ok}
"""
DANGLING_POINTER = "#/paths/~1things/post/requestBody/content/application~1json/schema"

DANGLING_RESPONSE = """\
openapi: 3.0.3
info: {title: Dangling, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
"""


@pytest.fixture(name="in_repo", autouse=True)
def _in_repo(monkeypatch) -> Path:
    """Run every command from the repository's folder, as a user would."""
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT


@pytest.fixture(name="secret_env")
def _secret_env(shop, monkeypatch) -> dict[str, str]:
    """The shop's secrets in environment variables, by variable name."""
    values = {
        "TEST_SHOP_API_KEY": shop.api_key,
        "TEST_SHOP_SERVICE_TOKEN": shop.service_token,
        "TEST_SHOP_JWT_SECRET": shop.verification_secret,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


AUTH_OPTIONS = [
    "--api-key-env",
    "TEST_SHOP_API_KEY",
    "--bearer-env",
    "TEST_SHOP_SERVICE_TOKEN",
    "--jwt-forward",
    "--verification-secret-env",
    "TEST_SHOP_JWT_SECRET",
]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def run_json(*args: str) -> list[dict]:
    result = run(*args)
    assert 0 == result.exit_code, result.output
    return json.loads(result.stdout)


def assert_no_secret(result: Result, secrets) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


def assert_clean_failure(result: Result) -> None:
    """Exit 2 with an error line, and no traceback or escaped exception."""
    assert 2 == result.exit_code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- the console script --------------------------------------------------------


def test_console_script_is_installed():
    """The ourguide-caller script is installed next to the interpreter and runs."""
    script = Path(sys.executable).with_name("ourguide-caller")

    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=30, check=False
    )

    assert 0 == done.returncode, done.stderr
    for command in ("tools", "call", "report", "check", "demo"):
        assert command in done.stdout


# --- tools -----------------------------------------------------------------------


def test_tools_json_describes_every_tool():
    """--format json prints each tool's name, request, schema and auth."""
    listed = run_json("tools", SPEC, "--format", "json")

    assert ALL_TOOLS == {tool["name"] for tool in listed}
    for tool in listed:
        keys = {"name", "description", "method", "path", "input_schema", "security"}
        assert keys <= set(tool)
        assert "object" == tool["input_schema"]["type"]
    by_name = {tool["name"]: tool for tool in listed}
    get_order = by_name["getOrder"]
    assert ("GET", "/orders/{orderId}", "ShopApiKey") == (
        get_order["method"],
        get_order["path"],
        get_order["security"],
    )
    assert ["orderId"] == get_order["input_schema"]["required"]
    assert "public" == by_name["searchProducts"]["security"]
    assert "UserJwt" == by_name["listMyOrders"]["security"]


def test_tools_openai_format():
    """--format openai prints Chat Completions function tools."""
    listed = run_json("tools", SPEC, "--format", "openai")

    assert ALL_TOOLS == {tool["function"]["name"] for tool in listed}
    for tool in listed:
        assert {"type", "function"} == set(tool)
        assert "function" == tool["type"]
        assert {"name", "description", "parameters"} == set(tool["function"])
        assert "object" == tool["function"]["parameters"]["type"]


def test_tools_anthropic_format():
    """--format anthropic prints Messages API tools with input_schema."""
    listed = run_json("tools", SPEC, "--format", "anthropic")

    assert ALL_TOOLS == {tool["name"] for tool in listed}
    for tool in listed:
        assert {"name", "description", "input_schema"} == set(tool)


def test_tools_mcp_format():
    """--format mcp prints MCP tools with inputSchema and behaviour annotations."""
    listed = run_json("tools", SPEC, "--format", "mcp")

    assert ALL_TOOLS == {tool["name"] for tool in listed}
    for tool in listed:
        assert {"name", "description", "inputSchema", "annotations"} == set(tool)
    by_name = {tool["name"]: tool for tool in listed}
    assert by_name["getOrder"]["annotations"]["readOnlyHint"] is True
    assert by_name["cancelOrder"]["annotations"]["readOnlyHint"] is False


def test_tools_as_anonymous_hides_jwt_tools(secret_env):
    """--as anonymous with every auth option lists all but the JWT tools."""
    listed = run_json(
        "tools", SPEC, "--format", "json", "--as", "anonymous", *AUTH_OPTIONS
    )

    assert ALL_TOOLS - USER_TOOLS == {tool["name"] for tool in listed}


def test_tools_as_signed_in_lists_every_tool(secret_env):
    """--as signed-in with every auth option lists every tool."""
    listed = run_json(
        "tools", SPEC, "--format", "json", "--as", "signed-in", *AUTH_OPTIONS
    )

    assert ALL_TOOLS == {tool["name"] for tool in listed}


def test_tools_as_anonymous_without_credentials_lists_public_tools():
    """--as anonymous with no auth configured lists only the public tools."""
    listed = run_json("tools", SPEC, "--format", "json", "--as", "anonymous")

    assert {"searchProducts", "getProduct"} == {tool["name"] for tool in listed}


def test_tools_table_names_every_tool():
    """The default table format names every tool."""
    result = run("tools", SPEC)

    assert 0 == result.exit_code, result.output
    for name in ALL_TOOLS:
        assert name in result.stdout


def test_tools_with_unset_env_var_is_a_usage_error(monkeypatch):
    """An auth option naming an unset variable fails with its name, exit 2."""
    monkeypatch.delenv("TEST_SHOP_NOT_SET", raising=False)

    result = run("tools", SPEC, "--api-key-env", "TEST_SHOP_NOT_SET")

    assert 2 == result.exit_code
    assert "TEST_SHOP_NOT_SET" in result.stderr


# --- call --------------------------------------------------------------------------


def test_call_with_api_key_prints_json(shop, secret_env):
    """call getOrder with the key from the environment exits 0 and prints the order."""
    result = run(
        "call",
        SPEC,
        "getOrder",
        "--base-url",
        shop.base_url,
        "--args",
        '{"orderId": "o-5001"}',
        *AUTH_OPTIONS,
    )

    assert 0 == result.exit_code, result.output
    order = json.loads(result.stdout)
    assert ("o-5001", "u-100") == (order["id"], order["user_id"])
    assert "HTTP 200" in result.stderr
    assert_no_secret(result, secret_env.values())


def test_call_with_identity_token_forwards_it(
    shop, secret_env, mint_token, monkeypatch
):
    """call listMyOrders with --identity-token-env lists that user's orders."""
    token = mint_token("u-200")
    monkeypatch.setenv("TEST_SHOP_IDENTITY", token)

    result = run(
        "call",
        SPEC,
        "listMyOrders",
        "--base-url",
        shop.base_url,
        "--identity-token-env",
        "TEST_SHOP_IDENTITY",
        *AUTH_OPTIONS,
    )

    assert 0 == result.exit_code, result.output
    assert {"u-200"} == {order["user_id"] for order in json.loads(result.stdout)}
    assert_no_secret(result, [*secret_env.values(), token])


def test_call_with_wrong_key_exits_1_without_the_key(shop, monkeypatch):
    """A refused key: exit 1, the 401 and the hint shown, the key never printed."""
    monkeypatch.setenv("TEST_SHOP_WRONG_KEY", WRONG_KEY)

    result = run(
        "call",
        SPEC,
        "getOrder",
        "--base-url",
        shop.base_url,
        "--args",
        '{"orderId": "o-5001"}',
        "--api-key-env",
        "TEST_SHOP_WRONG_KEY",
    )

    assert 1 == result.exit_code, result.output
    assert "HTTP 401" in result.stderr
    assert "hint:" in result.stderr
    assert "invalid_api_key" == json.loads(result.stdout)["error"]
    assert_no_secret(result, [WRONG_KEY])


def test_call_with_expired_identity_token_fails_cleanly(
    shop, secret_env, mint_token, monkeypatch
):
    """An expired identity token: exit 2 saying so, no token or secret printed."""
    token = mint_token("u-100", expires_in=-120)
    monkeypatch.setenv("TEST_SHOP_IDENTITY", token)

    result = run(
        "call",
        SPEC,
        "listMyOrders",
        "--base-url",
        shop.base_url,
        "--identity-token-env",
        "TEST_SHOP_IDENTITY",
        *AUTH_OPTIONS,
    )

    assert_clean_failure(result)
    assert "expired" in result.stderr
    assert_no_secret(result, [*secret_env.values(), token])


def test_call_of_jwt_tool_without_identity_fails_cleanly(shop, secret_env):
    """A JWT tool without an identity token: exit 2 saying the user must sign in."""
    result = run(
        "call", SPEC, "getCurrentUser", "--base-url", shop.base_url, *AUTH_OPTIONS
    )

    assert_clean_failure(result)
    assert "signed-in user" in result.stderr
    assert_no_secret(result, secret_env.values())


def test_call_with_invalid_arguments_fails_cleanly(shop, secret_env):
    """Arguments that do not match the schema: exit 2 naming the argument."""
    result = run(
        "call",
        SPEC,
        "searchProducts",
        "--base-url",
        shop.base_url,
        "--args",
        '{"category": "toys"}',
        *AUTH_OPTIONS,
    )

    assert_clean_failure(result)
    assert "/category" in result.stderr
    assert_no_secret(result, secret_env.values())


def test_call_unknown_tool_exits_2_with_a_clear_message(shop):
    """An unknown tool name: exit 2 and a message naming it."""
    result = run("call", SPEC, "getOrders", "--base-url", shop.base_url)

    assert_clean_failure(result)
    assert "no tool named 'getOrders'" in result.stderr


def test_call_unknown_tool_with_brackets_in_its_name(shop):
    """A tool name that looks like rich markup is printed as typed, exit 2."""
    result = run("call", SPEC, "[/x]", "--base-url", shop.base_url)

    assert_clean_failure(result)
    assert "no tool named '[/x]'" in result.stderr


def test_call_with_args_that_are_not_json_is_a_usage_error(shop):
    """--args that are not JSON: exit 2 saying so."""
    result = run(
        "call", SPEC, "getProduct", "--base-url", shop.base_url, "--args", "{nope"
    )

    assert 2 == result.exit_code
    assert "--args is not valid JSON" in result.stderr


# --- report and check --------------------------------------------------------------


def test_report_lists_every_operation():
    """report shows each operation with the tool it became."""
    result = run("report", SPEC)

    assert 0 == result.exit_code, result.output
    assert "7 tools from 7 operations, 0 skipped" in result.stdout
    for line in (
        "GET     /products -> searchProducts",
        "GET     /products/{productId} -> getProduct",
        "GET     /orders/{orderId} -> getOrder",
        "POST    /orders/{orderId}/cancel -> cancelOrder",
        "GET     /reports/stock -> getStockReport",
        "GET     /me -> getCurrentUser",
        "GET     /me/orders -> listMyOrders",
    ):
        assert line in result.stdout


def test_report_json_lists_every_operation():
    """report --json lists every operation with its tool."""
    report = run_json("report", SPEC, "--json")

    assert (7, 0) == (report["tools"], report["skipped"])
    assert ALL_TOOLS == {operation["tool"] for operation in report["operations"]}


def test_check_says_the_shop_spec_is_valid(cache_dir):
    """check on the sample spec reports it valid."""
    result = run("check", SPEC)

    assert 0 == result.exit_code, result.output
    assert "valid" in result.stdout
    assert "shop.yaml" in result.stdout


def test_dangling_ref_in_tools_fails_with_file_and_pointer(tmp_path):
    """tools on a spec with a dangling $ref: exit 2 naming the file and JSON pointer."""
    spec = tmp_path / "dangling.yaml"
    spec.write_text(DANGLING_REQUEST_BODY, encoding="utf-8")

    result = run("tools", str(spec))

    assert_clean_failure(result)
    assert f"dangling.yaml{DANGLING_POINTER}" in result.stderr


def test_check_refuses_a_dangling_ref_in_a_request_body(tmp_path):
    """check with a dangling request body $ref: exit 2 naming file and pointer."""
    spec = tmp_path / "dangling.yaml"
    spec.write_text(DANGLING_REQUEST_BODY, encoding="utf-8")

    result = run("check", str(spec))

    assert_clean_failure(result)
    assert "dangling.yaml#/paths/~1things/post" in result.stderr


def test_check_refuses_a_dangling_ref_in_a_response(tmp_path):
    """check with a dangling response $ref: exit 2 naming file and pointer."""
    spec = tmp_path / "dangling.yaml"
    spec.write_text(DANGLING_RESPONSE, encoding="utf-8")

    result = run("check", str(spec))

    assert_clean_failure(result)
    assert "dangling.yaml#/paths/~1things/get/responses/200" in result.stderr


# --- demo --------------------------------------------------------------------------


def test_demo_runs_to_the_end():
    """demo starts the sample API, calls it with each kind of auth and exits 0."""
    result = run("demo")

    assert 0 == result.exit_code, result.output
    for title in (
        "no auth: searchProducts",
        "API key: getOrder",
        "bearer token: getStockReport",
        "JWT forward: listMyOrders",
        "wrong API key",
    ):
        assert title in result.stdout
