"""config/README.md from the config schemas (workflow/schemas/*.schema.yaml): every key with its type,
allowed values, default and description, so the documentation cannot drift from what is validated.

    python -m xairepro.config.docs workflow/schemas/config.schema.yaml config/README.md
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from xairepro.io import atomic_path

HEADER = """# Configuration keys

Generated from `workflow/schemas/` by `python -m xairepro.config.docs workflow/schemas/config.schema.yaml
config/README.md` (a test fails when this file is out of date). `config/config.yaml` is the small CPU
default, `config/paper.yaml` the paper scale, `config/rehearsal.yaml` (layered on paper.yaml) the paper DAG on
miniatures; Snakemake validates them against the same schemas, so a key not listed here is an error.
"""


def _resolve(node: dict, here: Path, root: dict) -> tuple[dict, Path, dict]:
    """Follow a $ref to another schema file (relative to `here`) or to #/$defs of the current file."""
    ref = node.get("$ref")
    if ref is None:
        return node, here, root
    if ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        return _resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}}, here, root)
    path = here.parent / ref
    loaded = yaml.safe_load(path.read_text())
    return _resolve(loaded, path, loaded)


def _inline(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).strip().removesuffix("...").strip()


def _type(node: dict) -> str:
    if "const" in node:
        return f"`{node['const']}`"
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            return " or ".join(_type(option) for option in node[combinator])
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" if v is not None else "`null`" for v in node["enum"])
    kind = node.get("type", "")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    entry = node.get("additionalProperties")
    if kind == "object" and isinstance(entry, dict) and "properties" not in entry and "$ref" not in entry:
        return f"map: name → ({_type(entry)})"
    if kind == "array" and "items" in node:
        return f"list of ({_type(node['items'])})"
    bounds = [f"{label} {node[key]}" for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                          ("maximum", "≤"), ("exclusiveMaximum", "<"))
              if key in node]
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def rows(node: dict, here: Path, root: dict, prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(key path, type, default, required, description) for every key below `node`, depth first."""
    node, here, root = _resolve(node, here, root)
    out = []
    required = set(node.get("required", []))
    for key, child in node.get("properties", {}).items():
        child, child_here, child_root = _resolve(child, here, root)
        path = f"{prefix}{key}"
        default = child.get("default", "")
        default = "" if default == "" else f"`{_inline(default)}`"
        description = " ".join(str(child.get("description", "")).split())
        open_section = "properties" in child and child.get("additionalProperties", True) is not False \
            and not isinstance(child.get("additionalProperties"), dict)
        kind = _type(child) if "properties" not in child else "section" + (" (open: more keys, see description)"
                                                                             if open_section else "")
        out.append((path, kind, default, "yes" if key in required else "", description))
        if "properties" in child:
            out += rows(child, child_here, child_root, prefix=f"{path}.")
        entry = child.get("additionalProperties")
        if isinstance(entry, dict) and "properties" in _resolve(entry, child_here, child_root)[0]:
            names = child.get("propertyNames", {}).get("enum")
            out.append((f"{path}.<name>", "section", "", "", "one entry per name" + (
                f" ({', '.join(map(str, names))})" if names else "") + "; its keys below"))
            out += rows(entry, child_here, child_root, prefix=f"{path}.<name>.")
    return out


def markdown(schema: Path) -> str:
    root = yaml.safe_load(schema.read_text())
    lines = [HEADER, "| key | type | default | required | description |", "|---|---|---|---|---|"]
    for path, kind, default, required, description in rows(root, schema, root):
        cells = [f"`{path}`", kind, default, required, description.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    with atomic_path(args.out) as tmp:
        tmp.write_text(markdown(args.schema))


if __name__ == "__main__":
    main()
