#!/usr/bin/env bash
# Run the test suite, each folder with the interpreter of its framework environment (tests for TF code
# cannot run where torch is installed, Chainer's need numpy < 2). Extra arguments go to every pytest.
# Prints one closing line with the totals of the three runs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
declare -A TESTS=(
    [tf]="tests/gradient_rollback"
    [chainer]="tests/dknn"
)
torch_ignores=()
for dirs in "${TESTS[@]}"; do for d in $dirs; do torch_ignores+=("--ignore=$d"); done; done
reports=$(mktemp -d)
status=0
run() {  # run ENV ARG...: pytest under .venvs/ENV for the existing folders among ARGs (--options pass through)
    local env=$1; shift
    local dirs=() opts=()
    for a in "$@"; do
        case $a in --*) opts+=("$a") ;; *) [ -d "$a" ] && dirs+=("$a") ;; esac
    done
    [ ${#dirs[@]} -gt 0 ] || return 0
    echo "=== pytest in the $env environment: ${dirs[*]}"
    ".venvs/$env/bin/python" -m pytest "${dirs[@]}" "${opts[@]}" --junitxml="$reports/$env.xml" "${EXTRA[@]}"
    local rc=$?
    # pytest exits 5 when it collected no test: a folder that should have tests and has none is a failure.
    if [ $rc -eq 5 ]; then echo "no tests were collected in ${dirs[*]} ($env)" >&2; fi
    [ $rc -eq 0 ] || status=1
}
EXTRA=("$@")
run tf ${TESTS[tf]}
run chainer ${TESTS[chainer]}
run torch tests "${torch_ignores[@]}"
.venvs/torch/bin/python - "$reports" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
tot = dict(tests=0, failures=0, errors=0, skipped=0)
for f in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for suite in ET.parse(f).getroot().iter("testsuite"):
        for k in tot:
            tot[k] += int(suite.get(k, 0))
failed = tot["failures"] + tot["errors"]
print(f"{tot['tests'] - failed - tot['skipped']} passed, {failed} failed, {tot['skipped']} skipped")
PY
rm -rf "$reports"
exit $status
