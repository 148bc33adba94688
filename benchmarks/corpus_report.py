"""Report how every document of a real-world OpenAPI corpus becomes tools.

    python benchmarks/corpus_report.py [FOLDER]

FOLDER defaults to the `shared/specs/real` folder beside the repository. The
exit status is 0 when every document loaded, 1 when any failed, 2 when the
folder does not exist.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from ourguide_caller._corpus import corpus_report

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DEFAULT_FOLDER
    console = Console()

    if not folder.is_dir():
        console.print(f"no such folder: {folder}", markup=False)
        return 2

    summary = corpus_report(folder, console=console)
    return 0 if not summary.failures else 1


if __name__ == "__main__":
    sys.exit(main())
