#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: the Python tests (the server, the learners,
# and the Neovim plugin against the real server when `nvim` is installed), then, when no
# pytest arguments are given, the VS Code extension's compile, lint, unit tests and .vsix
# (when npm is installed). BOWERBIRD_REQUIRE_NVIM=1 / BOWERBIRD_REQUIRE_NODE=1 turn a missing
# tool into a failure instead of a skip (CI sets both).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
if [ $# -gt 0 ]; then
    exit 0
fi
if command -v npm >/dev/null; then
    bash editor-clients/vscode/ci.sh
elif [ "${BOWERBIRD_REQUIRE_NODE:-}" = 1 ]; then
    echo "npm not found: the VS Code extension cannot be built (BOWERBIRD_REQUIRE_NODE=1)" >&2
    exit 1
else
    echo "npm not found: skipping the VS Code extension's build and tests" >&2
fi
