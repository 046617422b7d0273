"""Document events beyond text sync (which pygls keeps): saves re-index, opens find roots,
and every new version of a document is parsed in the background once typing pauses, so a
completion request finds the parse ready; opens, changes and saves also (re)schedule the
document's diagnostics, and a close clears them (`features/diagnostics.py`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from bowerbird.server.app import BowerbirdServer
from bowerbird.server.features import diagnostics
from bowerbird.server.features.indexing import update
from bowerbird.server.progress import with_progress


def register(server: BowerbirdServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: BowerbirdServer, params: types.DidSaveTextDocumentParams) -> None:
        diagnostics.schedule(ls, params.text_document.uri)
        await update(ls, [params.text_document.uri])

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: BowerbirdServer, params: types.DidOpenTextDocumentParams) -> None:
        """A file outside every workspace root brings its repository in (editors opened on a
        single file send no folders)."""
        diagnostics.schedule(ls, params.text_document.uri)
        path = to_fs_path(params.text_document.uri)
        if ls.workspaces is None or not path or not Path(path).is_file():
            return
        if ls.workspaces.root_of(Path(path)) is None:
            from bowerbird.paths import find_root

            root = ls.workspaces.add(find_root(Path(path), ls.workspaces.index_dir))
            await with_progress(ls, f"Indexing {root.path.name}", lambda report: ls.workspaces.index(root, report))
        await prewarm(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: BowerbirdServer, params: types.DidChangeTextDocumentParams) -> None:
        diagnostics.schedule(ls, params.text_document.uri)
        await prewarm(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BowerbirdServer, params: types.DidCloseTextDocumentParams) -> None:
        diagnostics.forget(ls, params.text_document.uri)
        path = to_fs_path(params.text_document.uri)
        root = ls.workspaces.root_of(Path(path)) if ls.workspaces is not None and path else None
        if root is not None:
            root.repo.forget_document(Path(path).resolve().relative_to(root.path).as_posix())


PAUSE_S = 0.05  # parse once typing pauses this long


async def prewarm(ls: BowerbirdServer, uri: str) -> None:
    """Parse the current version of a document in a worker thread, unless a newer one comes."""
    from bowerbird.analysis.languages import language_for_path

    document = ls.workspace.text_documents.get(uri)
    path = to_fs_path(uri)
    if document is None or ls.workspaces is None or not path or language_for_path(path) is None:
        return
    root = ls.workspaces.root_of(Path(path))
    if root is None:
        return
    version = document.version
    await asyncio.sleep(PAUSE_S)
    if document.version != version:
        return
    text = document.source
    relative = Path(path).resolve().relative_to(root.path).as_posix()
    language = language_for_path(path).name

    def parse() -> None:
        with root.lock:
            root.repo.parse_document(relative, language, text)

    await asyncio.get_running_loop().run_in_executor(None, parse)
