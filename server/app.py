"""The Bowerbird language server: `create_server(options)` builds one, features register on it.

No state lives at import time: everything a server knows hangs off its instance.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from bowerbird import __version__
from bowerbird.server.options import ServerOptions, parse_options

from bowerbird.server.checker import Checker, InFlight
from bowerbird.server.models import Models

if TYPE_CHECKING:  # the analysis modules and the models load after `initialize` is answered
    from bowerbird.server.features.diagnostics import DocumentState
    from bowerbird.server.feedback import FeedbackStore
    from bowerbird.server.pipeline import Pipeline
    from bowerbird.server.ranking import Ranker
    from bowerbird.server.workspaces import Workspaces

logger = logging.getLogger(__name__)

class BowerbirdServer(LanguageServer):
    def __init__(self, options: ServerOptions):
        super().__init__("bowerbird", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.options = options
        self.workspaces: Workspaces | None = None  # set by `initialized`, when the index dir is known
        self.background: set[asyncio.Task] = set()
        self.models = Models()
        self._pipelines: dict[Path, tuple[object, Pipeline]] = {}
        self._feedback: FeedbackStore | None = None
        self._ranker: tuple[tuple, Ranker] | None = None  # the developer's ranker and what it was made for
        # completion id -> (line prefix, texts shown, the ranker that ranked them), the latest few
        self.recent_shown: collections.OrderedDict[str, tuple[str, list[str], Ranker]] = collections.OrderedDict()
        self.backend_failing = False  # a failure was reported; the next success is reported too
        self.timings: collections.deque[dict] = collections.deque(maxlen=1000)  # recent pipeline stage timings
        self.completing = InFlight()  # completion requests running now (diagnostics wait for them)
        self.checker = Checker()  # the misuse model behind the diagnostics, its cache and its thread
        self.checker_loading: asyncio.Task | None = None  # its load, while it runs
        self.misuse: dict[str, DocumentState] = {}  # the diagnostics of each open document, by URI

    def apply_options(self, raw: object) -> None:
        """Take options from the client; show what was rejected and keep its defaults."""
        self.options, problems = parse_options(raw, self.options)
        for problem in problems:
            logger.warning("option %s", problem)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"Bowerbird: {problem}")
            )

    def spawn(self, coroutine) -> asyncio.Task:
        """Run work in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def close(self) -> None:
        """Stop background work and close the stores (on shutdown)."""
        for task in list(self.background):
            task.cancel()
        self.checker.close()
        if self.workspaces is not None:
            self.workspaces.close()
        if self._feedback is not None:
            self._feedback.close()

    def pipeline_for(self, root) -> Pipeline:
        """The completion pipeline of a workspace root, rebuilt when the model or options change."""
        from bowerbird.server.pipeline import Pipeline

        ranker = self.ranker()
        key = (id(self.models.backend), id(self.models.chooser), id(ranker), self.options.completion)
        cached = self._pipelines.get(root.path)
        if cached is None or cached[0] != key:
            cached = self._pipelines[root.path] = (key, Pipeline(root.repo, self.models.backend, self.options.completion,
                                                                 ranker=ranker, chooser=self.models.chooser))
        return cached[1]

    def developer(self) -> str:
        """Whose choices personalise the ranking: the `developerId` option, else the OS user."""
        import getpass

        return self.options.developer_id or getpass.getuser()

    def current_ranker(self) -> Ranker | None:
        """The ranker made last (None before the first completion), without making one."""
        return self._ranker[1] if self._ranker is not None else None

    def reset_ranker(self) -> None:
        """Forget the ranker (after `bowerbird.forget`): the next one starts from the population."""
        self._ranker = None
        self.recent_shown.clear()

    def ranker(self) -> Ranker:
        """The developer's reward ranker (its weights in the feedback store), or the model's
        order when there is no reward model; rebuilt when the model, developer or options change."""
        from bowerbird.server.ranking import ModelScoreRanker, RewardRanker

        scorer = self.models.scorer
        key = (id(scorer), self.developer(), self.options.completion.hide_below, str(self.data_dir()))
        if self._ranker is None or self._ranker[0] != key:
            made = ModelScoreRanker() if scorer is None else RewardRanker(
                scorer, self.developer(), self.options.completion.hide_below, self.feedback_store())
            self._ranker = (key, made)
        return self._ranker[1]

    def feedback_store(self) -> FeedbackStore:
        if self._feedback is None:
            from bowerbird.server.feedback import STORE_NAME, FeedbackStore

            self._feedback = FeedbackStore(self.data_dir() / STORE_NAME)
        return self._feedback

    def data_dir(self) -> Path:
        from bowerbird.paths import default_data_dir

        return Path(self.options.data_dir).expanduser() if self.options.data_dir else default_data_dir()

    def index_dir(self) -> Path:
        from bowerbird.paths import default_index_dir

        return Path(self.options.index_dir).expanduser() if self.options.index_dir else default_index_dir()


def create_server(options: ServerOptions | None = None) -> BowerbirdServer:
    from bowerbird.server.features import completion, configuration, diagnostics, documents, indexing, lifecycle

    server = BowerbirdServer(options or ServerOptions())
    for feature in (lifecycle, indexing, documents, configuration, completion, diagnostics):
        feature.register(server)
    return server
