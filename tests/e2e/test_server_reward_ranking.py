"""End to end: the real server over stdio ranks with a reward checkpoint made for the tiny
model, adapts the developer's weights on an accept and saves them in the feedback store,
forgets them with the developer, and reports the ranking in its status."""

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


@pytest.fixture(scope="module")
def reward(tiny_model, tmp_path_factory) -> Path:
    from tiny_reward import build_tiny_reward

    from bowerbird.learners.lm.loading import load_backend

    return build_tiny_reward(tmp_path_factory.mktemp("reward") / "reward", load_backend("transformers", str(tiny_model)))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]))
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request, "visual-studio-code",
                        {"rewardModel": str(request.getfixturevalue("reward")), "candidates": 4, "temperature": 1.0,
                         "proposalChooser": "fixed"})
    yield
    await lsp_client.shutdown_session()


async def complete(client: LanguageClient):
    path, line, col = HOLE
    uri = open_document(client, path)
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))


async def test_the_server_ranks_per_developer_and_learns_from_an_accept(client: LanguageClient, reward: Path):
    from bowerbird.learners.reward.score import model_id

    status = await ready(client)
    assert status["reward_ranking"]["loaded"] is True and status["reward_ranking"]["folder"] == str(reward)
    result = await complete(client)
    assert result.items, "the tiny model left nothing after post-processing at this hole"
    command = result.items[-1].command  # accept the candidate ranked last
    assert await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)) is True
    db = sqlite3.connect(client.tmp / "data" / "feedback.sqlite")
    rows = db.execute("SELECT developer, model, events FROM weights").fetchall()
    assert rows == [("tester", model_id(reward), 1)]
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
    assert status["reward_ranking"]["choices"] == 1 and status["reward_ranking"]["developer"] == "tester"

    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.forget"))
    assert db.execute("SELECT count(*) FROM weights").fetchone() == (0,)

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"bowerbird": {"completion": {"ranking": "model_score"}}}))
    for _ in range(200):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
        if not status["reward_ranking"]["loaded"]:
            break
        await asyncio.sleep(0.05)
    assert status["reward_ranking"]["note"] == "ranking is set to model_score"
