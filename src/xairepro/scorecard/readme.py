"""Write the scorecard's Markdown into README.md between the results markers, so the README's numbers
are never typed by hand:  python -m xairepro.scorecard.readme results/scorecard.md README.md"""
from __future__ import annotations

import argparse
from pathlib import Path

from xairepro.io import atomic_path

START, END = "<!-- results:start (make readme-results) -->", "<!-- results:end -->"


def splice(readme: str, block: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError(f"README has no results markers: add the lines {START!r} and {END!r}")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block.strip()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scorecard_md", type=Path)
    parser.add_argument("readme", type=Path)
    args = parser.parse_args(argv)
    text = splice(args.readme.read_text(), args.scorecard_md.read_text())
    with atomic_path(args.readme) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
