"""The completion pipeline, without LSP: hole -> proposals -> chosen proposal -> prompt ->
candidates -> post-processing -> ranking. The server and `bowerbird complete` share it.

The proposal is the classifier's choice when the pipeline has a chooser (learners/ppc) and the
repository's index is built: the applicable proposal it ranks first, found by building its
first few picks one by one (almost always the first applies) and all of them only when none
does. Otherwise,
or when the chooser fails, it is the fixed proposal of the options (in_file where that one
does not apply). The completion says which (`proposal.chosen_by`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from bowerbird.analysis.holes import hole_at
from bowerbird.analysis.languages import LANGUAGES, language_for_path
from bowerbird.analysis.proposals.build import Proposal, ProposalOptions, build_proposals
from bowerbird.analysis.proposals.catalog import IN_FILE
from bowerbird.analysis.repo import RepoView
from bowerbird.learners.lm.backend import Backend, Candidate, GenerationRequest
from bowerbird.learners.lm.prompt import compose_proposal
from bowerbird.server.options import CompletionOptions
from bowerbird.server.postprocess import CursorContext, postprocess
from bowerbird.server.ranking import ModelScoreRanker, Ranker

CACHE_SIZE = 256
TRY_FIRST = 4  # the classifier's first picks built before all proposals are

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completion:
    candidates: list[Candidate]  # post-processed and ranked, best first
    proposal: dict  # {"id", "source", "context_type", "chosen_by": "classifier" | "fixed"} of the proposal used
    multiline: bool
    timings_ms: dict[str, float] = field(default_factory=dict)  # choose, context, prompt, model, rank, total
    cached: bool = False
    generated: list[Candidate] = field(default_factory=list, repr=False)  # post-processed, before ranking

    def to_json(self) -> dict:
        return {
            "candidates": [{"text": c.text, "score": round(c.score, 4)} for c in self.candidates],
            "proposal": self.proposal,
            "multiline": self.multiline,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


class Pipeline:
    """One repository's completion pipeline over one backend."""

    def __init__(self, repo: RepoView, backend: Backend, options: CompletionOptions, ranker: Ranker | None = None,
                 chooser=None):
        self.repo = repo
        self.backend = backend
        self.options = options
        self.ranker = ranker or ModelScoreRanker()
        self.chooser = chooser  # ranking(hole) -> proposal ids, best first; None: the fixed proposal
        self._chooser_failed = False
        self._cache: OrderedDict[tuple, Completion] = OrderedDict()
        self._lock = threading.Lock()

    def complete(self, path: str, text: str, line: int, col: int, cancel: threading.Event | None = None,
                 index_ready: bool = True) -> Completion:
        """Candidates for the cursor at (line, col) of `text`, the document at `path` (relative
        to the repository root). HoleError when the position is outside the document.
        `index_ready`: False while the repository's first indexing runs (the fixed proposal)."""
        start = time.perf_counter()
        hole = hole_at(path, text, line, col)
        lines = text.split("\n")
        line_text = lines[line].rstrip("\r")
        cursor = CursorContext(line_text[:col], line_text[col:], lines[line + 1] if line + 1 < len(lines) else "")
        suffix = line_text[col:] + ("\n" + hole.after if hole.after else "")
        choose_start = time.perf_counter()
        ranking = self._ranking(hole) if index_ready else None
        choose_ms = (time.perf_counter() - choose_start) * 1000
        chosen = self._classifier_pick(hole, ranking) if ranking else self._fixed_pick(hole)
        proposal = {"id": chosen.kind.id, "source": chosen.kind.source, "context_type": chosen.kind.context_type,
                    "chosen_by": "classifier" if ranking else "fixed"}
        key = (path, hole.prefix, suffix, chosen.text, self.options)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:  # ranked again: the developer's weights may have moved since
            ranked = self.ranker.rank(list(cached.generated), cursor.line_prefix)
            return Completion(ranked, proposal, cached.multiline, {"total": (time.perf_counter() - start) * 1000}, True,
                              cached.generated)  # fmt: skip
        context_done = time.perf_counter()
        language = language_for_path(path)
        header = f"{LANGUAGES[language.name].header_comment} {path}" if language else f"# {path}"
        prompt = compose_proposal(self.backend, chosen, header, hole.prefix, suffix, self.options.max_tokens,
                                  heal=None if self.options.token_healing else False)
        prompt_done = time.perf_counter()
        request = GenerationRequest(
            prompt=prompt.text,
            max_new_tokens=self.options.max_tokens,
            candidates=self.options.candidates,
            temperature=self.options.temperature,
            single_line=not cursor.multiline,
            heal=prompt.heal,
            memory=prompt.memory,
            cancel=cancel or threading.Event(),
            states=getattr(self.ranker, "needs_states", False),
        )
        raw = self.backend.generate(request)
        model_done = time.perf_counter()
        seen: dict[str, Candidate] = {}
        for candidate in raw:
            shown = postprocess(candidate.text, cursor)
            if shown is not None and shown not in seen:
                seen[shown] = Candidate(shown, candidate.score, candidate.state)
        ranked = self.ranker.rank(list(seen.values()), cursor.line_prefix)
        end = time.perf_counter()
        completion = Completion(
            ranked, proposal, cursor.multiline,
            {
                "choose": choose_ms,  # the classifier's encoding and scoring
                "context": (context_done - start) * 1000 - choose_ms,
                "prompt": (prompt_done - context_done) * 1000,
                "model": (model_done - prompt_done) * 1000,
                "rank": (end - model_done) * 1000,
                "total": (end - start) * 1000,
            },
            generated=list(seen.values()),
        )
        if not request.cancel.is_set():
            with self._lock:
                self._cache[key] = completion
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return completion

    def _ranking(self, hole) -> list[int] | None:
        """The chooser's proposal ids, best first; None without one (or when it fails: said once)."""
        if self.chooser is None:
            return None
        try:
            return self.chooser.ranking(hole)
        except Exception as error:  # a broken classifier must not cost the completion
            if not self._chooser_failed:
                self._chooser_failed = True
                logger.warning("the proposal classifier failed (%s); using proposal %d", error, self.options.proposal)
            return None

    def _build(self, hole, ids) -> dict[int, Proposal]:
        options = ProposalOptions(prompt_tokens=self.backend.context_tokens)
        return {p.kind.id: p for p in build_proposals(self.repo, hole, options, only=frozenset(ids))}

    def _fixed_pick(self, hole) -> Proposal:
        built = self._build(hole, {self.options.proposal})
        return built.get(self.options.proposal) or next(p for p in built.values() if p.kind.source == IN_FILE)

    def _classifier_pick(self, hole, ranking: list[int]) -> Proposal:
        """The applicable proposal ranked first (in_file always applies). Its first picks are
        built one at a time: the first usually applies, and a post-lines pick (the classifier's
        most frequent) needs neither the document's parse nor the other files."""
        for pid in ranking[:TRY_FIRST]:
            built = self._build(hole, {pid})
            if pid in built:
                return built[pid]
        built = self._build(hole, ranking)
        return next(built[i] for i in ranking if i in built)
