"""Step truth_report: every task's table in one CSV, and the Markdown table that `make readme-results`
puts into the README (methods ranked by LDS within each task, cost beside quality)."""
from __future__ import annotations

import argparse

import pandas as pd

from xairepro.attribution_truth.evaluate import COLUMNS
from xairepro.io import atomic_path, start_step, write_csv

NAMES = {"lje": "RPS-LJE", "rps_l2": "RPS-l2 (fitted to predictions, as the RPS-LJE authors)", "if": "IF (last layer)", "explaind": "ExPLAIND EPK (last-layer run)",
         "dknn": "DkNN neighbours", "gr": "Gradient Rollback", "dattri_if": "dattri IF (explicit)",
         "dattri_tracin": "dattri TracIn", "dattri_trak": "dattri TRAK", "random": "random (baseline)",
         "same_label": "same label (baseline)", "shares_entity": "shares h, r or t (baseline)"}


def markdown(table: pd.DataFrame) -> str:
    lines = []
    for task, rows in table.groupby("task", sort=False):
        first = rows.iloc[0]
        lines += [f"**{task}**: explained model right on {first['explained_accuracy']:.0%} of the {first['test_points']} "
                  f"test points; LDS over {first['lds_subsets']} subsets of {first['lds_alpha']:.0%} of the training set; "
                  f"LOO over {first['loo_points']} training points × {first['loo_seeds']} seeds, reliability "
                  f"{first['loo_reliability']:.2f} (no LOO Spearman above about {first['loo_ceiling']:.2f} is to be "
                  "expected). ± is the sd over test points.", "",
                  "| method | LDS | LOO Spearman | seconds | peak MiB |", "|---|---|---|---|---|"]
        for _, r in rows.sort_values("lds_mean", ascending=False).iterrows():
            lines.append(f"| {NAMES.get(r['method'], r['method'])} | {r['lds_mean']:.3f} ± {r['lds_std']:.3f} | "
                         f"{r['loo_spearman_mean']:.3f} ± {r['loo_spearman_std']:.3f} | {r['seconds']:.3g} | "
                         f"{r['peak_mib']:.0f} |")
        for _, r in rows[rows["agreement_with"].notna() & (rows["agreement_with"] != "")].iterrows():
            lines += ["", f"{NAMES.get(r['method'], r['method'])} vs ours ({NAMES.get(r['agreement_with'])}): Spearman "
                          f"{r['agreement']:.3f} between their scores (mean over test points)."]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--markdown", required=True)
    args = parser.parse_args(argv)
    table = pd.concat([pd.read_csv(p) for p in args.tables], ignore_index=True)
    write_csv(args.out, table[COLUMNS].astype(str).to_dict("records"), COLUMNS)
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(markdown(table))


if __name__ == "__main__":
    main()
