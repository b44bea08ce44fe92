"""Write generated Markdown into README.md between markers, so the README's numbers are never typed
by hand:

    python -m xairepro.scorecard.readme results/scorecard.md README.md [--block rps_lje=results/rps_lje/summary.md ...]

The scorecard goes between the `results` markers; each --block NAME=FILE between the `NAME` markers
(`<!-- NAME:start (make readme-results) -->` and `<!-- NAME:end -->`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from xairepro.io import atomic_path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start (make readme-results) -->", f"<!-- {name}:end -->"


START, END = markers("results")


def splice(readme: str, block: str, name: str = "results") -> str:
    start, end = markers(name)
    if start not in readme or end not in readme:
        raise ValueError(f"README has no {name} markers: add the lines {start!r} and {end!r}")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block.strip()}\n{end}{tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scorecard_md", type=Path)
    parser.add_argument("readme", type=Path)
    parser.add_argument("--block", action="append", default=[], metavar="NAME=FILE",
                        help="also put FILE between the NAME markers")
    args = parser.parse_args(argv)
    text = splice(args.readme.read_text(), args.scorecard_md.read_text())
    for item in args.block:
        name, _, path = item.partition("=")
        if not path:
            parser.error(f"--block takes NAME=FILE, got {item!r}")
        text = splice(text, Path(path).read_text(), name)
    with atomic_path(args.readme) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
