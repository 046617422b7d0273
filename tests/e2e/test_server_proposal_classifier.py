"""End to end: the real server over stdio picks each prompt's proposal with the configured
classifier (one trained for the tiny model, with a known ranking), records it with the shown
completion, reports it in its status, and falls back to the fixed proposal when told to."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.test_server_completion import HOLE, open_document, ready, start_session

PICK = 9  # a proposal that applies at HOLE (the tiny classifier ranks it first)


@pytest.fixture(scope="module")
def classifier(tiny_model, tmp_path_factory) -> Path:
    from bowerbird.learners.lm.loading import load_backend
    from tiny_classifier import build_tiny_classifier

    backend = load_backend("transformers", str(tiny_model))
    return build_tiny_classifier(tmp_path_factory.mktemp("ppc") / "ppc", backend, [PICK])


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]))
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request, "visual-studio-code",
                        {"classifier": str(request.getfixturevalue("classifier"))})
    yield
    await lsp_client.shutdown_session()


async def shown_proposal(client: LanguageClient, character: int) -> int | None:
    path, line, _ = HOLE
    uri = open_document(client, path)
    await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))
    db = sqlite3.connect(client.tmp / "data" / "feedback.sqlite")
    row = db.execute("SELECT proposal FROM shown WHERE col = ? ORDER BY id DESC LIMIT 1", (character,)).fetchone()
    return row[0] if row else None


async def test_the_server_uses_the_proposal_the_classifier_ranks_first(client: LanguageClient):
    status = await ready(client)
    assert status["proposal_classifier"]["loaded"] is True
    assert status["proposal_classifier"]["folder"].endswith("ppc")
    _, _, col = HOLE
    assert await shown_proposal(client, col) == PICK
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
    assert "choose" in status["completions"]["timings_ms"]

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"bowerbird": {"completion": {"proposalChooser": "fixed", "proposal": 62}}}))
    for _ in range(100):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
        if not status["proposal_classifier"]["loaded"]:
            break
        await asyncio.sleep(0.05)
    assert status["proposal_classifier"] == {"loaded": False, "folder": None,
                                             "note": "the proposal chooser is set to fixed"}
    assert await shown_proposal(client, col - 1) == 62
