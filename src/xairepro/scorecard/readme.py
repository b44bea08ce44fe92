"""Write generated Markdown into README.md between markers, so the README's numbers are never typed
by hand:

    python -m xairepro.scorecard.readme results/scorecard.md README.md [--block rps_lje=results/rps_lje/summary.md ...]
    python -m xairepro.scorecard.readme README.md --block NAME=FILE   # one block alone, e.g. a new benchmark
    python -m xairepro.scorecard.readme --check README.md

The scorecard goes between the `results` markers; each --block NAME=FILE between the `NAME` markers
(`<!-- NAME:start (make readme-results) -->` and `<!-- NAME:end -->`). Each file is first copied to
docs/results/NAME.md: these committed copies are the results the README cites (results/ is not in git),
and `--check` (run by the test suite) fails when a README block differs from its copy, i.e. when a
number was typed or edited by hand.

`--check` also fails when the prose around the blocks quotes a measured number that no block holds
(`unsourced_numbers`), so a sentence cannot keep a number typed from a one-off run, nor an old number
after its block was regenerated. What counts as a measured number, and what is exempt:

- Tokens, outside generated blocks, fenced code and HTML comments: a decimal or a number in e-notation
  (0.0308, 3.8e-05, each side of 30.9 ± 0.9); a number with a unit: percent (87 %), ratio (8.2×),
  duration (16 min, 53 s, 0.4 ms, 6 h) or size (4.0 GB, 44 KiB), a range taking the unit after it
  (4.7–8.2 min); a number said to be approximate ("about 52", "≈ 53/17", "~200"); and a table cell that
  holds only numbers ("| 40/0 |"). Other plain integers (counts, sizes, seeds, steps, years) are not
  tokens: most are settings, and a bare integer is found in some block whatever it means.
- A token is sourced when a committed block copy (docs/results/*.md) prints it literally: a decimal as
  the same digits; a number with a unit with that unit, after it or in its table column's header
  ("wall s" over 863 sources "863 s"); an approximate integer as the same integer; a/b pairs as a/b.
- Exempt, because a file other than a result holds them: values of published_numbers.csv (the papers'
  numbers) and numeric values in config/*.yaml (settings), a percentage also as a fraction (20% = 0.2);
  never a ratio, a duration or a size, which are measured. Versions: x.y.z, v2.1, or the x.y of a version
  pinned in envs/*.txt or pyproject.toml. Names that carry a number (ResNet-20, LIG-10, arXiv ids, code
  spans that hold code, links).
- The one hand-written exemption is a label in the README itself: a parenthesis that starts with
  `paper:`, `setting:` or `goal:` says its numbers are a paper's value that published_numbers.csv does
  not hold (a secondary source, an authors' setting), a setting outside config/ or a target an issue
  set. The label stands where the number is read, instead of a list of numbers kept somewhere else."""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from xairepro.io import atomic_path
from xairepro.published import TABLE as PUBLISHED_TABLE

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


def block_problems(readme: str, snapshots: Path) -> list[str]:
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


# --- Measured numbers in the prose (definitions in the module docstring) ---------------------------------

NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+−]?\d+)?"
# A digit run glued to a name (ResNet-20, LIG-10, digits2, 840B, a commit hash) is part of the name.
_FREE = r"(?<![\w.])(?<![A-Za-z]-)"
_END = r"(?![\w.]*\d)(?![A-Za-z_])"
UNITS = {"%": "%", "×": "×", "ms": "ms", "s": "s", "sec": "s", "seconds": "s", "min": "min", "minutes": "min",
         "h": "h", "hours": "h", "B": "B", "KB": "KB", "MB": "MB", "GB": "GB", "KiB": "KiB", "MiB": "MiB", "GiB": "GiB"}
