"""The code model the server completes with, and the proposal classifier that picks its prompt:
loaded once per (backend, model, url, dtype), in a worker thread, and replaced when the
options name another. The classifier is reloaded alone when only its options change; without
one (turned off, not shipped, trained on another model, a served backend) the pipeline uses
the fixed proposal, and `chooser_note` says why. Likewise the reward model that ranks the
candidates per developer (learners/reward): without one (`ranking` is model_score, none
shipped, trained on another model, a served backend) candidates keep the model's order, and
`reward_note` says why."""

from __future__ import annotations

import logging
import threading

from bowerbird.server.options import CompletionOptions

logger = logging.getLogger(__name__)


class Models:
    def __init__(self):
        self.backend = None  # a learners.lm Backend once loaded
        self.error: str | None = None  # why there is no backend
        self.chooser = None  # a learners.ppc ProposalChooser for this backend, or None: the fixed proposal
        self.chooser_note: str | None = None  # why there is no chooser
        self.scorer = None  # a learners.reward RewardScorer for this backend, or None: the model's order
        self.reward_note: str | None = None  # why there is no scorer
        self._key: tuple | None = None
        self._chooser_key: tuple | None = None
        self._reward_key: tuple | None = None
        self._lock = threading.Lock()

    @staticmethod
    def key(options: CompletionOptions) -> tuple:
        return (options.backend, options.model, options.url, options.dtype)

    @classmethod
    def chooser_key(cls, options: CompletionOptions) -> tuple:
        return (*cls.key(options), options.proposal_chooser, options.classifier)

    @classmethod
    def reward_key(cls, options: CompletionOptions) -> tuple:
        return (*cls.key(options), options.ranking, options.reward_model)

    def needs_load(self, options: CompletionOptions) -> bool:
        return self.chooser_key(options) != self._chooser_key or self.reward_key(options) != self._reward_key

    def load(self, options: CompletionOptions) -> str | None:
        """Load what the options name (blocking); the error message, or None when loaded. A new
        backend is published together with its classifier and reward model, so whoever sees it
        loaded (`bowerbird.status`, a completion) also sees what goes with it."""
        from bowerbird.learners.lm.loading import BackendUnavailable, load_backend

        with self._lock:
            backend, error = self.backend, self.error
            chooser, chooser_note, scorer, reward_note = self.chooser, self.chooser_note, self.scorer, self.reward_note
            if self.key(options) != self._key:
                self._key = self.key(options)
                self._chooser_key = self._reward_key = None
                try:
                    backend, error = load_backend(options.backend, options.model, options.url, dtype=options.dtype), None
                except BackendUnavailable as problem:
                    backend, error = None, str(problem)
                if error:
                    logger.warning("no completion model: %s", error)
            if self.chooser_key(options) != self._chooser_key:
                self._chooser_key = self.chooser_key(options)
                chooser, chooser_note = self._load_chooser(options, backend)
                if chooser_note:
                    logger.info("proposal %d for every completion: %s", options.proposal, chooser_note)
            if self.reward_key(options) != self._reward_key:
                self._reward_key = self.reward_key(options)
                scorer, reward_note = self._load_scorer(options, backend)
                if reward_note:
                    logger.info("candidates in the model's order: %s", reward_note)
            self.chooser, self.chooser_note, self.scorer, self.reward_note = chooser, chooser_note, scorer, reward_note
            self.backend, self.error = backend, error
            return self.error

    @staticmethod
    def _load_scorer(options: CompletionOptions, backend):
        if options.ranking != "reward":
            return None, "ranking is set to model_score"
        if backend is None:
            return None, "no completion model"
        from bowerbird.learners.reward.score import RewardUnavailable, load_scorer

        try:
            return load_scorer(options.reward_model, backend), None
        except RewardUnavailable as error:
            return None, str(error)

    @staticmethod
    def _load_chooser(options: CompletionOptions, backend):
        if options.proposal_chooser != "classifier":
            return None, "the proposal chooser is set to fixed"
        if backend is None:
            return None, "no completion model"
        from bowerbird.learners.ppc.choose import load_chooser

        return load_chooser(options.classifier, backend)
