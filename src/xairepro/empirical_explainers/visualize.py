"""Step 6: HTML heatmaps, the target explainer's and the EE's attributions side by side (one row
each), one section per test instance in one self-contained page (so the Snakemake report can embed
it). Red = evidence for the predicted class, blue = against; each row is scaled by its largest
absolute score.

python -m xairepro.empirical_explainers.visualize --target results/.../target/test.0.jsonl ... \
    --ee results/.../explainer/test.jsonl --downstream results/.../downstream/model --out results/.../heatmaps.html
"""
from __future__ import annotations

import argparse
import html

from xairepro.io import atomic_path, start_step
from xairepro.empirical_explainers.data import read_jsonl, size_arg


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


def section(title: str, tokens: list[str], rows: dict[str, list[float]], caption: str) -> str:
    body = "".join(heatmap_row(label, tokens, scores) for label, scores in rows.items())
    return f"<section><h2>{html.escape(title)}</h2><p>{html.escape(caption)}</p><table>{body}</table></section>"


def document(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>th{text-align:left;padding-right:1em;vertical-align:top}.token{padding:1px 2px;line-height:1.8}</style>"
            f"</head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n")


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", nargs="+", required=True, help="target explanation shards of the test split, in order")
    p.add_argument("--ee", required=True)
    p.add_argument("--downstream", required=True, help="downstream model folder (its tokenizer turns ids into tokens)")
    p.add_argument("--explainer", required=True, help="name of the target explainer, for the labels")
    p.add_argument("--instances", type=size_arg, default=None, help="how many instances to draw (default: all)")
    p.add_argument("--out", required=True, help="the HTML page")
    a = p.parse_args(argv)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(a.downstream)
    target, ee = read_jsonl(*a.target)[:a.instances], read_jsonl(a.ee)[:a.instances]
    if [r["input_ids"] for r in target] != [r["input_ids"] for r in ee]:
        raise ValueError(f"{a.ee} and the target files explain different inputs: rerun ee_explain")
    sections = [section(f"test instance {t['index']}", tokenizer.convert_ids_to_tokens(t["input_ids"]),
                        {f"target ({a.explainer})": t["attributions"], "Empirical Explainer": e["attributions"]},
                        f"prediction {t['prediction']}, label {t['label']}")
                for t, e in zip(target, ee)]
    with atomic_path(a.out) as tmp:
        tmp.write_text(document(f"Target explainer ({a.explainer}) vs Empirical Explainer", sections))
    log.info("wrote %d heatmaps to %s", len(sections), a.out)


if __name__ == "__main__":
    main()
