"""Every figure or page a rule writes is registered in the Snakemake report (report() with a caption),
and nothing registered is a folder (a self-contained report.html cannot hold one)."""
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".html")

# Included after the real Snakefile: at parse time, print every rule output with its report flag.
INSPECT = f'''
include: "{REPO / "Snakefile"}"

import json as _json
from snakemake.io import is_flagged as _flagged
for _rule in workflow.rules:
    for _f in _rule.output:
        print("OUTPUT " + _json.dumps([_rule.name, str(_f), bool(_flagged(_f, "report")),
                                       bool(_flagged(_f, "directory"))]))
'''


def test_every_figure_output_is_registered_in_the_report(tmp_path):
    snakefile = tmp_path / "inspect.smk"
    snakefile.write_text(INSPECT)
    snakemake = Path(sys.executable).with_name("snakemake")
    proc = subprocess.run([str(snakemake), "-s", str(snakefile), "-d", str(tmp_path), "-n"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = [json.loads(line[len("OUTPUT "):]) for line in proc.stdout.splitlines() if line.startswith("OUTPUT ")]
    assert any(name == "scorecard" for name, *_ in outputs)
    unregistered = [(name, path) for name, path, flagged, _ in outputs
                    if path.endswith(FIGURE_SUFFIXES) and not flagged]
    assert not unregistered, f"figures not registered with report(): {unregistered}"
    folders = [(name, path) for name, path, flagged, folder in outputs if flagged and folder]
    assert not folders, f"folders registered with report() break `snakemake --report report.html`: {folders}"
