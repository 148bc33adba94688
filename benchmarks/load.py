"""Load and build time, peak memory and per-request cost on the largest specs.

    python benchmarks/load.py [--runs 5] [--number 100000] [--corpus FOLDER]

For each of the largest documents of the real-world corpus, in one run:

- plain parse: what reading the file costs anyway (`json.load`, or PyYAML's
  C `CSafeLoader` for YAML), the floor any loader stands on; also the same
  parse with the garbage collector paused, as `load_spec` parses, since on
  big documents the collector alone can double a plain parse;
- `load_spec`: parse plus checks, `$ref` bundling and Swagger 2 conversion;
- build: `Integration(loaded_spec, base_url=...)`, i.e. every tool;
- the ratio (load + build) / plain parse, and the same against the parse
  with the collector paused (the stricter of the two);
- peak Python memory of load + build (tracemalloc), as a multiple of the
  file's size, beside the same for the plain parse alone (what the parsed
  document itself takes, which no loader can go below);
- `integration.tools_for(integration.session())` in microseconds, the work
  done on every request of an agent.

Times are medians of `--runs` interleaved runs (parse, load, build, parse,
...), so a slow patch of a shared machine hits all three alike. The memory
run is separate, because tracing slows everything down several times. It
only reports: nothing here fails when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ourguide_caller import Integration
from ourguide_caller._loader import load_spec

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"
LARGEST = (
    "cloudflare/openapi.json",
    "stripe/spec3.yaml",
    "kubernetes/swagger.json",
    "okta-management/management-minimal.yaml",
    "linode/openapi.yaml",
)
BASE_URL = "https://api.example.test"
# The targets the figures are held against.
TARGET_LOAD_RATIO = 5.0  # Cloudflare: load + build at most 5x json.load
TARGET_PEAK_RATIO = 10.0  # peak memory at most 10x the file's size
TARGET_TOOLS_FOR_US = 1000.0  # tools_for in microseconds, not milliseconds

T = TypeVar("T")


@dataclass
class LoadFigures:
    """One document's figures; times are medians, in milliseconds."""

    name: str
    parser: str
    size_bytes: int
    tools: int
    parse_ms: float
    parse_no_gc_ms: float
    load_ms: float
    build_ms: float
    peak_bytes: int
    parse_peak_bytes: int
    tools_for_us: float

    @property
    def ratio(self) -> float:
        """(load_spec + build) / plain parse."""
        return (self.load_ms + self.build_ms) / self.parse_ms

    @property
    def ratio_no_gc(self) -> float:
        """(load_spec + build) / plain parse with the collector paused."""
        return (self.load_ms + self.build_ms) / self.parse_no_gc_ms

    @property
    def peak_ratio(self) -> float:
        return self.peak_bytes / self.size_bytes

    @property
    def parse_peak_ratio(self) -> float:
        return self.parse_peak_bytes / self.size_bytes


def plain_parse(path: Path) -> Any:
    """The file parsed the quickest ordinary way, with no checks at all."""
    with path.open("rb") as file:
        if path.suffix == ".json":
            return json.load(file)
        return yaml.load(file, Loader=yaml.CSafeLoader)


def parse_no_gc(path: Path) -> Any:
    """`plain_parse` with the cyclic collector paused, as the loader does."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return plain_parse(path)
    finally:
        if was_enabled:
            gc.enable()


def _timed(step: Callable[[], T]) -> tuple[T, float]:
    """`step()` and how long it took, in ms, starting from a collected heap
    so garbage left by the previous step is not charged to this one."""
    gc.collect()
    started = time.perf_counter()
    result = step()
    return result, (time.perf_counter() - started) * 1000


def _times(path: Path, runs: int) -> tuple[dict[str, list[float]], int]:
    """Interleaved parse / load / build times (ms by step), and the tools."""
    times: dict[str, list[float]] = {"parse": [], "no_gc": [], "load": [], "build": []}
    tools = 0
    for _ in range(runs):
        document, ms = _timed(partial(plain_parse, path))
        times["parse"].append(ms)
        del document

        document, ms = _timed(partial(parse_no_gc, path))
        times["no_gc"].append(ms)
        del document

        loaded, ms = _timed(partial(load_spec, path))
        times["load"].append(ms)

        integration, ms = _timed(partial(Integration, loaded, base_url=BASE_URL))
        times["build"].append(ms)
        tools = len(integration.tools)
        del loaded, integration
    return times, tools


def _peak_bytes(step: Callable[[], object]) -> int:
    """Peak traced Python memory while `step` runs (its result kept alive
    until the peak is read, as a caller would keep it)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def _load_and_build(path: Path) -> Integration:
    return Integration(load_spec(path), base_url=BASE_URL)


