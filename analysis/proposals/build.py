"""Build every applicable prompt proposal for one hole."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bowerbird.analysis.holes import Hole
from bowerbird.analysis.languages import LANGUAGES, language_for_path
from bowerbird.analysis.proposals.catalog import CATALOG, IN_FILE, ProposalKind
from bowerbird.analysis.proposals.contexts import Items, assemble, current_items, post_lines
from bowerbird.analysis.proposals.sources import current_file, rank_sources
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.tokens import Keep


@dataclass(frozen=True)
class ProposalOptions:
    prompt_tokens: int = 4072  # the whole prompt budget (RLPG: 4,072 + 24 generated)
    proposal_share: float = 0.5  # share of the prompt a proposal's context may take (PL: its own)


@dataclass(frozen=True)
class Proposal:
    kind: ProposalKind
    text: str  # the proposal context, to go before the in-file context
    tokens: int
    share: float = 0.5  # share of the prompt its context may take (post lines: their own share)

    @property
    def keep(self) -> Keep:
        """The end of the context to keep when a prompt has less room: post lines keep the
        lines nearest the hole (their front), the other contexts their best-ranked back."""
        return "front" if self.kind.post_lines_share is not None else "back"

    def to_json(self) -> dict:
        return {
            "id": self.kind.id,
            "source": self.kind.source,
            "context_type": self.kind.context_type,
            "text": self.text,
            "tokens": self.tokens,
        }


def build_proposals(
    repo: RepoView, hole: Hole, options: ProposalOptions = ProposalOptions(), only: frozenset[int] | None = None
) -> list[Proposal]:
    """The applicable proposals for `hole` (those with a non-empty context), plus in_file;
    with `only`, just those ids (a server using one fixed proposal builds one).

    Token budgets are counted with the view's counter (a model's tokenizer, or the regex
    approximation)."""
    counter = repo.counter
    language = language_for_path(hole.path)
    if language is None:
        raise ValueError(f"{hole.path}: not a file of a supported language")
    kinds = [k for k in CATALOG if only is None or k.id in only or k.source == IN_FILE]
    parsed, ranked = None, {}
    if any(k.source != IN_FILE and k.post_lines_share is None for k in kinds):  # needs the parse
        current = current_file(repo, hole.path, repo.parse_document(hole.path, language.name, hole.document), hole)
        parsed = current.parsed
        if any(k.source not in (IN_FILE, "current") for k in kinds):
            ranked = rank_sources(repo, current, hole)
    header = lambda path: f"{LANGUAGES[language.name].header_comment} {path}"  # noqa: E731
    budget = int(options.prompt_tokens * options.proposal_share)

    proposals = []
    for kind in kinds:
        if kind.source == IN_FILE:
            text, tokens = "", 0
        elif kind.post_lines_share is not None:
            head = header(hole.path)
            share = int(options.prompt_tokens * kind.post_lines_share) - counter.count(head)
            lines = post_lines(hole.after, share, counter)
            text = f"{head}\n{lines}" if lines else ""
            tokens = counter.count(text)
        elif kind.source == "current":
            items, keep = current_items(parsed, kind.context_type, hole.line)
            text, tokens = assemble([hole.path], lambda _: items, kind.context_type, budget, counter, header, keep)
        else:
            keep = "back" if kind.source == "parent_class" else "front"
            items_of = functools.partial(_file_items, repo, kind.context_type)
            text, tokens = assemble(ranked[kind.source], items_of, kind.context_type, budget, counter, header, keep)
        if text or kind.source == IN_FILE:
            proposals.append(Proposal(kind, text, tokens, kind.post_lines_share or options.proposal_share))
    return proposals


def _file_items(repo: RepoView, context_type: str, path: str) -> Items:
    return repo.items(path, context_type)
