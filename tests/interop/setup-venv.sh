#!/usr/bin/env bash
# Makes the virtual environment of the django-mysql interop test
# (tests/tests/django_interop.rs): target/interop-venv, or
# $MYSQL_LOCK_INTEROP_VENV, with the pinned packages of requirements.txt
# (Django, django-mysql, PyMySQL: pure Python, no compiler needed). Does
# nothing when the environment already has exactly those pins. Needs
# python3 with its venv module (Debian: apt-get install python3-venv) and
# access to PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${MYSQL_LOCK_INTEROP_VENV:-$root/target/interop-venv}"
requirements="$here/requirements.txt"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "interop venv up to date: $venv"
  exit 0
fi
if ! command -v "$python" >/dev/null; then
  echo "error: $python not found; install Python 3 (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "error: $python has no venv/ensurepip module; on Debian: apt-get install python3-venv" >&2
  exit 1
fi
started=$EPOCHREALTIME
if ! "$python" -m venv --clear "$venv"; then
  echo "error: $python -m venv failed; on Debian: apt-get install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$venv/requirements.txt"
echo "interop venv ready in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }") s: $venv"
