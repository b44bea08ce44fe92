#!/usr/bin/env bash
# Build the local venv .venvs/<name> from envs/<name>.txt (the same pins envs/<name>.yaml gives conda)
# and install the xairepro package into it (editable, no deps). Called by `make envs`, which only
# calls it when the pins changed: a second run does nothing.
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venvs/$name"
pins="$root/envs/$name.txt"
[ -f "$pins" ] || { echo "unknown environment '$name': expected $pins" >&2; exit 2; }
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
touch "$venv/.installed"
echo "environment $name ready in $(( $(date +%s) - start )) s: $venv"
