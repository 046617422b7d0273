"""The Bowerbird language server: `create_server(options)` builds one, features register on it.

No state lives at import time: everything a server knows hangs off its instance.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from bowerbird import __version__
from bowerbird.server.options import ServerOptions, parse_options

if TYPE_CHECKING:  # the analysis modules load after `initialize` is answered
    from bowerbird.server.workspaces import Workspaces

logger = logging.getLogger(__name__)

COMMANDS = ("bowerbird.reindex", "bowerbird.status")


class BowerbirdServer(LanguageServer):
    def __init__(self, options: ServerOptions):
        super().__init__("bowerbird", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.options = options
        self.workspaces: Workspaces | None = None  # set by `initialize`, when the index dir is known
        self.background: set[asyncio.Task] = set()

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

    def index_dir(self) -> Path:
        from bowerbird.paths import default_index_dir

        return Path(self.options.index_dir).expanduser() if self.options.index_dir else default_index_dir()


def create_server(options: ServerOptions | None = None) -> BowerbirdServer:
    from bowerbird.server.features import configuration, documents, indexing, lifecycle

    server = BowerbirdServer(options or ServerOptions())
    for feature in (lifecycle, indexing, documents, configuration):
        feature.register(server)
    return server
