"""Throughput of the runtime against a bare httpx client, in one run.

The sample API runs in its own process (pinned to another core where the
machine has one). The same API-key call is made N times at each concurrency
level, through the runtime (argument check, auth, retry wrapper, result
rendering all on) and through a bare `httpx.AsyncClient` sending the same
request; the two are interleaved round by round so that drift in the
machine's speed hits both alike. The ratio runtime/bare is the figure that
matters: absolute numbers on a shared machine move by a quarter from hour
to hour.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from rich.console import Console
from rich.table import Table

from ._credentials import ApiKey
from ._integration import Integration
from ._runtime import Runtime

__all__ = ["Measurement", "run_throughput", "start_sample_api"]


@dataclass
class Measurement:
    calls_per_s: float
    p50_ms: float
    p99_ms: float


def start_sample_api() -> tuple[subprocess.Popen[str], str]:
    """Start the sample API in a child process; returns it and its base URL."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ourguide_caller.sample.server",
            "--port",
            "0",
            "--demo-secrets",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if not line.startswith("listening on "):
        child.kill()
        raise RuntimeError(f"the sample API did not start (said {line!r})")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) >= 2:
        # Server on the last core, load generator on the others: the two then
        # do not steal each other's time slices.
        os.sched_setaffinity(child.pid, {cores[-1]})
        os.sched_setaffinity(0, set(cores[:-1]))
    return child, line.removeprefix("listening on ")


async def _measure(
    call: Callable[[], Awaitable[None]], calls: int, concurrency: int
) -> Measurement:
    latencies: list[float] = []
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Measurement(
        calls_per_s=len(latencies) / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


async def _compare(
    base_url: str, api_key: str, calls: int, levels: list[int], rounds: int
) -> dict[int, tuple[list[Measurement], list[Measurement]]]:
    from .sample import SPEC_PATH

    integration = Integration(
        SPEC_PATH, name="shop", base_url=base_url, auth=ApiKey(key=api_key)
    )
    results: dict[int, tuple[list[Measurement], list[Measurement]]] = {}
    async with Runtime(integration) as runtime, httpx.AsyncClient() as bare:
        session = runtime.session()
        url = base_url + "/orders/o-5001"
        headers = {"X-API-Key": api_key}

        async def through_runtime() -> None:
            result = await runtime.call(session, "getOrder", {"orderId": "o-5001"})
            if result.status != 200:
                raise RuntimeError(f"runtime call failed: HTTP {result.status}")

        async def through_httpx() -> None:
            response = await bare.get(url, headers=headers)
            response.json()
            if response.status_code != 200:
                raise RuntimeError(f"bare call failed: HTTP {response.status_code}")

        # Warm both up: connections, compiled validator, caches.
        await _measure(through_runtime, 200, 8)
        await _measure(through_httpx, 200, 8)
        for level in levels:
            ours: list[Measurement] = []
            theirs: list[Measurement] = []
            for round_number in range(rounds):
                # Alternate who goes first so neither always gets the warmer machine.
                pair = [(through_runtime, ours), (through_httpx, theirs)]
                if round_number % 2:
                    pair.reverse()
                for call, sink in pair:
                    sink.append(await _measure(call, calls, level))
            results[level] = (ours, theirs)
    return results


def run_throughput(
    *, calls: int, levels: list[int], rounds: int, console: Console
) -> dict[int, float]:
    """Run the comparison and print it; returns the ratio per concurrency."""
    from .sample.server import DEFAULT_SECRETS

    child, base_url = start_sample_api()
    try:
        results = asyncio.run(
            _compare(base_url, DEFAULT_SECRETS["api_key"], calls, levels, rounds)
        )
    finally:
        child.terminate()
        child.wait(10)

    table = Table(
        title=f"{calls} calls x {rounds} rounds per cell; ratio = median of the "
        "rounds' runtime/bare ratios",
        title_justify="left",
    )
    for column in (
        "concurrency",
        "runtime calls/s",
        "bare calls/s",
        "ratio",
        "round ratios p25-p75",
        "runtime p50/p99 ms",
        "bare p50/p99 ms",
    ):
        table.add_column(column, justify="right")
    ratios = {}
    for level, (ours, theirs) in results.items():
        mine = statistics.median(m.calls_per_s for m in ours)
        bare = statistics.median(m.calls_per_s for m in theirs)
        # Each round's pair ran back to back, so its ratio is the least
        # touched by the machine's drift; their median is the figure.
        paired = sorted(
            a.calls_per_s / b.calls_per_s for a, b in zip(ours, theirs, strict=True)
        )
        ratios[level] = statistics.median(paired)
        quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
        table.add_row(
            str(level),
            f"{mine:,.0f}",
            f"{bare:,.0f}",
            f"{ratios[level]:.3f}",
            f"{quartiles[0]:.2f}-{quartiles[-1]:.2f}",
            f"{statistics.median(m.p50_ms for m in ours):.2f} / "
            f"{statistics.median(m.p99_ms for m in ours):.2f}",
            f"{statistics.median(m.p50_ms for m in theirs):.2f} / "
            f"{statistics.median(m.p99_ms for m in theirs):.2f}",
        )
    console.print(table)
    return ratios
