"""Step 5: the combined 40%-checked table of all models, and the explanation time of each explainer
(mean over runs, from the explain step's timing files; timings stay out of metrics files).

    python -m xairepro.rps_lje.report --tables cnn/debugging_40pct.csv ... --timings run0/explain_lje.timing.json ... \
        --table results/rps_lje/debugging_40pct.csv --times results/rps_lje/explain_times.csv
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from xairepro.io import start_step, write_csv
from xairepro.published import COMPARISON_COLUMNS


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", required=True)
    p.add_argument("--timings", nargs="+", required=True, help=".../{dataset}/{model}/run*/explain_*.timing.json")
    p.add_argument("--table", required=True)
    p.add_argument("--times", required=True)
    args = p.parse_args(argv)
    rows = pd.concat([pd.read_csv(t, dtype=str, keep_default_na=False) for t in args.tables]).to_dict("records")
    write_csv(args.table, rows, COMPARISON_COLUMNS)
    timings = []
    for path in args.timings:
        run_dir = Path(path).parent
        timings.append({"dataset": run_dir.parents[1].name, "model": run_dir.parent.name,
                        **json.loads(Path(path).read_text())})
    times = (pd.DataFrame(timings).groupby(["dataset", "model", "explainer"], sort=False)
             .agg(seconds_mean=("seconds", "mean"), peak_rss_mb_max=("peak_rss_mb", "max"), runs=("seconds", "size"))
             .reset_index().round(4))
    write_csv(args.times, times.to_dict("records"))
    log.info("explain times:\n%s", times.to_string())


if __name__ == "__main__":
    main()
