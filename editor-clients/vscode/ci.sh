#!/usr/bin/env bash
# CI for the VS Code extension: clean install, compile, lint, unit tests, .vsix.
# Each step's output goes to a log that is printed only when the step fails; CI sees one line
# per step. Needs Node 20+ and npm; the registry is used by `npm ci` only.
set -euo pipefail
cd "$(dirname "$0")"

export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

step() {
    local name=$1
    shift
    local log="$logs/$name.log" start=$SECONDS
    if ! "$@" >"$log" 2>&1; then
        echo "vscode: $name FAILED after $((SECONDS - start)) s:"
        cat "$log"
        exit 1
    fi
    echo "vscode: $name ok ($((SECONDS - start)) s)"
}

echo "vscode: node $(node --version), npm $(npm --version)"
step install npm ci --loglevel=error
step compile npm run compile
step lint npm run lint
step test npm test
grep -E '^# (tests|pass|fail) ' "$logs/test.log" | sed 's/^# //' | paste -sd, - | sed 's/,/, /g; s/^/vscode: /'
step package npm run package
grep -E 'DONE +Packaged' "$logs/package.log" | sed 's/^ *//; s/^/vscode: /'
echo "vscode: all steps ok in $SECONDS s"
