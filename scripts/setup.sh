#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install Bowerbird with its test dependencies. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Bowerbird needs Python 3.11+"'
  "$PYTHON" -m venv .venv
fi
log=.venv/pip-install.log
# torch first, pinned: its CPU build (a bare `torch` would pull a multi-GB CUDA build).
if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
       .venv/bin/python -m pip install --disable-pip-version-check "torch==${TORCH_VERSION:-2.13.0}" &&
       .venv/bin/python -m pip install --disable-pip-version-check -e '.[test]'; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup failed (log above, also in $log)" >&2
  exit 1
fi
