"""Misuse diagnostics speed: the first analysis of a ~1,000-line file, then one edit at a time.

    .venv/bin/python benchmarks/bench_diagnostics.py [--file PATH] [--edits N] [--model DIR] [--json]

What the server does per document (`learners/misuse/detect.py: detect_source` with a
`FunctionCache`), on one torch thread: the first analysis builds every function's graph and
runs the model over all of them (target <= 2 s for a 1,000-line file); after an edit inside one
function, only that function goes through the graph builder and the model again (target <=
300 ms). Each edit appends a statement to a different function (round robin) of the file.
Without `--model` the shipped model (`learners/checkpoints/misuse`) is used, or, when there is
none, a model of the default size with random weights (the time does not depend on them). The server's debounce (`diagnostics.debounceMs`, 150 ms by default)
comes on top of the edit time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _util import environment, log, percentile, stdlib_root, table, verdict, write_result

FIRST_TARGET_MS = 2000.0
EDIT_TARGET_MS = 300.0
DEFAULT_FILE = "shutil.py"  # 968 lines in Python 3.11


def load(model_dir: Path | None, text: str):
    import torch

    from bowerbird.analysis.graphs.tensors import build_subtoken_vocabulary, node_type_vocabulary
    from bowerbird.learners.misuse.checkpoint import load_model
    from bowerbird.learners.misuse.model import MisuseConfig, MisuseModel

    from bowerbird.learners.misuse.defaults import default_model_folder, is_model_folder

    if model_dir is None and is_model_folder(default_model_folder()):
        model_dir = default_model_folder()
    if model_dir is not None:
        model, vocabulary, _ = load_model(model_dir)
        return model, vocabulary
    torch.manual_seed(0)
    vocabulary = build_subtoken_vocabulary(text.split(), 5000)
    model = MisuseModel(MisuseConfig(vocab_size=5001, num_node_types=len(node_type_vocabulary()) + 1, access_inputs=True))
    return model, vocabulary


def edited(text: str, functions: list, k: int) -> str:
    """``text`` with ``x_k = k`` added as the first statement of the k-th function (round robin)."""
    from bowerbird.learners.misuse.synthesis import file_functions

    target = functions[k % len(functions)]
    lines = text.split("\n")
    def_line = next(i for i in range(target.line - 1, len(lines)) if lines[i].lstrip().startswith(("def ", "async def ")))
    end = def_line
    while not lines[end].rstrip().endswith(":"):  # a signature over several lines
        end += 1
    body = end + 1
    while body < len(lines) and not lines[body].strip():
        body += 1
    indent = lines[body][: len(lines[body]) - len(lines[body].lstrip())]
    lines.insert(body, f"{indent}x_{k} = {k}")
    new = "\n".join(lines)
    assert len(file_functions(new)) == len(file_functions(text))
    return new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=None, help=f"default: the standard library's {DEFAULT_FILE}")
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--model", type=Path, default=None, help="a misuse model folder (default: random weights)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from bowerbird.learners.misuse.detect import FunctionCache, detect_source
    from bowerbird.learners.misuse.synthesis import file_functions

    torch.set_num_threads(1)
    path = args.file or stdlib_root() / DEFAULT_FILE
    text = path.read_text()
    model, vocabulary = load(args.model, text)
    model.eval()
    functions = file_functions(text)
    log(f"{path}: {len(text.splitlines())} lines, {len(functions)} functions")
    detect_source(model, vocabulary, text, str(path))  # warm-up: imports, first torch calls
    cache = FunctionCache()
    started = time.perf_counter()
    first = detect_source(model, vocabulary, text, str(path), cache=cache)
    first_ms = 1000 * (time.perf_counter() - started)
    edits: list[float] = []
    current = text
    for k in range(args.edits):
        current = edited(current, functions, k)
        started = time.perf_counter()
        detect_source(model, vocabulary, current, str(path), cache=cache)
        edits.append(1000 * (time.perf_counter() - started))
    edits.sort()
    p50, p95 = percentile(edits, 50), percentile(edits, 95)
    document = {
        "file": str(path), "lines": len(text.splitlines()), "functions": len(functions),
        "analysed": first.analysed, "model": str(args.model) if args.model else "random weights, default size",
        "first_ms": round(first_ms, 1), "edit_ms": {"p50": round(p50, 1), "p95": round(p95, 1), "max": round(edits[-1], 1)},
        "edits": args.edits, "targets_ms": {"first": FIRST_TARGET_MS, "edit": EDIT_TARGET_MS},
        "ok": first_ms <= FIRST_TARGET_MS and p95 <= EDIT_TARGET_MS, "environment": environment(),
    }
    out = write_result("bench_diagnostics", document)
    if args.json:
        import json

        print(json.dumps(document, indent=2))
    else:
        print(table([
            ("first analysis", f"{first_ms:.0f} ms", f"<= {FIRST_TARGET_MS:.0f} ms", verdict(first_ms <= FIRST_TARGET_MS)),
            ("after one edit, p50", f"{p50:.0f} ms", "", ""),
            ("after one edit, p95", f"{p95:.0f} ms", f"<= {EDIT_TARGET_MS:.0f} ms", verdict(p95 <= EDIT_TARGET_MS)),
        ], f"misuse diagnostics, {path.name} ({len(text.splitlines())} lines, {len(functions)} functions)"))
        log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
