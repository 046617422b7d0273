"""The completion evaluation harness: RLPG's methods on held-out repositories.

For each hole (RLPG: a non-blank, non-comment line cut in the middle, the rest of the line is
the target, the code after the line is visible), every method's prompt is composed within the
same budget and scored by exact match (greedy prediction up to the newline == target, trailing
space aside) and edit similarity (1 - normalised Levenshtein):

- in_file: the code around the hole only; - random: a random applicable proposal;
- fixed_best: the proposal (in_file aside) best on the calibration half of the holes (reported
  on the other), or one chosen elsewhere (RLPG: on the training data);
- retrieval: RepoCoder-style sliding windows (20 lines, stride 10) of the other files, ranked
  by Jaccard similarity with the 20 lines before the hole;
- rlpg_h / rlpg_r: the proposal a trained prompt proposal classifier of that kind picks for the
  hole (learners/ppc), when one is given;
- oracle: solved if any proposal's prompt solves it (the upper bound).

Token healing (backends that support it) is measured apart, as the server uses it: in_file's
prompt with and without healing, by real greedy generation (`token_healing` in the summary).

Greedy exact match of all 63 proposals is decided, for a local model, by teacher forcing: one
batched forward pass says whether greedy decoding would produce the target token by token and
then end the line. Other backends (a served model) generate each prompt's line.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bowerbird.analysis.holes import Hole, hole_at
from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
from bowerbird.analysis.proposals.catalog import IN_FILE
from bowerbird.learners.lm.backend import GenerationRequest
from bowerbird.learners.lm.prompt import compose, compose_proposal

CLASSIFIER_METHODS = ("rlpg_h", "rlpg_r")  # each needs a trained classifier of its kind
METHODS = ("in_file", "random", "retrieval", "fixed_best", *CLASSIFIER_METHODS, "oracle")
BASE_METHODS = tuple(m for m in METHODS if m not in CLASSIFIER_METHODS)
IN_FILE_ID = 62  # the catalog's in_file entry: the baseline, never fixed_best's choice
MAX_TARGET_TOKENS = 32
WINDOW, STRIDE = 20, 10
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def proposal_wins(solved_sets) -> Counter:
    """How many holes each proposal solves, over `solved_sets` (one set of ids per hole); in_file
    is the baseline, not counted."""
    return Counter(pid for solved in solved_sets for pid in solved if pid != IN_FILE_ID)


def most_wins(wins: Counter) -> int:
    """The proposal that solves the most (ties: the lower id); in_file when none solves any:
    fixed_best's choice."""
    return max(wins, key=lambda pid: (wins[pid], -pid)) if wins else IN_FILE_ID


@dataclass
class HoleOutcome:
    path: str
    line: int
    col: int
    target: str
    solved_by: set[int] = field(default_factory=set)  # proposal ids whose prompt solves the hole
    applicable: list[int] = field(default_factory=list)
    em: dict[str, bool] = field(default_factory=dict)  # per method (fixed_best filled in later)
    es: dict[str, float] = field(default_factory=dict)
    prompts: dict[int, str] = field(default_factory=dict, repr=False)  # per proposal id
    heals: dict[int, str] = field(default_factory=dict, repr=False)  # token healing's cut, per proposal id
    memories: dict[int, str] = field(default_factory=dict, repr=False)  # copy-cache memory, per proposal id
    new_tokens: int = 0  # generation length used for this hole
    healing: dict[str, tuple[bool, float]] = field(default_factory=dict)  # "plain"/"healed": (exact, edit sim.)


def edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


class Windows:
    """Sliding windows of a repository's files, for RepoCoder-style retrieval."""

    def __init__(self, root: Path, paths: list[str]):
        self.windows: list[tuple[str, str, frozenset[str]]] = []
        for path in paths:
            lines = (root / path).read_text(encoding="utf-8", errors="replace").split("\n")
            for start in range(0, max(1, len(lines) - WINDOW + STRIDE), STRIDE):
                text = "\n".join(lines[start : start + WINDOW])
                self.windows.append((path, text, frozenset(_WORDS.findall(text))))

    def context(self, hole: Hole, budget: int, counter) -> str:
        query = frozenset(_WORDS.findall("\n".join(hole.prefix.split("\n")[-WINDOW:])))
        if not query:
            return ""
        scored = sorted(
            ((len(query & words) / len(query | words), path, text) for path, text, words in self.windows
             if path != hole.path and words),
            key=lambda x: -x[0],
        )
        sections, used = [], 0
        for score, path, text in scored[:10]:
            if score <= 0:
                break
            section = f"# {path}\n{text}"
            cost = counter.count(section)
            if used + cost > budget:
                break
            sections.append(section)
            used += cost
        return "\n".join(reversed(sections))  # the most similar window next to the code


