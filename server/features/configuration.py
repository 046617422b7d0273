"""workspace/didChangeConfiguration: new options take effect for the next request."""

from __future__ import annotations

from lsprotocol import types

from bowerbird.server.app import BowerbirdServer


def register(server: BowerbirdServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: BowerbirdServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and "bowerbird" in settings:  # VS Code nests by section
            settings = settings["bowerbird"]
        ls.apply_options(settings)
