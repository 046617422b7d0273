#!/usr/bin/env bash
# Set up (if needed), index a repository, show the prompt proposals for one hole, and complete
# it with the embedded model; then lint the repository (and a planted bug) for variable misuse.
# Usage: bash scripts/demo.sh [REPO [FILE LINE COL]]   (default: the fixture repository)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
repo="${1:-tests/data/pyrepo}"
index_dir="${BOWERBIRD_INDEX_DIR:-$(mktemp -d)}"
echo "== bowerbird index $repo" >&2
.venv/bin/bowerbird index "$repo" --index-dir "$index_dir"
if [ $# -ge 4 ]; then
  file="$2"; line="$3"; col="$4"
else
  # The first hole RLPG would cut in the repository: a real line, split at its middle.
  read -r file line col < <(.venv/bin/bowerbird holes "$repo" --per-file 1 --seed 0 | .venv/bin/python -c '
import json, sys
holes = [json.loads(l) for l in sys.stdin]
hole = max(holes, key=lambda h: (len(h["target"]) > 8, h["line"] > 5, -len(h["path"])))
print(sys.argv[1] + "/" + hole["path"], hole["line"], hole["col"])' "$repo")
fi
echo "== bowerbird proposals $file --line $line --col $col" >&2
.venv/bin/bowerbird proposals "$file" --line "$line" --col "$col" --index-dir "$index_dir" --prompt-tokens 400 --show
echo "== bowerbird complete $file --line $line --col $col (embedded model)" >&2
.venv/bin/bowerbird complete "$file" --line "$line" --col "$col" --index-dir "$index_dir" --candidates 3 --temperature 0.6
if [ -f learners/checkpoints/misuse/model.safetensors ]; then
  echo "== bowerbird check $repo (variable misuse, the shipped model; findings at its calibrated threshold)" >&2
  .venv/bin/bowerbird check "$repo" || true   # exit status 1 means findings
  planted="$(mktemp -d)/planted.py"
  cat > "$planted" <<'PY'
def mean(values):
    total = 0
    count = 0
    for value in values:
        total += value
        count += 1
    return total / total
PY
  echo "== bowerbird check $planted --report functions (a planted misuse: the last line should divide by count)" >&2
  .venv/bin/bowerbird check "$planted" --report functions || true
fi
