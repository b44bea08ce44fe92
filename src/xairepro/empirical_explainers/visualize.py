"""Step 6: HTML heatmaps, the target explainer's and the EE's attributions side by side (one row
each), one document per test instance plus index.html linking them. Red = evidence for the
predicted class, blue = against; each row is scaled by its largest absolute score.

python -m xairepro.empirical_explainers.visualize --target results/.../target/test.0.jsonl ... \
    --ee results/.../explainer/test.jsonl --downstream results/.../downstream/model --out results/.../visualizations
"""
from __future__ import annotations

import argparse
import html

from xairepro.io import start_step
from xairepro.empirical_explainers.data import atomic_dir, read_jsonl, size_arg


def colour(score: float, scale: float) -> str:
    """White at 0, saturating to red (positive) or blue (negative) at |score| = scale."""
    strength = min(abs(score) / scale, 1.0) if scale > 0 else 0.0
    fade = round(255 * (1 - strength))
    return f"rgb(255,{fade},{fade})" if score >= 0 else f"rgb({fade},{fade},255)"


def heatmap_row(label: str, tokens: list[str], scores: list[float]) -> str:
    scale = max((abs(s) for s in scores), default=0.0)
    spans = "".join(f'<span class="token" style="background-color:{colour(s, scale)}" title="{s:.4f}">'
                    f"{html.escape(t)}</span> " for t, s in zip(tokens, scores))
    return f'<tr><th>{html.escape(label)}</th><td>{spans}</td></tr>'


def document(title: str, tokens: list[str], rows: dict[str, list[float]], caption: str) -> str:
    body = "".join(heatmap_row(label, tokens, scores) for label, scores in rows.items())
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>th{text-align:left;padding-right:1em;vertical-align:top}.token{padding:1px 2px;line-height:1.8}</style>"
            f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(caption)}</p><table>{body}</table></body></html>\n")


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", nargs="+", required=True, help="target explanation shards of the test split, in order")
    p.add_argument("--ee", required=True)
    p.add_argument("--downstream", required=True, help="downstream model folder (its tokenizer turns ids into tokens)")
    p.add_argument("--explainer", required=True, help="name of the target explainer, for the labels")
    p.add_argument("--instances", type=size_arg, default=None, help="how many instances to draw (default: all)")
    p.add_argument("--out", required=True, help="folder for index.html and one document per instance")
    a = p.parse_args(argv)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(a.downstream)
    target, ee = read_jsonl(*a.target)[:a.instances], read_jsonl(a.ee)[:a.instances]
    if [r["input_ids"] for r in target] != [r["input_ids"] for r in ee]:
        raise ValueError(f"{a.ee} and the target files explain different inputs: rerun ee_explain")
    links = []
    with atomic_dir(a.out) as folder:
        for t, e in zip(target, ee):
            name = f"instance_{t['index']:05d}.html"
            caption = f"prediction {t['prediction']}, label {t['label']}"
            (folder / name).write_text(document(f"test instance {t['index']}", tokenizer.convert_ids_to_tokens(t["input_ids"]),
                                                {f"target ({a.explainer})": t["attributions"],
                                                 "Empirical Explainer": e["attributions"]}, caption))
            links.append(f'<li><a href="{name}">instance {t["index"]}</a> ({html.escape(caption)})</li>')
        (folder / "index.html").write_text(
            f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Heatmaps: {html.escape(a.explainer)} vs EE"
            f"</title></head><body><h1>Target explainer ({html.escape(a.explainer)}) vs Empirical Explainer</h1>"
            f"<ul>{''.join(links)}</ul></body></html>\n")
    log.info("wrote %d heatmaps to %s", len(links), a.out)


if __name__ == "__main__":
    main()
