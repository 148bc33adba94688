"""The `ourguide-caller` command.

    ourguide-caller demo                       # sample shop API, all three auth types
    ourguide-caller tools SPEC [--format json] # the tools a spec becomes
    ourguide-caller call SPEC TOOL --args '{"orderId": "o-1"}' --api-key-env KEY
    ourguide-caller report SPEC                # what became of every operation
    ourguide-caller check SPEC                 # full OpenAPI validation
    ourguide-caller corpus FOLDER              # every spec in a folder, summarised
    ourguide-caller bench                      # throughput vs. bare httpx

Secrets are read from environment variables named by the options, never from
the command line (which other users of the machine can see) and never echoed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._credentials import ApiKey, BasicAuth, BearerToken, Credential, JwtForward
from ._errors import OurguideError, ToolCallError
from ._export import to_anthropic, to_mcp, to_openai
from ._integration import Integration
from ._runtime import Runtime
from ._tools import Tool

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise click.UsageError(
            f"{what}: environment variable {name} is not set or empty."
        )
    return value


def integration_options(func: F) -> F:
    """The options that describe an integration, shared by several commands."""
    options = [
        click.option(
            "--config",
            "config",
            type=click.Path(exists=True, dir_okay=False),
            help="An integration config file (YAML/JSON); replaces the options below.",
        ),
        click.option(
            "--base-url", help="Where calls go; wins over the spec's servers."
        ),
        click.option(
            "--api-key-env",
            metavar="VAR",
            help="Environment variable holding an API key.",
        ),
        click.option(
            "--api-key-header",
            default="X-API-Key",
            show_default=True,
            help="Header for the API key when the spec declares none.",
        ),
        click.option(
            "--bearer-env",
            metavar="VAR",
            help="Environment variable holding a static bearer token.",
        ),
        click.option("--basic-user", help="User name for HTTP basic auth."),
        click.option(
            "--basic-password-env",
            metavar="VAR",
            help="Environment variable holding the HTTP basic password.",
        ),
        click.option(
            "--jwt-forward",
            is_flag=True,
            help="Forward the signed-in user's identity token as a bearer token.",
        ),
        click.option(
            "--verification-secret-env",
            metavar="VAR",
            help="Environment variable holding the identity-token secret (HS256).",
        ),
        click.option(
            "--server-var",
            multiple=True,
            metavar="NAME=VALUE",
            help="A value for a server URL variable (repeatable).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _integration(spec: str | None, opts: dict[str, Any]) -> Integration:
    if opts.get("config"):
        from ._config import load_config

        return load_config(opts["config"])
    if spec is None:
        raise click.UsageError("give a SPEC (file or URL) or --config.")

    auth: list[Credential] = []
    if opts.get("api_key_env"):
        key = _env(opts["api_key_env"], "--api-key-env")
        auth.append(ApiKey(key=key, header=opts["api_key_header"]))
    if opts.get("bearer_env"):
        auth.append(BearerToken(token=_env(opts["bearer_env"], "--bearer-env")))
    if opts.get("basic_user"):
        if not opts.get("basic_password_env"):
            raise click.UsageError("--basic-user needs --basic-password-env VAR.")
        password = _env(opts["basic_password_env"], "--basic-password-env")
        auth.append(BasicAuth(username=opts["basic_user"], password=password))
    if opts.get("jwt_forward"):
        auth.append(JwtForward())
    secret = None
    if opts.get("verification_secret_env"):
        secret = _env(opts["verification_secret_env"], "--verification-secret-env")

    variables = {}
    for pair in opts.get("server_var") or ():
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.UsageError(f"--server-var {pair!r}: write it as NAME=VALUE.")
        variables[name] = value
    return Integration(
        spec,
        base_url=opts.get("base_url"),
        auth=auth,
        verification_secret=secret,
        server_variables=variables,
    )


def _fail(exc: Exception) -> None:
    # Messages quote spec text, tool names and server URLs: never markup.
    err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ourguide-caller")
def cli() -> None:
    """Turn an OpenAPI document into LLM tools and call the API safely."""


@cli.command()
@click.argument("spec", required=False)
@integration_options
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", "json", "openai", "anthropic", "mcp"]),
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --format openai: strict-mode schemas where the schema allows.",
)
@click.option(
    "--as",
    "as_",
    type=click.Choice(["all", "anonymous", "signed-in"]),
    default="all",
    show_default=True,
    help="Only the tools such a session would see (with the auth options).",
)
def tools(spec: str | None, fmt: str, strict: bool, as_: str, **opts: Any) -> None:
    """List the tools SPEC becomes, with the auth each needs."""
    try:
        integration = _integration(spec, opts)
    except OurguideError as exc:
        _fail(exc)
        return
    listed = integration.tools
    if as_ == "anonymous":
        listed = [t for t in listed if t.security.anonymous is not None]
    elif as_ == "signed-in":
        listed = [t for t in listed if t.security.signed_in is not None]

    if fmt == "table":
        _print_tools(
            listed, title=f"{len(listed)} tools from {integration.spec.source}"
        )
        return
    exported: Any = {
        "json": lambda ts: [t.as_dict() for t in ts],
        "openai": lambda ts: to_openai(ts, strict=strict),
        "anthropic": to_anthropic,
        "mcp": to_mcp,
    }[fmt](listed)
    click.echo(json.dumps(exported, indent=2, ensure_ascii=False))


def _print_tools(listed: list[Tool], *, title: str) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("tool", style="bold")
    table.add_column("request")
    table.add_column("auth")
    table.add_column("arguments")
    for tool in listed:
        props = tool.input_schema.get("properties", {})
        needed = set(tool.input_schema.get("required", []))
        args = ", ".join(f"{n}*" if n in needed else n for n in props) or "-"
        auth = tool.security.summary()
        if tool.needs_user:
            auth += " (signed-in user)"
        elif tool.security.signed_in is None:
            auth += " (no credential configured)"
        row = (tool.name, f"{tool.method} {tool.path}", auth, args)
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)


@cli.command()
@click.argument("spec", required=False)
@click.argument("tool")
@integration_options
@click.option(
    "--args",
    "args_json",
    default="{}",
    show_default=True,
    help="The tool's arguments as a JSON object.",
)
@click.option(
    "--identity-token-env",
    metavar="VAR",
    help="Environment variable holding the user's identity token "
    "(signs the session in).",
)
def call(
    spec: str | None,
    tool: str,
    args_json: str,
    identity_token_env: str | None,
    **opts: Any,
) -> None:
    """Call one TOOL of SPEC and print the result."""
    try:
        arguments = json.loads(args_json)
    except ValueError as exc:
        raise click.UsageError(f"--args is not valid JSON: {exc}") from None
    token = (
        _env(identity_token_env, "--identity-token-env") if identity_token_env else None
    )

    async def run() -> int:
        integration = _integration(spec, opts)
        async with Runtime(integration) as runtime:
            session = runtime.session(token)
            result = await runtime.call(session, tool, arguments)
        status = "[green]ok[/green]" if result.ok else f"[red]{result.error}[/red]"
        err.print(f"HTTP {result.status} {status} after {result.attempts} attempt(s)")
        if result.hint:
            err.print(f"hint: {escape(result.hint)}", soft_wrap=True)
        click.echo(result.content)
        return 0 if result.ok else 1

    try:
        sys.exit(asyncio.run(run()))
    except ToolCallError as exc:
        _fail(exc)
    except OurguideError as exc:
        _fail(exc)


@cli.command()
@click.argument("spec", required=False)
@integration_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report(spec: str | None, as_json: bool, **opts: Any) -> None:
    """Show what became of every operation of SPEC."""
    try:
        integration = _integration(spec, opts)
    except OurguideError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(
            json.dumps(integration.report.as_dict(), indent=2, ensure_ascii=False)
        )
    else:
        click.echo(str(integration.report))


@cli.command()
@click.argument("spec")
def check(spec: str) -> None:
    """Validate SPEC fully against the OpenAPI schema (slow on big specs; cached)."""
    from ._loader import load_spec
    from ._validation import validate_document

    try:
        loaded = load_spec(spec)
        cached = validate_document(loaded)
    except OurguideError as exc:
        _fail(exc)
        return
    note = " (cached verdict)" if cached else ""
    out.print(
        f"[green]valid[/green]: {escape(loaded.source)} "
        f"(OpenAPI {loaded.original_version}){note}"
    )


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def corpus(folder: str) -> None:
    """Load every spec in FOLDER and report tools, schema validity and exports."""
    from ._corpus import corpus_report

    summary = corpus_report(folder, console=out)
    sys.exit(0 if summary.failures == 0 else 1)


@cli.command()
def demo() -> None:
    """Run the sample shop API locally and call it with each kind of auth."""
    from ._demo import run_demo

    run_demo(out)


@cli.command()
@click.option("--calls", default=2000, show_default=True, help="Calls per measurement.")
@click.option("--concurrency", "levels", default="1,16,64", show_default=True)
@click.option("--rounds", default=3, show_default=True, help="Interleaved rounds.")
def bench(calls: int, levels: str, rounds: int) -> None:
    """Throughput of the runtime vs. a bare httpx client on the sample API."""
    from ._bench import run_throughput

    run_throughput(
        calls=calls,
        levels=[int(x) for x in levels.split(",")],
        rounds=rounds,
        console=out,
    )


def main() -> None:
    # Library warnings (a doubled prefix, a cut description) go to stderr;
    # they never carry secrets.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        cli(standalone_mode=True)
    except OurguideError as exc:
        _fail(exc)
    except Exception as exc:  # noqa: BLE001 (the last line of defence)
        # A bug of ours: say so plainly instead of dumping a traceback that
        # could quote configuration values.
        err.print(
            f"[red]unexpected error[/red] ({escape(type(exc).__name__)}): "
            f"{escape(str(exc))}\nThis is a bug in ourguide-caller; please report "
            "it with the command you ran (not its secrets).",
            soft_wrap=True,
        )
        sys.exit(3)
