"""The code model the server completes with: loaded once per (backend, model, url), in a
worker thread, and replaced when the options name another."""

from __future__ import annotations

import logging
import threading

from bowerbird.server.options import CompletionOptions

logger = logging.getLogger(__name__)


class Models:
    def __init__(self):
        self.backend = None  # a learners.lm Backend once loaded
        self.error: str | None = None  # why there is no backend
        self._key: tuple | None = None
        self._lock = threading.Lock()

    @staticmethod
    def key(options: CompletionOptions) -> tuple:
        return (options.backend, options.model, options.url, options.dtype)

    def needs_load(self, options: CompletionOptions) -> bool:
        return self.key(options) != self._key

    def load(self, options: CompletionOptions) -> str | None:
        """Load what the options name (blocking); the error message, or None when loaded."""
        from bowerbird.learners.lm.loading import BackendUnavailable, load_backend

        with self._lock:
            if self.key(options) == self._key:
                return self.error
            self._key = self.key(options)
            try:
                self.backend, self.error = load_backend(options.backend, options.model, options.url,
                                                           dtype=options.dtype), None
            except BackendUnavailable as error:
                self.backend, self.error = None, str(error)
            if self.error:
                logger.warning("no completion model: %s", self.error)
            return self.error
