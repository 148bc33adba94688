"""What redacting a large response costs, next to decoding it.

    python benchmarks/redaction.py [--runs 5] [--megabytes 5]

Every result is redacted before anyone sees it: each spelling of each secret
is searched for, and where the text holds escapes (`%`, `&`, `\\u`) one
pattern per secret reads every character either way. This prints, for bodies
of the read limit's size, the median time to redact them with four secrets
(three 64-character keys and a 500-character identity token) and its ratio
to `bytes.decode` of the same body in the same run, plus the one-time cost of
building a new token's pattern.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time

from rich.console import Console
from rich.table import Table

from ourguide_caller._redaction import Redactor


def bodies(size: int) -> dict[str, bytes]:
    """Bodies of `size` bytes: plain text, and text dense with the characters
    that make the per-character pattern run (the worst case)."""
    entity = b'{"name": "Caf&eacute; &amp; Bar", "url": "a%20b"},\n'
    return {
        "plain text": b"a" * size,
        "JSON with entities and escapes": entity * (size // len(entity)),
        "all '%'": b"%" * size,
        "all '&'": b"&" * size,
    }


def median_ms(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per body")
    parser.add_argument("--megabytes", type=float, default=5.0, help="body size")
    args = parser.parse_args(argv)

    keys = [secrets.token_urlsafe(48) for _ in range(3)]
    token = "eyJ" + secrets.token_urlsafe(375)
    base = Redactor(keys)

    started = time.perf_counter()
    redact = base.with_secret(token)
    redact("%")  # the escape pattern is built on first need
    built_ms = (time.perf_counter() - started) * 1000

    table = Table(title=f"redaction of {args.megabytes:g} MB bodies, 4 secrets")
    for column in ("body", "decode ms", "redact ms", "redact/decode"):
        table.add_column(column, justify="left" if column == "body" else "right")
    for name, body in bodies(int(args.megabytes * 1_000_000)).items():
        decode_ms = median_ms(lambda body=body: body.decode("utf-8"), args.runs)
        text = body.decode("utf-8")
        redact_ms = median_ms(lambda text=text: redact(text), args.runs)
        table.add_row(
            name,
            f"{decode_ms:.1f}",
            f"{redact_ms:.1f}",
            f"{redact_ms / decode_ms:.0f}x",
        )

    console = Console()
    console.print(table)
    console.print(f"building a new identity token's pattern: {built_ms:.0f} ms, once")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
