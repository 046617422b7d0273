"""The code model the server completes with, and the proposal classifier that picks its prompt:
loaded once per (backend, model, url, dtype), in a worker thread, and replaced when the
options name another. The classifier is reloaded alone when only its options change; without
one (turned off, not shipped, trained on another model, a served backend) the pipeline uses
the fixed proposal, and `chooser_note` says why."""

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
        self._key: tuple | None = None
        self._chooser_key: tuple | None = None
        self._lock = threading.Lock()

    @staticmethod
    def key(options: CompletionOptions) -> tuple:
        return (options.backend, options.model, options.url, options.dtype)

    @classmethod
    def chooser_key(cls, options: CompletionOptions) -> tuple:
        return (*cls.key(options), options.proposal_chooser, options.classifier)

    def needs_load(self, options: CompletionOptions) -> bool:
        return self.chooser_key(options) != self._chooser_key

    def load(self, options: CompletionOptions) -> str | None:
        """Load what the options name (blocking); the error message, or None when loaded."""
        from bowerbird.learners.lm.loading import BackendUnavailable, load_backend

        with self._lock:
            if self.key(options) != self._key:
                self._key = self.key(options)
                self._chooser_key = None
                try:
                    self.backend, self.error = load_backend(options.backend, options.model, options.url,
                                                               dtype=options.dtype), None
                except BackendUnavailable as error:
                    self.backend, self.error = None, str(error)
                if self.error:
                    logger.warning("no completion model: %s", self.error)
            if self.chooser_key(options) != self._chooser_key:
                self._chooser_key = self.chooser_key(options)
                self.chooser, self.chooser_note = self._load_chooser(options)
                if self.chooser_note:
                    logger.info("proposal %d for every completion: %s", options.proposal, self.chooser_note)
            return self.error

    def _load_chooser(self, options: CompletionOptions):
        if options.proposal_chooser != "classifier":
            return None, "the proposal chooser is set to fixed"
        if self.backend is None:
            return None, "no completion model"
        from bowerbird.learners.ppc.choose import load_chooser

        return load_chooser(options.classifier, self.backend)