def teacher_forced_matches(backend, prompts: list[str], target: str, heals: list[str] | None = None,
                           memories: list[str] | None = None) -> list[bool]:
    """For each prompt: would greedy decoding write `target` and then end the line? With
    `heals` (token healing: characters cut from each prompt's end), the model must first
    rewrite them under the decoder's constraint, then write `target`. `memories`: each
    prompt's copy-cache memory (`GenerationRequest.memory`).

    The check follows the tokenizer's own segmentation of the line. Greedy decoding usually
    writes that segmentation; when it writes the same text in other tokens (seen with healed
    quotes: a space and three double quotes are one token to the tokenizer), the check says
    False where generation would match, so a healed sweep's exact match is a lower bound."""
    import torch

    tokenizer, model = backend.tokenizer, backend.network
    heals = heals or [""] * len(prompts)
    memories = memories or [""] * len(prompts)
    vocabulary = getattr(backend, "vocabulary", None)
    eos = backend.eos_id
    rows, targets, constraints = [], [], []
    for prompt, heal in zip(prompts, heals):
        target_ids = tokenizer(heal + target, add_special_tokens=False)["input_ids"]
        # the model sees at most its context: the prompt loses its start, as in generation
        rows.append((tokenizer(prompt, add_special_tokens=False)["input_ids"] + target_ids)[-backend.context_tokens :])
        targets.append(target_ids)
        allowed, remaining = [], heal if vocabulary is not None else ""
        for token in target_ids:  # the healing constraint at each position, as decoding.py applies it
            if not remaining:
                break
            allowed.append(vocabulary.consistent_with(remaining))
            text = vocabulary.texts[token]
            remaining = remaining[len(text) :] if remaining.startswith(text) else ""
        constraints.append(allowed)
    usable = [bool(t) and len(t) < backend.context_tokens for t in targets]
    if not any(usable):
        return [False] * len(prompts)
    length = max(len(r) for r in rows)
    pad = eos if eos is not None else 0
    ids = torch.tensor([r + [pad] * (length - len(r)) for r in rows], device=backend.device)
    mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows], device=backend.device)
    # as the decoder does: the first token is never end-of-text nor an empty line's end, and
    # special tokens other than end-of-text are never written
    blocked = ([eos] if eos is not None else []) + (vocabulary.empty_line_ids() if vocabulary is not None else [])
    # Only the positions from the earliest first target token on are read: ask for those logits
    # alone where the model can (the vocabulary projection is a large share of the work).
    offset = max(0, min(len(row) - len(t) - 1 for row, t, ok in zip(rows, targets, usable) if ok))
    kept = {"logits_to_keep": length - offset} if _keeps_logits(model) else {}
    copy_weight = getattr(backend, "copy_weight", 0.0)
    written = getattr(backend, "copy_written", True)
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask, **kept).logits
        if not kept:
            logits = logits[:, offset:]
        from bowerbird.learners.lm.copy_cache import enabled, mix, new_cache

        if enabled(copy_weight):  # as the decoder does: the prompt's copy cache mixed in at each target position
            logits = logits.float()
            for r, (row, target_ids, ok, memory) in enumerate(zip(rows, targets, usable, memories)):
                if not ok:
                    continue
                prompt_end = len(row) - len(target_ids)
                remembered = backend.memory_ids(memory) if hasattr(backend, "memory_ids") else []
                cache = new_cache(remembered + row[:prompt_end], copy_weight, written)
                for j in range(len(target_ids) + 1):  # each target token, then the line's end
                    logits[r, prompt_end - 1 + j - offset] = mix(logits[r, prompt_end - 1 + j - offset], cache, copy_weight)
                    if j < len(target_ids):
                        cache.push(target_ids[j])
        if vocabulary is not None:
            logits[:, :, vocabulary.structural_ids(eos)] = float("-inf")
        for r, (row, target_ids) in enumerate(zip(rows, targets)):
            first = len(row) - len(target_ids) - 1 - offset
            if blocked:
                logits[r, first, blocked] = float("-inf")
            for j, allowed in enumerate(constraints[r]):
                if allowed:
                    keep = logits[r, first + j, allowed].clone()
                    logits[r, first + j, :] = float("-inf")
                    logits[r, first + j, allowed] = keep
        predicted = logits.argmax(-1).tolist()
    results = []
    for row, guess, target_ids, ok in zip(rows, predicted, targets, usable):
        start = len(row) - len(target_ids) - offset
        if not ok or guess[start - 1 : len(row) - 1 - offset] != target_ids:
            results.append(False)
            continue
        after = guess[len(row) - 1 - offset]
        results.append(after == eos or tokenizer.decode([after]).startswith("\n"))
    return results


