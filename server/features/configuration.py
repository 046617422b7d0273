"""workspace/didChangeConfiguration: new options take effect for the next request (and the
diagnostics of the open documents follow at once)."""

from __future__ import annotations

from lsprotocol import types

from bowerbird.server.app import BowerbirdServer
from bowerbird.server.features import diagnostics
from bowerbird.server.features.completion import load_model


def register(server: BowerbirdServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: BowerbirdServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and "bowerbird" in settings:  # VS Code nests by section
            settings = settings["bowerbird"]
        before = ls.options.diagnostics
        ls.apply_options(settings)
        if ls.workspaces is not None:  # after `initialized`: a new model loads in the background
            ls.spawn(load_model(ls))
            diagnostics.reconfigure(ls, before)
