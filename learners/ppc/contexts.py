"""RLPG-R's second input: the vector of each applicable proposal's context.

A proposal's context is encoded by the same frozen encoder as the hole's window, from the end
the prompt keeps when it is cut (`Proposal.keep`: post lines their front, the other contexts
their back); in_file has no context (the zero vector). Holes of one repository share most
contexts (the same sibling files, imports and parent classes), so vectors are cached by text.

For training, the contexts of labelled holes are rebuilt from their repositories exactly as
the labels were made: each repository indexed afresh, the hole cut from its file, the
proposals built with the code model's prompt budget. Labels whose applicable proposals no
longer match the repository (a file changed since) keep the proposals both agree on.
"""

from __future__ import annotations

import logging
import tempfile
from collections import OrderedDict
from pathlib import Path

import torch

from .model import NUM_PROPOSALS

logger = logging.getLogger(__name__)


class ContextVectors:
    """Proposal contexts -> [NUM_PROPOSALS, dim] matrices, vectors cached by (text, end kept)."""

    def __init__(self, encoder, max_cached: int = 200_000):
        self.encoder = encoder
        self.max_cached = max_cached
        self._cache: OrderedDict[tuple[str, str], torch.Tensor] = OrderedDict()

    def matrix(self, proposals) -> torch.Tensor:
        """Row p holds proposal p's context vector (zeros where p is absent or has no text)."""
        rows = torch.zeros(NUM_PROPOSALS, self.encoder.dim)
        wanted = [(p.kind.id, (p.text, p.keep)) for p in proposals if p.text and 0 <= p.kind.id < NUM_PROPOSALS]
        missing = sorted({key for _, key in wanted if key not in self._cache})
        for keep in ("front", "back"):
            texts = [text for text, end in missing if end == keep]
            if texts:
                for text, vector in zip(texts, self.encoder.encode(texts, keep=keep)):
                    self._cache[(text, keep)] = vector
        for pid, key in wanted:
            rows[pid] = self._cache[key]
            self._cache.move_to_end(key)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)
        return rows


def label_contexts(records: list[dict], vectors: ContextVectors, prompt_tokens: int,
                   progress=None) -> tuple[torch.Tensor, list[list[int]]]:
    """([len(records), NUM_PROPOSALS, dim] context vectors, each record's applicable proposals
    as rebuilt) for labelled (not skipped) records, in their order."""
    from bowerbird.analysis.holes import hole_at
    from bowerbird.analysis.indexer import index_repository
    from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for

    out = torch.zeros(len(records), NUM_PROPOSALS, vectors.encoder.dim)
    applicable: list[list[int]] = [[] for _ in records]
    by_repo: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        by_repo.setdefault(record["repo"], []).append(i)
    done = 0
    with tempfile.TemporaryDirectory() as temp:
        for repo_path, indices in by_repo.items():
            root = Path(repo_path)
            if not root.is_dir():
                logger.warning("%s: not found; its %d holes have no contexts", root, len(indices))
                continue
            store = IndexStore(index_path_for(root, Path(temp)), root)
            try:
                index_repository(store)
                repo = RepoView(store)
                texts: dict[str, str] = {}
                for i in indices:
                    record = records[i]
                    path = record["path"]
                    if path not in texts:
                        texts[path] = (root / path).read_text(encoding="utf-8", errors="replace")
                    hole = hole_at(path, texts[path], record["line"], record["col"])
                    built = build_proposals(repo, hole, ProposalOptions(prompt_tokens=prompt_tokens))
                    labelled = set(record["applicable"])
                    kept = [p for p in built if p.kind.id in labelled]
                    if len(kept) != len(labelled) or len(built) != len(labelled):
                        logger.info("%s:%d: the proposals changed since labelling; keeping %d shared", path,
                                    record["line"], len(kept))
                    out[i] = vectors.matrix(kept)
                    applicable[i] = sorted(p.kind.id for p in kept)
                    done += 1
                    if progress:
                        progress(done, len(records))
            finally:
                store.close()
    return out, applicable