def _keeps_logits(model) -> bool:
    """Whether the model's forward takes `logits_to_keep` (most transformers causal LMs do)."""
    import inspect

    try:
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def exact_matches(backend, prompts: list[str], target: str, max_new_tokens: int,
                  heals: list[str] | None = None, memories: list[str] | None = None) -> list[bool]:
    """Greedy exact match of `target` for each prompt: by teacher forcing for a local model
    (one batched forward pass), by generation for any other backend."""
    if getattr(backend, "network", None) is not None:
        return teacher_forced_matches(backend, prompts, target, heals, memories)
    heals = heals or [""] * len(prompts)
    memories = memories or [""] * len(prompts)
    return [greedy_line(backend, p, max_new_tokens, h, m).rstrip() == target.rstrip()
            for p, h, m in zip(prompts, heals, memories)]


def greedy_line(backend, prompt: str, max_new_tokens: int, heal: str = "", memory: str = "") -> str:
    candidates = backend.generate(GenerationRequest(prompt, max_new_tokens=max_new_tokens, single_line=True, heal=heal,
                                                    memory=memory))
    return candidates[0].text.split("\n")[0] if candidates else ""


@dataclass
class ProposalSweep:
    """One hole's proposals, each one's prompt as composed for `backend`, and which of them
    make the model write the hole's line exactly (greedy)."""

    hole: Hole
    target: str
    new_tokens: int  # generation length for the hole: the target's tokens and two more
    proposals: list  # build.Proposal, the applicable ones and in_file
    composed: dict  # proposal id -> prompt.Prompt
    solved_by: set[int]  # proposal ids whose prompt solves the hole

    @property
    def header(self) -> str:
        return f"# {self.hole.path}"

    @property
    def suffix(self) -> str:
        return "\n" + self.hole.after

    @property
    def in_file_id(self) -> int:
        return next(p.kind.id for p in self.proposals if p.kind.source == IN_FILE)


def sweep_hole(repo, backend, path: str, text: str, line: int, col: int, only: frozenset[int] | None = None,
               heal: bool = False) -> ProposalSweep | None:
    """Every applicable proposal's prompt for the hole at (`line`, `col`) of `path` (whose text
    is `text`), checked for an exact greedy match of the rest of the line; `only`: these
    proposal ids alone. None when the hole has no target worth scoring (blank, or longer than
    MAX_TARGET_TOKENS)."""
    swept = compose_hole(repo, backend, path, text, line, col, only, heal)
    if swept is not None:
        check_proposals(backend, swept, swept.composed)
    return swept


def compose_hole(repo, backend, path: str, text: str, line: int, col: int, only: frozenset[int] | None = None,
                 heal: bool = False) -> ProposalSweep | None:
    """`sweep_hole` without the checks: the prompts, nothing solved yet."""
    hole = hole_at(path, text, line, col)
    target = hole.target
    target_tokens = backend.counter.count(target)
    if not target.strip() or target_tokens > MAX_TARGET_TOKENS:
        return None
    new_tokens = target_tokens + 2
    proposals = build_proposals(repo, hole, ProposalOptions(prompt_tokens=backend.context_tokens), only=only)
    composed = {p.kind.id: compose_proposal(backend, p, f"# {path}", hole.prefix, "\n" + hole.after, new_tokens,
                                            heal=heal) for p in proposals}
    return ProposalSweep(hole, target, new_tokens, proposals, composed, set())


