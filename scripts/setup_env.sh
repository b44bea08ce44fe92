#!/usr/bin/env bash
# Build the local venv .venvs/<name> from envs/<name>.txt (the same pins envs/<name>.yaml gives conda)
# and install the xairepro package into it (editable, no deps). `make envs` calls it with --if-stale:
# then it does nothing when the venv's stamp (.venvs/<name>/.installed) says it was built for this
# checkout's location, these pins, this pyproject.toml, this script and this python3, and the venv still
# runs; a moved checkout (venv scripts name their old path) or a broken venv is rebuilt. --check only
# says which it is (exit 0: fresh, 1: stale or broken).
set -euo pipefail
mode=build
case "${1:-}" in --if-stale) mode=if-stale; shift ;; --check) mode=check; shift ;; esac
name=${1:?usage: setup_env.sh [--if-stale|--check] NAME}
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venvs/$name"
pins="$root/envs/$name.txt"
[ -f "$pins" ] || { echo "unknown environment '$name': expected $pins" >&2; exit 2; }
digest() { sha256sum "$1" | cut -c1-12; }
stamp="root=$root
pins=$(PYTHONPATH="$root/src" python3 -m xairepro.envs hash "$name")
pyproject=$(digest "$root/pyproject.toml")
setup=$(digest "$0")
python=$(python3 -c 'import sys; print(sys.version.split()[0])')"
fresh() {
    [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$stamp" ] \
        && "$venv/bin/python" -c "import xairepro" 2>/dev/null \
        && { [ ! -e "$venv/bin/snakemake" ] || "$venv/bin/snakemake" --version >/dev/null 2>&1; }
}
if [ "$mode" != build ]; then
    if fresh; then
        [ "$mode" = check ] && echo "environment $name: fresh"
        exit 0
    fi
    built=$( [ -f "$venv/.installed" ] && tr '\n' ' ' < "$venv/.installed" || echo "nothing: no venv")
    echo "environment $name: stale or broken (built for: $built; this checkout: $(echo "$stamp" | tr '\n' ' '))"
    [ "$mode" = check ] && exit 1
    echo "rebuilding $name"
fi
start=$(date +%s)
rm -rf "$venv"
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# pip warns once per package about this machine's empty local index folders; the noise hides real errors.
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
if [ "$name" = chainer ]; then
    # chainer 7.8.1 is an sdist that breaks with numpy 2 and setuptools>=74: install the build pins first
    # and build it against them, without pip's isolated build environment.
    quiet "${pip[@]}" $(grep -E '^(numpy|setuptools)==' "$pins") wheel
    quiet "${pip[@]}" --no-build-isolation -r "$pins"
else
    quiet "${pip[@]}" -r "$pins"
fi
quiet "${pip[@]}" --no-deps --no-build-isolation -e "$root"
echo "$stamp" > "$venv/.installed"
echo "environment $name ready in $(( $(date +%s) - start )) s: $venv"