MEASURED_ONLY = {"×", "ms", "s", "min", "h", "B", "KB", "MB", "GB", "KiB", "MiB", "GiB"}  # never a setting's value
_WORD_UNITS = "|".join(sorted((u for u in UNITS if u not in "%×"), key=len, reverse=True))
HEADER_UNIT = re.compile(rf"(?<![\w-])({_WORD_UNITS})(?![\w-])")
FREE_NUMBER = re.compile(_FREE + f"({NUMBER})" + _END)
QUANTITY = re.compile(_FREE + rf"({NUMBER})(?:\s?[–-]\s?({NUMBER}))?((?<=\d)×|\s?%|\s(?:{_WORD_UNITS})\b)")
APPROXIMATE = re.compile(rf"(?:\babout|\baround|\broughly|\bnearly|≈|~)\s?({NUMBER}(?:\s?/\s?{NUMBER})*)" + _END)
DECIMAL = re.compile(_FREE + r"(\d+(?:,\d{3})*\.\d+(?:e[-+−]?\d+)?|\d+e[-+−]?\d+)" + _END)
PAIR = re.compile(_FREE + rf"({NUMBER}\s?/\s?{NUMBER})" + _END)
NUMERIC_CELL = re.compile(rf"\s*[-+−]?{NUMBER}(?:\s?[/±]\s?[-+−]?{NUMBER})*\s*")
# Spans whose numbers are not values: code spans holding code, links, HTML comments, arXiv ids, versions
# (x.y.z or v-prefixed) and the labelled parentheses of the module docstring.
NOT_VALUES = re.compile(
    r"`[^`]*[A-Za-z_=:/\[{][^`]*`|\]\([^)]*\)|https?://\S+|<!--.*?-->|arXiv \d+\.\d+"
    r"|(?<![\w.])v?\d+(?:\.\d+){2,}|(?<![\w.])v\d+(?:\.\d+)+|\((?:paper|setting|goal): [^()]*\)")


@dataclass(frozen=True)
class Token:
    line: int
    text: str  # as the README writes it
    numbers: tuple[str, ...]
    unit: str = ""
    pair: bool = False


@dataclass
class Evidence:
    """Every number the committed block copies print, in the forms a token is matched against."""
    numbers: set[str] = field(default_factory=set)
    quantities: set[tuple[str, str]] = field(default_factory=set)
    pairs: set[str] = field(default_factory=set)


def _unit(raw: str) -> str:
    return UNITS[raw.strip()]


def _table_cells(line: str):
    """(start, cell text) of each cell of a Markdown table row."""
    if not line.lstrip().startswith("|"):
        return
    offset = line.index("|") + 1
    for cell in line[offset:].split("|")[:-1]:
        yield offset, cell
        offset += len(cell) + 1


def line_tokens(number: int, line: str) -> list[Token]:
    """The measured-number tokens of one prose line."""
    text = NOT_VALUES.sub(lambda m: " " * len(m.group()), line).replace("`", " ")  # a bare-number code span stays
    taken: list[tuple[int, int]] = []
    tokens: list[Token] = []

    def add(span: tuple[int, int], token: Token) -> None:
        if not any(span[0] < end and start < span[1] for start, end in taken):
            taken.append(span)
            tokens.append(token)

    for m in QUANTITY.finditer(text):
        add(m.span(), Token(number, m.group().strip(), tuple(g for g in m.groups()[:2] if g), _unit(m[3])))
    for m in APPROXIMATE.finditer(text):
        add(m.span(), Token(number, m.group(), tuple(re.findall(NUMBER, m[1])), pair="/" in m[1]))
    for start, cell in _table_cells(text):
        if NUMERIC_CELL.fullmatch(cell):
            for m in PAIR.finditer(cell):
                pair = Token(number, m[1], tuple(re.findall(NUMBER, m[1])), pair=True)
                add((start + m.start(), start + m.end()), pair)
            for m in FREE_NUMBER.finditer(cell):
                add((start + m.start(), start + m.end()), Token(number, m[1], (m[1],)))
    for m in DECIMAL.finditer(text):
        add(m.span(), Token(number, m[1], (m[1],)))
    return sorted(tokens, key=lambda t: line.find(t.text))


def prose_lines(readme: str):
    """(line number, text) of the README lines outside generated blocks and fenced code."""
    block_end = fence = None
    for number, line in enumerate(readme.splitlines(), 1):
        stripped = line.strip()
        if block_end:
            block_end = None if stripped == block_end else block_end
        elif fence:
            fence = None if stripped.startswith(fence) else fence
        elif start := re.fullmatch(r"<!-- (\w+):start \(make readme-results\) -->", stripped):
            block_end = markers(start[1])[1]
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        else:
            yield number, line


