"""Throughput of the runtime against a bare httpx client on the sample API.

    python benchmarks/throughput.py [--calls 2000] [--rounds 3]

A thin wrapper around `ourguide_caller._bench.run_throughput` (the same
measurement as `ourguide-caller bench`) at concurrency 1, 16 and 64.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from ourguide_caller._bench import run_throughput

LEVELS = [1, 16, 64]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per cell")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args(argv)

    run_throughput(
        calls=args.calls, levels=LEVELS, rounds=args.rounds, console=Console()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
