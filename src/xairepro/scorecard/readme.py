"""Write generated Markdown into README.md between markers, so the README's numbers are never typed
by hand:

    python -m xairepro.scorecard.readme results/scorecard.md README.md [--block rps_lje=results/rps_lje/summary.md ...]
    python -m xairepro.scorecard.readme --check README.md

The scorecard goes between the `results` markers; each --block NAME=FILE between the `NAME` markers
(`<!-- NAME:start (make readme-results) -->` and `<!-- NAME:end -->`). Each file is first copied to
docs/results/NAME.md: these committed copies are the results the README cites (results/ is not in git),
and `--check` (run by the test suite) fails when a README block differs from its copy, i.e. when a
number was typed or edited by hand."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from xairepro.io import atomic_path

SNAPSHOTS = Path("docs/results")


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


def blocks(readme: str) -> dict[str, str]:
    """{name: the text between its markers} of every generated block in the README."""
    found = re.findall(r"<!-- (\w+):start \(make readme-results\) -->\n(.*?)\n<!-- \1:end -->", readme, re.S)
    return dict(found)


def check(readme: str, snapshots: Path) -> list[str]:
    """What differs between the README's generated blocks and the result files they cite."""
    problems = []
    ours = blocks(readme)
    for name, text in ours.items():
        cited = snapshots / f"{name}.md"
        if not cited.exists():
            problems.append(f"README block {name!r} cites {cited}, which does not exist: run `make readme-results`")
        elif text != cited.read_text().strip():
            changed = next((f"README {a!r} vs {cited} {b!r}" for a, b in
                            zip(text.splitlines(), cited.read_text().strip().splitlines()) if a != b),
                           "a different number of lines")
            problems.append(f"README block {name!r} differs from {cited} (typed by hand?): {changed}")
    for cited in sorted(snapshots.glob("*.md")):
        if cited.stem not in ours:
            problems.append(f"{cited} is cited by no README block: add its markers or delete it")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scorecard_md", type=Path, nargs="?")
    parser.add_argument("readme", type=Path)
    parser.add_argument("--block", action="append", default=[], metavar="NAME=FILE",
                        help="also put FILE between the NAME markers")
    parser.add_argument("--snapshots", type=Path, default=SNAPSHOTS, help="where the cited copies go")
    parser.add_argument("--check", action="store_true", help="only check the README against the copies")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.readme.read_text(), args.snapshots)
        print("\n".join(problems) or f"every generated README block equals its copy in {args.snapshots}")
        sys.exit(1 if problems else 0)
    if args.scorecard_md is None:
        parser.error("give the scorecard Markdown (or --check)")
    sources = {"results": args.scorecard_md}
    for item in args.block:
        name, _, path = item.partition("=")
        if not path:
            parser.error(f"--block takes NAME=FILE, got {item!r}")
        sources[name] = Path(path)
    text = args.readme.read_text()
    args.snapshots.mkdir(parents=True, exist_ok=True)
    for name, path in sources.items():
        block = path.read_text().strip() + "\n"
        with atomic_path(args.snapshots / f"{name}.md") as tmp:
            tmp.write_text(block)
        text = splice(text, block, name)
    with atomic_path(args.readme) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