def evidence(snapshots: Path) -> Evidence:
    found = Evidence()
    for cited in sorted(snapshots.glob("*.md")):
        text = cited.read_text()
        found.numbers.update(FREE_NUMBER.findall(text))
        for m in QUANTITY.finditer(text):
            found.quantities.update((n, _unit(m[3])) for n in m.groups()[:2] if n)
        found.pairs.update(re.sub(r"\s", "", p) for p in PAIR.findall(text))
        header_units: list[str] = []
        for line in text.splitlines():
            cells = [cell.strip() for _, cell in _table_cells(line)]
            if not cells:
                header_units = []
            elif not header_units:  # a table's first row: the unit each column's header names, if any
                header_units = [next(iter(HEADER_UNIT.findall(c.replace("min–max", ""))), "") for c in cells]
            else:  # a number in a column whose header names the unit carries it, e.g. "wall s" | 863
                found.quantities.update((c, _unit(u)) for c, u in zip(cells, header_units)
                                        if u and FREE_NUMBER.fullmatch(c))
    return found


def exempt_values(root: Path | None) -> tuple[list[float], set[str]]:
    """(numbers of published_numbers.csv and config/*.yaml, version strings of the pins)."""
    values = []
    with open(PUBLISHED_TABLE, newline="") as f:
        for row in csv.DictReader(f):
            values += [float(row[k]) for k in ("published", "tolerance") if FREE_NUMBER.fullmatch(row[k] or "")]
    versions: set[str] = set()
    if root is None:
        return values, versions

    def walk(node) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            values.append(float(node))
        elif isinstance(node, str):  # PyYAML reads 1e-3 as a string
            values.extend(float(n.replace(",", "")) for n in FREE_NUMBER.findall(node))

    for path in sorted((root / "config").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text()))
    pins = [*sorted((root / "envs").glob("*.txt")), root / "pyproject.toml"]
    for version in re.findall(r"[=<>~]=\s*(\d+(?:\.\d+)+)", "\n".join(p.read_text() for p in pins if p.exists())):
        parts = version.split(".")
        versions.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return values, versions


def _sourced(token: Token, found: Evidence) -> bool:
    if token.pair:
        return re.sub(r"\s", "", "/".join(token.numbers)) in found.pairs
    if token.unit:
        return all((n, token.unit) in found.quantities for n in token.numbers)
    return all(n in found.numbers for n in token.numbers)


def _exempt(token: Token, values: list[float], versions: set[str]) -> bool:
    if token.unit in MEASURED_ONLY:
        return False
    if not token.unit and not token.pair and token.numbers[0] in versions:
        return True

    def known(n: str) -> bool:
        x = float(n.replace(",", "").replace("−", "-"))
        candidates = (x, x / 100) if token.unit == "%" else (x,)
        return any(math.isclose(c, v, rel_tol=1e-9) for c in candidates for v in values)
    return all(known(n) for n in token.numbers)


def unsourced_numbers(readme: str, snapshots: Path, root: Path | None = None) -> list[str]:
    """A line per measured number in the README's prose that no committed block copy prints and that is
    neither a paper's value nor a setting (module docstring). root: the checkout, for config/ and the pins."""
    found = evidence(snapshots)
    values, versions = exempt_values(root)
    return [f"README line {t.line}: {t.text!r} is in no generated block ({snapshots}/*.md). Quote the number "
            f"as a block prints it, make it a block written by a generator (`make readme-results`), or drop "
            f"it and name the command that measures it"
            for number, line in prose_lines(readme) for t in line_tokens(number, line)
            if not _sourced(t, found) and not _exempt(t, values, versions)]


def check(readme: str, snapshots: Path, root: Path | None = None) -> list[str]:
    """Every problem `--check` reports: blocks that differ from their copies, then unsourced prose numbers."""
    return block_problems(readme, snapshots) + unsourced_numbers(readme, snapshots, root)


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
        problems = check(args.readme.read_text(), args.snapshots, args.readme.resolve().parent)
        print("\n".join(problems) or f"every generated README block equals its copy in {args.snapshots}, "
              "and every measured number in the prose is in one of them")
        sys.exit(1 if problems else 0)
    if args.scorecard_md is None and not args.block:
        parser.error("give the scorecard Markdown, a --block, or --check")
    sources = {"results": args.scorecard_md} if args.scorecard_md else {}  # blocks alone: a benchmark run apart
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
