"""Keeping the indexes current: startup runs, file events, workspace folders, commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from bowerbird.server.app import BowerbirdServer
from bowerbird.server.progress import with_progress


async def index_all(ls: BowerbirdServer) -> list[dict]:
    """Index every root (incrementally), each with its own progress bar; the status after."""
    for root in ls.workspaces.roots():
        await with_progress(ls, f"Indexing {root.path.name}", lambda report, root=root: ls.workspaces.index(root, report))
    return ls.workspaces.status()


async def update(ls: BowerbirdServer, uris: list[str]) -> None:
    """Re-index the files behind `uris` (saved, created, changed or deleted on disk)."""
    if ls.workspaces is None:
        return
    files = [Path(p) for p in map(to_fs_path, uris) if p]
    await asyncio.get_running_loop().run_in_executor(None, ls.workspaces.update, files)


def status(ls: BowerbirdServer) -> dict:
    from bowerbird.server.options import to_wire

    roots = ls.workspaces.status() if ls.workspaces is not None else []
    backend = ls.models.backend
    model = {"loaded": backend is not None, "name": getattr(backend, "model", None),
             "device": getattr(backend, "device", None), "error": ls.models.error}
    chooser = ls.models.chooser
    classifier = {"loaded": chooser is not None, "folder": str(chooser.folder) if chooser else None,
                  "note": ls.models.chooser_note}
    scorer = ls.models.scorer
    ranking = {"loaded": scorer is not None, "folder": str(scorer.folder) if scorer else None,
               "note": ls.models.reward_note, "developer": ls.developer(),
               "choices": getattr(ls.current_ranker(), "choices", 0)}
    timings = {}
    for stage in ("choose", "context", "prompt", "model", "rank", "total"):
        values = sorted(t[stage] for t in ls.timings if stage in t)
        if values:
            timings[stage] = {"p50": round(values[len(values) // 2], 2),
                              "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 2)}
    return {"version": ls.version, "roots": roots, "model": model, "proposal_classifier": classifier,
            "reward_ranking": ranking,
            "options": to_wire(ls.options),
            "completions": {"count": len(ls.timings), "timings_ms": timings},
            "diagnostics": ls.checker.status(ls.options.diagnostics)}


def register(server: BowerbirdServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: BowerbirdServer, params: types.DidChangeWatchedFilesParams) -> None:
        await update(ls, [change.uri for change in params.changes])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: BowerbirdServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        if ls.workspaces is None:
            return
        for folder in params.event.removed:
            ls.workspaces.remove(Path(to_fs_path(folder.uri)))
        added = [ls.workspaces.add(Path(p)) for p in (to_fs_path(f.uri) for f in params.event.added) if p and Path(p).is_dir()]
        for root in added:
            await with_progress(ls, f"Indexing {root.path.name}", lambda report, root=root: ls.workspaces.index(root, report))

    @server.command("bowerbird.reindex")
    async def reindex(ls: BowerbirdServer, *args) -> dict:
        """Bring every index up to date now; answers with the status."""
        if ls.workspaces is not None:
            await index_all(ls)
        return status(ls)

    @server.command("bowerbird.status")
    def show_status(ls: BowerbirdServer, *args) -> dict:
        """Index state per root and the options in force."""
        return status(ls)
