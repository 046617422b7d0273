#!/usr/bin/env python
"""Choose the copy cache's weights per match length by replaying teacher-forced holes offline.

    python scripts/tune_copy_weights.py --repo PKG [--repo PKG ...] [--holes 300] [--seed 1]
        [--proposals 3] [--memory 4096] [--json]

For each hole (in_file's prompt and a few random applicable proposals' prompts, healed, as
`bowerbird eval completion --token-healing` composes them), one forward pass records, at every
position of the target line and at the line's end, the model's and the copy cache's probability
of each token that can win the argmax of the mixture (1 - w) p + w q: the model's best allowed
token, the right token(s), and every token the cache proposes. Any weights' teacher-forced
exact match is then a replay of those records, without the model, so a grid of weights per
match length costs seconds. The replay follows `teacher_forced_matches` (evaluate.py): the same
healing constraint, blocked first tokens and special tokens; the cache copies from the prompt
and its memory only (the shipped `copy_cache_written: false`).

Reported: exact match of in_file and of the proposals for no cache, one weight 0.2, a few
schedules, and the best of a coordinate search per match length (from 0.2 everywhere).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SCHEDULES = {
    "none": (0.0,) * 6,
    "0.2 for every length": (0.2,) * 6,
    "0, 0.1, 0.2, 0.3, 0.4, 0.5": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "0.05, 0.1, 0.3, 0.4, 0.5, 0.5": (0.05, 0.1, 0.3, 0.4, 0.5, 0.5),
}


@dataclass
class Position:
    n: int  # length of the cache's match (0: it has nothing to say)
    good: frozenset[int]  # tokens that are right here (the target's, or any line end)
    options: dict[int, tuple[float, float]]  # token -> (model probability, cache probability)


def solved(positions: list[Position], weights: tuple[float, ...]) -> bool:
    """Would greedy decoding under the mixture with these weights write every right token?"""
    for position in positions:
        w = weights[min(position.n, len(weights)) - 1] if position.n else 0.0
        best = max(position.options, key=lambda t: (1 - w) * position.options[t][0] + w * position.options[t][1])
        if best not in position.good:
            return False
    return True


def record(backend, prompt: str, heal: str, memory: str, target: str, max_n: int = 6) -> list[Position]:
    """The positions of one prompt's target line (see the module docstring)."""
    import torch

    from bowerbird.learners.lm.copy_cache import CopyCache

    tokenizer, vocabulary, eos = backend.tokenizer, backend.vocabulary, backend.eos_id
    target_ids = tokenizer(heal + target, add_special_tokens=False)["input_ids"]
    row = (tokenizer(prompt, add_special_tokens=False)["input_ids"] + target_ids)[-backend.context_tokens :]
    start = len(row) - len(target_ids)
    with torch.inference_mode():
        probs = torch.softmax(backend.network(input_ids=torch.tensor([row], device=backend.device)).logits[0, start - 1 :].float(), -1)
    ends = [i for i, text in enumerate(vocabulary.texts) if text.startswith("\n")] + ([eos] if eos is not None else [])
    structural = vocabulary.structural_ids(eos)
    blocked = ([eos] if eos is not None else []) + vocabulary.empty_line_ids()
    cache = CopyCache(backend.memory_ids(memory) + row[:start], max_n, index_pushed=False)
    remaining, positions = heal, []
    for j in range(len(target_ids) + 1):
        allowed = torch.ones_like(probs[j], dtype=torch.bool)
        allowed[structural] = False
        if j == 0:
            allowed[blocked] = False
        if remaining:
            constraint = torch.zeros_like(allowed)
            constraint[vocabulary.consistent_with(remaining)] = True
            allowed &= constraint
        usable = torch.where(allowed, probs[j], torch.zeros_like(probs[j]))
        n, q = cache.distribution()
        q = {t: share for t, share in q.items() if t < len(allowed) and bool(allowed[t])}
        if j < len(target_ids):
            good = {target_ids[j]}
        else:
            good = {t for t in ends if bool(allowed[t])}
        candidates = {int(usable.argmax())} | set(q) | {max(good, key=lambda t: float(usable[t]))}
        positions.append(Position(n, frozenset(good), {t: (float(probs[j, t]), q.get(t, 0.0)) for t in candidates}))
        if j < len(target_ids):
            token = target_ids[j]
            text = vocabulary.texts[token]
            remaining = remaining[len(text) :] if remaining.startswith(text) else ""
            cache.push(token)
    return positions


