"""initialize / initialized / shutdown: options, workspace roots, background indexing."""

from __future__ import annotations

from lsprotocol import types

from bowerbird.server import gc_policy
from bowerbird.server.app import BowerbirdServer
from bowerbird.server.features import diagnostics
from bowerbird.server.features.completion import load_model
from bowerbird.server.features.indexing import index_all


def register(server: BowerbirdServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: BowerbirdServer, params: types.InitializeParams) -> None:
        """Read the options; everything slow waits for `initialized`."""
        ls.apply_options(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: BowerbirdServer, params: types.InitializedParams) -> None:
        """Open the index of every workspace root and bring it up to date in the background."""
        from bowerbird.server.workspaces import Workspaces

        ls.workspaces = Workspaces(ls.index_dir())
        for path in _workspace_paths(ls):
            ls.workspaces.add(path)
        gc_policy.apply("started")  # the analysis modules are imported now; the model follows
        ls.spawn(index_all(ls))
        ls.spawn(load_model(ls))
        diagnostics.start_loading(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: BowerbirdServer, params: None) -> None:
        ls.close()


def _workspace_paths(ls: BowerbirdServer):
    from pathlib import Path

    from pygls.uris import to_fs_path

    uris = list(ls.workspace.folders) or ([ls.workspace.root_uri] if ls.workspace.root_uri else [])
    for uri in uris:
        path = to_fs_path(uri)
        if path and Path(path).is_dir():
            yield Path(path)
