"""Per-developer reward ranking: what ranking a completion's candidates and adapting to a
choice cost.

    .venv/bin/python benchmarks/bench_reward.py [--holes N] [--candidates K] [--reward DIR] [--json]

Real candidates: N holes of the standard library's `email` package (held out of all training),
K sampled candidates each from the embedded model (or --model), with the hidden states the
decoding loop keeps. Then, per hole, after --warmup untimed holes:

- rank: `RewardRanker.rank` as the server's pipeline calls it (the candidates' features:
  token embeddings and cheap features; phi; the developer's reward; sort and hide);
- adapt: `RewardRanker.learn` after an accept, the refit of the developer's weights on all of
  their choices so far (the online update the server makes after each accept or dismissal).

Targets (DESIGN.md, issue 8): rank 8 candidates p95 <= 5 ms; adaptation <= 10 ms.
Results go to benchmarks/results/bench_reward.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import environment, log, percentile, stdlib_root, table, verdict, write_result  # noqa: E402

TARGET_RANK_P95_MS = 5.0
TARGET_ADAPT_MS = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holes", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reward", type=Path, default=None, help="a `train reward` folder (default: the shipped one)")
    parser.add_argument("--model", default=None, help="the local model (default: the embedded one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.learners.lm.prompt import compose
    from bowerbird.learners.reward.score import RewardUnavailable, load_scorer
    from bowerbird.learners.reward.simulate import sample_holes
    from bowerbird.server.ranking import RewardRanker

    backend = load_backend("transformers" if args.model else "embedded", args.model)
    try:
        scorer = load_scorer(args.reward, backend)
    except RewardUnavailable as error:
        parser.error(str(error))
    root = stdlib_root() / "email"
    files = [(p, str(p.relative_to(root.parent))) for p in sorted(root.rglob("*.py"))]
    holes = sample_holes(files, args.warmup + args.holes, args.seed)
    log(f"sampling {args.candidates} candidates for {len(holes)} holes of {root}")
    torch.manual_seed(args.seed)
    ranker = RewardRanker(scorer, "bench", hide_below=0.1)
    rank_ms, adapt_ms, sizes = [], [], []
    rng = random.Random(args.seed)
    for number, hole in enumerate(holes):
        prompt = compose(backend, "", f"# {hole.path}", hole.prefix, "", 24)
        candidates = backend.generate(GenerationRequest(prompt.text, 24, args.candidates, 1.0, True, prompt.heal,
                                                        memory=prompt.memory, states=True))  # fmt: skip
        if not candidates:
            continue
        start = time.perf_counter()
        ranked = ranker.rank(candidates, hole.line_prefix)
        ranked_at = time.perf_counter()
        texts = [c.text for c in candidates]
        ranker.learn(hole.line_prefix, texts, rng.randrange(len(texts)))
        learned_at = time.perf_counter()
        if number < args.warmup:
            continue
        rank_ms.append((ranked_at - start) * 1000)
        adapt_ms.append((learned_at - ranked_at) * 1000)
        sizes.append(len(candidates))
        del ranked
    stats = {name: {"p50": round(percentile(sorted(v), 50), 3), "p95": round(percentile(sorted(v), 95), 3),
                    "max": round(max(v), 3)} for name, v in (("rank", rank_ms), ("adapt", adapt_ms))}  # fmt: skip
    ok = stats["rank"]["p95"] <= TARGET_RANK_P95_MS and stats["adapt"]["p95"] <= TARGET_ADAPT_MS
    document = {
        "benchmark": "bench_reward", "holes": len(rank_ms), "mean_candidates": sum(sizes) / max(1, len(sizes)),
        "reward": str(scorer.folder), "model": backend.model, "torch_threads": torch.get_num_threads(),
        "choices_learned": ranker.weights.events, "timings_ms": stats,
        "target": {"rank_p95_ms": TARGET_RANK_P95_MS, "adapt_p95_ms": TARGET_ADAPT_MS}, "passed": ok,
        "environment": environment(),
    }  # fmt: skip
    path = write_result("bench_reward", document)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        rows = [(f"rank {document['mean_candidates']:.1f} candidates p50 / p95",
                 f"{stats['rank']['p50']:.2f} / {stats['rank']['p95']:.2f} ms", f"p95 <= {TARGET_RANK_P95_MS:g} ms",
                 verdict(stats["rank"]["p95"] <= TARGET_RANK_P95_MS)),
                ("adapt after a choice p50 / p95", f"{stats['adapt']['p50']:.2f} / {stats['adapt']['p95']:.2f} ms",
                 f"p95 <= {TARGET_ADAPT_MS:g} ms", verdict(stats["adapt"]["p95"] <= TARGET_ADAPT_MS))]  # fmt: skip
        print(table(rows, f"reward ranking: {len(rank_ms)} holes of email, {document['torch_threads']} threads"))
        log(f"written {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