def collect(backend, root: Path, holes: int, seed: int, proposals: int, progress=None,
            max_n: int = 6) -> list[tuple[str, list[Position]]]:
    """(kind, positions) per prompt: kind "in_file" or "proposal"."""
    from bowerbird.analysis.holes import extract_holes, hole_at
    from bowerbird.analysis.indexer import index_repository
    from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
    from bowerbird.analysis.proposals.catalog import IN_FILE
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.evaluate import MAX_TARGET_TOKENS
    from bowerbird.learners.lm.prompt import compose_proposal

    rng = random.Random(seed)
    out = []
    with tempfile.TemporaryDirectory() as temp:
        store = IndexStore(index_path_for(root, Path(temp)), root)
        try:
            index_repository(store)
            repo = RepoView(store)
            drawn = list(extract_holes(root, per_file=None, seed=seed))
            random.Random(seed).shuffle(drawn)
            for number, spec in enumerate(drawn[:holes], 1):
                text = (root / spec["path"]).read_text(encoding="utf-8", errors="replace")
                hole = hole_at(spec["path"], text, spec["line"], spec["col"])
                tokens = backend.counter.count(hole.target)
                if not hole.target.strip() or tokens > MAX_TARGET_TOKENS:
                    continue
                found = build_proposals(repo, hole, ProposalOptions(prompt_tokens=backend.context_tokens))
                in_file = [p for p in found if p.kind.source == IN_FILE]
                others = [p for p in found if p.kind.source != IN_FILE]
                for proposal in in_file[:1] + rng.sample(others, min(proposals, len(others))):
                    prompt = compose_proposal(backend, proposal, f"# {spec['path']}", hole.prefix, "\n" + hole.after,
                                     tokens + 2, heal=True)
                    kind = "in_file" if proposal.kind.source == IN_FILE else "proposal"
                    out.append((kind, record(backend, prompt.text, prompt.heal, prompt.memory, hole.target, max_n)))
                if progress:
                    progress(number, min(holes, len(drawn)))
        finally:
            store.close()
    return out


def rate(records: list[tuple[str, list[Position]]], kind: str, weights: tuple[float, ...]) -> float | None:
    chosen = [positions for k, positions in records if k == kind]
    return sum(solved(p, weights) for p in chosen) / len(chosen) if chosen else None


def search(records, start: tuple[float, ...], rounds: int = 2) -> tuple[float, ...]:
    """Coordinate ascent over GRID per match length on the mean of in_file's and the proposals' rates."""
    def objective(weights):
        rates = [r for r in (rate(records, "in_file", weights), rate(records, "proposal", weights)) if r is not None]
        return sum(rates) / len(rates) if rates else 0.0

    best, score = tuple(start), objective(start)
    for _ in range(rounds):
        for n in range(len(best)):
            for value in GRID:
                trial = best[:n] + (value,) + best[n + 1 :]
                trial_score = objective(trial)
                if trial_score > score + 1e-12:
                    best, score = trial, trial_score
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, action="append", required=True)
    parser.add_argument("--holes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--proposals", type=int, default=3, help="random applicable proposals per hole")
    parser.add_argument("--memory", type=int, default=4096, help="copy-cache memory tokens")
    parser.add_argument("--max-n", type=int, default=6, help="longest match recorded (weight lists this long)")
    parser.add_argument("--model", default=None, help="a local model folder (default: the embedded model)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.progress import ProgressLine

    backend = load_backend("transformers" if args.model else "embedded", args.model,
                           dtype="float32")  # as `eval completion` measures
    backend.copy_weight, backend.copy_memory = 0.2, args.memory  # memory_ids needs a cache that is on
    per_repo = {}
    for root in args.repo:
        if not root.is_dir():
            print(f"{root}: not a directory", file=sys.stderr)
            return 2
        progress = ProgressLine(f"recording {root.name}")
        per_repo[root.name] = collect(backend, root, args.holes, args.seed, args.proposals, progress, args.max_n)
        progress.close()
    everything = [r for records in per_repo.values() for r in records]
    # a list shorter than --max-n gives its last weight to every longer match
    schedules = {name: weights + (weights[-1],) * (args.max_n - len(weights)) for name, weights in SCHEDULES.items()}
    schedules["coordinate search"] = search(everything, (0.2,) * args.max_n)
    rows = [{"weights": list(w), "name": name,
             "in_file": rate(everything, "in_file", w), "proposals": rate(everything, "proposal", w),
             "in_file_by_repo": {repo: rate(records, "in_file", w) for repo, records in per_repo.items()}}
            for name, w in schedules.items()]
    if args.json:
        print(json.dumps({"prompts": len(everything), "rows": rows}))
        return 0
    for row in rows:
        by_repo = "  ".join(f"{repo} {value * 100:.1f}%" for repo, value in row["in_file_by_repo"].items() if value is not None)
        print(f"{row['name']:<32} {tuple(row['weights'])}  in_file {row['in_file'] * 100:.1f}%  "
              f"proposals {(row['proposals'] or 0) * 100:.1f}%  ({by_repo})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