def check_proposals(backend, swept: ProposalSweep, ids) -> None:
    """Add to `swept.solved_by` those of the proposals `ids` whose prompt solves the hole (one
    check per distinct prompt: proposals often agree)."""
    composed = {pid: swept.composed[pid] for pid in ids}
    distinct = sorted({(c.text, c.heal, c.memory) for c in composed.values()})
    verdicts = dict(zip(distinct, exact_matches(backend, [t for t, _, _ in distinct], swept.target, swept.new_tokens,
                                                [h for _, h, _ in distinct], [m for _, _, m in distinct])))
    swept.solved_by |= {pid for pid, c in composed.items() if verdicts[(c.text, c.heal, c.memory)]}


def evaluate_repo(repo, backend, holes: list[dict], seed: int = 0, progress=None,
                  methods: tuple[str, ...] = BASE_METHODS, healing: bool = False,
                  choosers: dict | None = None) -> list[HoleOutcome]:
    """Score every hole of `holes` (dicts of `extract_holes`) with every proposal and method.
    Without random, fixed_best and oracle among `methods`, only in_file's prompt is run, and
    the classifiers' picks (all proposals are built for them to choose among). With
    `healing` (and a backend that heals), every prompt is healed as the server's are.
    `choosers` (for rlpg_h / rlpg_r among `methods`): method -> a callable (hole, the applicable
    proposals: build.Proposal, in_file among them) -> the id that classifier picks."""
    unknown = set(methods) - set(METHODS)
    if unknown or "in_file" not in methods:
        raise ValueError(f"methods must include in_file and come from {METHODS} (got {sorted(methods)})")
    classifiers = [m for m in CLASSIFIER_METHODS if m in methods]
    choosers = choosers or {}
    for method in classifiers:
        if method not in choosers:
            raise ValueError(f"{method} needs a chooser (a trained prompt proposal classifier)")
    sweep = bool({"random", "fixed_best", "oracle"} & set(methods))  # every proposal checked
    build_all = sweep or bool(classifiers)
    heal_prompts = healing and getattr(backend, "healing", False)
    rng = random.Random(seed)
    store_paths = sorted(repo.store.files())
    windows = Windows(repo.root, store_paths) if "retrieval" in methods else None
    texts: dict[str, str] = {}
    outcomes = []
    for number, spec in enumerate(holes, 1):
        path = spec["path"]
        if path not in texts:
            texts[path] = (repo.root / path).read_text(encoding="utf-8", errors="replace")
        swept = compose_hole(repo, backend, path, texts[path], spec["line"], spec["col"],
                             only=None if build_all else frozenset({IN_FILE_ID}), heal=heal_prompts)
        if swept is None:
            continue
        hole, target, new_tokens, composed = swept.hole, swept.target, swept.new_tokens, swept.composed
        picks = {}
        for method in classifiers:
            pick = choosers[method](hole, swept.proposals)
            picks[method] = pick if pick in composed else swept.in_file_id
        check_proposals(backend, swept, composed if sweep else {swept.in_file_id, *picks.values()})
        header, suffix = swept.header, swept.suffix
        prompts = {pid: c.text for pid, c in composed.items()}
        heals = {pid: c.heal for pid, c in composed.items()}
        memories = {pid: c.memory for pid, c in composed.items()}
        outcome = HoleOutcome(path, hole.line, hole.col, target, prompts=prompts, new_tokens=new_tokens, heals=heals,
                              memories=memories)
        outcome.applicable = sorted(prompts)
        outcome.solved_by = set(swept.solved_by)
        in_file_id = swept.in_file_id
        outcome.em["in_file"] = in_file_id in outcome.solved_by
        outcome.es["in_file"] = edit_similarity(greedy_line(backend, prompts[in_file_id], new_tokens, heals[in_file_id],
                                                                 memories[in_file_id]).rstrip(), target.rstrip())
        if sweep:
            random_id = rng.choice(outcome.applicable)
            outcome.em["random"] = random_id in outcome.solved_by
            outcome.em["oracle"] = bool(outcome.solved_by)
            outcome.es["random"] = edit_similarity(greedy_line(backend, prompts[random_id], new_tokens, heals[random_id], memories[random_id]).rstrip(),
                                                   target.rstrip())
        for method, picked in picks.items():
            outcome.em[method] = picked in outcome.solved_by
            outcome.es[method] = edit_similarity(greedy_line(backend, prompts[picked], new_tokens, heals[picked],
                                                             memories[picked]).rstrip(), target.rstrip())
        if "retrieval" in methods:
            retrieval = compose(backend, windows.context(hole, backend.context_tokens // 2, backend.counter),
                                header, hole.prefix, suffix, new_tokens, heal=heal_prompts)
            outcome.em["retrieval"] = exact_matches(backend, [retrieval.text], target, new_tokens, [retrieval.heal],
                                                    [retrieval.memory])[0]
            outcome.es["retrieval"] = edit_similarity(
                greedy_line(backend, retrieval.text, new_tokens, retrieval.heal, retrieval.memory).rstrip(), target.rstrip())
        if getattr(backend, "healing", False):  # what token healing changes, on in_file's prompt, by real generation
            in_file = next(p for p in swept.proposals if p.kind.id == in_file_id)
            for name, heal in (("plain", False), ("healed", True)):
                prompt = compose_proposal(backend, in_file, header, hole.prefix, suffix, new_tokens + 2, heal=heal)
                line = greedy_line(backend, prompt.text, new_tokens + 2, prompt.heal, prompt.memory).rstrip()
                outcome.healing[name] = (line == target.rstrip(), edit_similarity(line, target.rstrip()))
        outcomes.append(outcome)
        if progress:
            progress(number, len(holes))
    return outcomes


def summarise(outcomes: list[HoleOutcome], backend, seed: int = 0, bootstrap: int = 1000,
              methods: tuple[str, ...] = BASE_METHODS, fixed: int | None = None) -> dict:
    """Pick fixed_best on the calibration half (or use `fixed`, a proposal id chosen elsewhere:
    RLPG chooses it on the training data), report every method on the evaluation half."""
    rng = random.Random(seed)
    order = list(range(len(outcomes)))
    rng.shuffle(order)
    calibration = [outcomes[i] for i in order[: len(order) // 2]]
    evaluation = [outcomes[i] for i in order[len(order) // 2 :]]
    wins = proposal_wins(o.solved_by for o in calibration)
    given = fixed is not None
    if fixed is None:
        fixed = most_wins(wins)
    for o in evaluation if "fixed_best" in methods else ():
        o.em["fixed_best"] = fixed in o.solved_by
        chosen = fixed if fixed in o.prompts else IN_FILE_ID
        o.es["fixed_best"] = edit_similarity(
            greedy_line(backend, o.prompts[chosen], o.new_tokens, o.heals.get(chosen, ""),
                        o.memories.get(chosen, "")).rstrip(), o.target.rstrip())
    results = {}
    for method in (m for m in METHODS if m in methods):
        em = [o.em[method] for o in evaluation]
        es = [o.es[method] for o in evaluation if method in o.es]
        results[method] = {
            "em": round(sum(em) / len(em), 4) if em else None,
            "em_ci95": _bootstrap(em, rng, bootstrap),
            "es": round(sum(es) / len(es), 4) if es else None,
        }
    base = results["in_file"]["em"] or 0.0
    for values in results.values():
        values["relative_to_in_file"] = round(values["em"] / base - 1, 4) if base and values["em"] is not None else None
    summary = {"holes": len(evaluation), "calibration_holes": len(calibration), "fixed_best_id": fixed,
               "fixed_best_given": given,
               "calibration_wins": {str(pid): n for pid, n in wins.most_common()},
               "evaluation_wins": {str(pid): n for pid, n in Counter(p for o in evaluation for p in o.solved_by).most_common()},
               "methods": results,
               # solved_by lists every proposal that solves a hole, or only those checked (in_file,
               # the classifiers' picks) when no method needs them all
               "checked": "all" if {"random", "fixed_best", "oracle"} & set(methods) else "chosen",
               # per scored hole, so that runs on the same holes can be compared hole by hole
               "scored": [{"path": o.path, "line": o.line, "col": o.col, "target": o.target,
                           "em": {m: o.em[m] for m in results if m in o.em},
                           "es": {m: round(o.es[m], 4) for m in results if m in o.es},
                           "solved_by": sorted(o.solved_by)} for o in evaluation]}
    healed = [o.healing for o in evaluation if o.healing]
    if healed:  # token healing's effect, in_file prompt, greedy generation (the server's path)
        summary["token_healing"] = {
            "holes": len(healed),
            **{f"{measure}_{name}": round(sum(h[name][i] for h in healed) / len(healed), 4)
               for name in ("plain", "healed") for i, measure in enumerate(("em", "es"))},
        }
    return summary


def _bootstrap(values: list[bool], rng: random.Random, rounds: int) -> list[float] | None:
    if not values:
        return None
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(rounds))
    return [round(means[int(0.025 * rounds)], 4), round(means[int(0.975 * rounds) - 1], 4)]
