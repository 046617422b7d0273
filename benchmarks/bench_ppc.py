"""Proposal classifier overhead: what choosing a proposal per request adds to a completion.

    .venv/bin/python benchmarks/bench_ppc.py [--repo DIR] [--holes N] [--classifier DIR] [--dtype D] [--json]

The repository (default: the standard library's `email` package, held out of all training)
is indexed into a temporary folder and N seeded holes are drawn as `eval completion` draws
them. The classifier (default: the shipped one) loads for the embedded model (or --model) in
the server's number format (--dtype, default auto), and per hole, after --warmup untimed holes:

- choose: `ProposalChooser.ranking(hole)`, the hole window's encoding and the classifier's
  scores, as the server's pipeline calls it (timings_ms.choose);
- pick: building the proposal the classifier ranks first (its first few picks, or all
  proposals when none of those applies), against building the fixed proposal the server used
  before (in_file), both with the document's parse cached as the server keeps it.

Target: choose p95 <= 5 ms on a CPU. Results go to benchmarks/results/bench_ppc.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import environment, log, percentile, stdlib_root, table, verdict, write_result  # noqa: E402

from bowerbird.learners.lm.device import DTYPES  # noqa: E402  (no torch at import)

TARGET_P95_MS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=stdlib_root() / "email")
    parser.add_argument("--holes", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", type=Path, default=None, help="a `train ppc` folder (default: the shipped one)")
    parser.add_argument("--model", default=None, help="the local model (default: the embedded one)")
    parser.add_argument("--dtype", default="auto", choices=DTYPES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from bowerbird.analysis.holes import extract_holes, hole_at
    from bowerbird.analysis.indexer import index_repository
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.device import dtype_name
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.learners.ppc.choose import ChooserUnavailable, ProposalChooser, shipped_folder
    from bowerbird.server.options import CompletionOptions
    from bowerbird.server.pipeline import TRY_FIRST, Pipeline

    backend = load_backend("transformers" if args.model else "embedded", args.model, dtype=args.dtype)
    try:
        chooser = ProposalChooser(args.classifier or shipped_folder(), backend, strict=args.classifier is None)
    except ChooserUnavailable as error:
        parser.error(str(error))
    choose_ms, classifier_pick_ms, fixed_pick_ms, fallbacks = [], [], [], 0
    with tempfile.TemporaryDirectory() as temp:
        root = args.repo.resolve()
        store = IndexStore(index_path_for(root, Path(temp)), root)
        try:
            log(f"indexing {root}")
            index_repository(store)
            repo = RepoView(store)
            drawn = list(extract_holes(root, per_file=None, seed=args.seed))
            random.Random(args.seed).shuffle(drawn)
            pipeline = Pipeline(repo, backend, CompletionOptions(proposal=62), chooser=chooser)
            texts: dict[str, str] = {}
            for number, spec in enumerate(drawn[: args.warmup + args.holes]):
                if spec["path"] not in texts:
                    texts[spec["path"]] = (root / spec["path"]).read_text(encoding="utf-8", errors="replace")
                hole = hole_at(spec["path"], texts[spec["path"]], spec["line"], spec["col"])
                pipeline._fixed_pick(hole)  # the document's parse, cached as the server has it
                start = time.perf_counter()
                ranking = chooser.ranking(hole)
                chosen = time.perf_counter()
                picked = pipeline._classifier_pick(hole, ranking)
                picked_at = time.perf_counter()
                pipeline._fixed_pick(hole)
                fixed_at = time.perf_counter()
                if number < args.warmup:
                    continue
                choose_ms.append((chosen - start) * 1000)
                classifier_pick_ms.append((picked_at - chosen) * 1000)
                fixed_pick_ms.append((fixed_at - picked_at) * 1000)
                fallbacks += picked.kind.id not in ranking[:TRY_FIRST]
        finally:
            store.close()
    stats = {name: {"p50": round(percentile(sorted(v), 50), 3), "p95": round(percentile(sorted(v), 95), 3),
                    "max": round(max(v), 3)}
             for name, v in (("choose", choose_ms), ("classifier_pick", classifier_pick_ms), ("fixed_pick", fixed_pick_ms))}
    ok = stats["choose"]["p95"] <= TARGET_P95_MS
    document = {
        "benchmark": "bench_ppc", "repo": str(args.repo), "holes": len(choose_ms), "classifier": str(chooser.folder),
        "model": backend.model, "dtype": dtype_name(backend.dtype), "torch_threads": torch.get_num_threads(),
        "timings_ms": stats, "picks_beyond_the_first_tried": fallbacks,
        "target": {"choose_p95_ms": TARGET_P95_MS}, "passed": ok, "environment": environment(),
    }
    path = write_result("bench_ppc", document)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        rows = [("choose (encode + score) p50 / p95", f"{stats['choose']['p50']:.2f} / {stats['choose']['p95']:.2f} ms",
                 f"p95 <= {TARGET_P95_MS:g} ms", verdict(ok)),
                ("classifier's proposal built p50 / p95",
                 f"{stats['classifier_pick']['p50']:.2f} / {stats['classifier_pick']['p95']:.2f} ms", "", ""),
                ("fixed proposal built p50 / p95",
                 f"{stats['fixed_pick']['p50']:.2f} / {stats['fixed_pick']['p95']:.2f} ms", "", "")]
        print(table(rows, f"proposal classifier overhead: {len(choose_ms)} holes of {args.repo.name}, "
                          f"{document['dtype']}, {document['torch_threads']} threads"))
        log(f"written {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