def _tools_for_us(path: Path, number: int) -> float:
    """Median time of `tools_for(session())` over 5 repeats, in µs a call."""
    integration = Integration(path, base_url=BASE_URL)
    timer = timeit.Timer(lambda: integration.tools_for(integration.session()))
    totals = timer.repeat(repeat=5, number=number)
    return statistics.median(totals) / number * 1e6


def measure(path: Path, name: str, *, runs: int, number: int) -> LoadFigures:
    """Every figure for one document."""
    times, tools = _times(path, runs)

    peak = _peak_bytes(partial(_load_and_build, path))
    parse_peak = _peak_bytes(partial(plain_parse, path))

    return LoadFigures(
        name=name,
        parser="json.load" if path.suffix == ".json" else "CSafeLoader",
        size_bytes=path.stat().st_size,
        tools=tools,
        parse_ms=statistics.median(times["parse"]),
        parse_no_gc_ms=statistics.median(times["no_gc"]),
        load_ms=statistics.median(times["load"]),
        build_ms=statistics.median(times["build"]),
        peak_bytes=peak,
        parse_peak_bytes=parse_peak,
        tools_for_us=_tools_for_us(path, number),
    )


def run_load(
    corpus: Path, *, runs: int = 5, number: int = 100_000, console: Console
) -> list[LoadFigures]:
    """Measure every document in `LARGEST` found under `corpus`; print a table."""
    figures = []
    for relative in LARGEST:
        path = corpus / relative
        if not path.is_file():
            console.print(Text(f"missing, skipped: {path}", style="yellow"))
            continue
        console.print(Text(f"measuring {relative} ...", style="dim"))
        figures.append(measure(path, relative.split("/")[0], runs=runs, number=number))

    console.print(_table(figures, runs, number))
    return figures


def _verdict(value: str, met: bool | None) -> Text:
    """A figure coloured by whether it meets its target (None: no target)."""
    if met is None:
        return Text(value)
    return Text(value, style="green" if met else "red")


def _table(figures: list[LoadFigures], runs: int, number: int) -> Table:
    table = Table(
        title=f"load + build, medians of {runs} runs; tools_for over {number:,} calls "
        f"x 5 (targets: Cloudflare (load+build) <= {TARGET_LOAD_RATIO:g}x json.load, "
        f"peak <= {TARGET_PEAK_RATIO:g}x file size, tools_for < 1 ms)",
        title_justify="left",
    )
    table.add_column("spec")
    table.add_column("parser")
    for column in (
        "MB",
        "tools",
        "parse ms",
        "gc off",
        "load_spec ms",
        "build ms",
        "(load+build)/parse",
        "gc off",
        "peak MB",
        "peak/size",
        "parse peak/size",
        "tools_for µs",
    ):
        table.add_column(column, justify="right")

    for f in figures:
        # Only Cloudflare has a stated load-time target.
        load_target = f.ratio <= TARGET_LOAD_RATIO if f.name == "cloudflare" else None
        table.add_row(
            f.name,
            f.parser,
            f"{f.size_bytes / 1e6:.2f}",
            str(f.tools),
            f"{f.parse_ms:,.0f}",
            f"{f.parse_no_gc_ms:,.0f}",
            f"{f.load_ms:,.0f}",
            f"{f.build_ms:,.0f}",
            _verdict(f"{f.ratio:.2f}x", load_target),
            f"{f.ratio_no_gc:.2f}x",
            f"{f.peak_bytes / 1e6:,.1f}",
            _verdict(f"{f.peak_ratio:.1f}x", f.peak_ratio <= TARGET_PEAK_RATIO),
            f"{f.parse_peak_ratio:.1f}x",
            _verdict(f"{f.tools_for_us:.3f}", f.tools_for_us < TARGET_TOOLS_FOR_US),
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per spec")
    parser.add_argument(
        "--number", type=int, default=100_000, help="tools_for calls per repeat"
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)

    run_load(args.corpus, runs=args.runs, number=args.number, console=Console())
    return 0


if __name__ == "__main__":
    sys.exit(main())
