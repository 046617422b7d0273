"""End to end: the real server over stdio keeps the repository index current.

Parametrised with the capabilities VS Code and Neovim send.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).parents[1] / "data" / "pyrepo"
CLIENTS = ["visual-studio-code", "neovim"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]), params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    tmp = request.getfixturevalue("tmp_path")
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo)
    capabilities = client_capabilities(request.param)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="repo")],
            initialization_options={"indexDir": str(tmp / "index"), "completion": {"debounceMs": 10}},
        )
    )
    lsp_client.repo = repo
    yield
    await lsp_client.shutdown_session()


async def status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))


async def wait_indexed(client: LanguageClient, files: int | None = None) -> dict:
    """Poll the status until the first index run has finished (and has `files` files)."""
    for _ in range(200):
        roots = (await status(client))["roots"]
        if roots and roots[0]["indexed"] and (files is None or roots[0]["files"] == files):
            return roots[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"index not ready: {roots}")


async def test_workspace_is_indexed_in_the_background(client: LanguageClient):
    root = await wait_indexed(client)
    assert root["root"] == str(client.repo.resolve())
    assert root["files"] == 9
    assert root["last_run"]["files_indexed"] == 9
    result = await status(client)
    assert result["options"]["completion"]["debounceMs"] == 10  # initializationOptions applied


async def test_indexing_reports_progress_when_the_client_supports_it(client: LanguageClient):
    await wait_indexed(client)
    supports = bool(client.capabilities.window and client.capabilities.window.work_done_progress)
    def indexing_reports():
        return [r for r in client.progress_reports.values() if getattr(r[0], "title", None) == "Indexing repo"]

    for _ in range(100):  # the end notification follows the index state by a moment
        indexing = indexing_reports()
        if not supports or (indexing and isinstance(indexing[0][-1], types.WorkDoneProgressEnd)):
            break
        await asyncio.sleep(0.05)
    if supports:
        assert len(indexing) == 1
        assert isinstance(indexing[0][0], types.WorkDoneProgressBegin)
        assert isinstance(indexing[0][-1], types.WorkDoneProgressEnd)
    else:
        assert client.progress_reports == {}


async def test_saving_a_file_updates_its_symbols(client: LanguageClient):
    before = await wait_indexed(client)
    target = client.repo / "shapes" / "square.py"
    target.write_text(target.read_text() + "\n\ndef perimeter(side: float) -> float:\n    return 4 * side\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=target.as_uri())))
    for _ in range(100):
        root = (await status(client))["roots"][0]
        if root["last_update"] is not None:
            break
        await asyncio.sleep(0.05)
    assert root["last_update"]["files_indexed"] == 1
    assert root["symbols"] == before["symbols"] + 1


async def test_watched_file_events_add_and_remove_files(client: LanguageClient):
    await wait_indexed(client)
    new = client.repo / "shapes" / "triangle.py"
    new.write_text("from .base import Shape\n\nclass Triangle(Shape):\n    kind = 'triangle'\n")
    gone = client.repo / "shapes" / "shape_render.py"
    gone.unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created),
        types.FileEvent(uri=gone.as_uri(), type=types.FileChangeType.Deleted),
    ]))
    for _ in range(100):
        update = (await status(client))["roots"][0]["last_update"]
        if update is not None:
            break
        await asyncio.sleep(0.05)
    assert (update["files_indexed"], update["files_deleted"], update["files_total"]) == (1, 1, 9)
    reindexed = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.reindex"))
    assert reindexed["roots"][0]["last_run"]["files_unchanged"] == 9  # the events already did the work


async def test_invalid_option_is_shown_and_replaced_by_its_default(client: LanguageClient):
    await wait_indexed(client)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"bowerbird": {"completion": {"maxTokens": "many", "candidates": 3}}})
    )
    for _ in range(100):
        options = (await status(client))["options"]
        if options["completion"]["candidates"] == 3:
            break
        await asyncio.sleep(0.05)
    assert options["completion"]["candidates"] == 3
    assert options["completion"]["maxTokens"] == 48
    messages = [m.message for m in client.messages]
    assert any("completion.maxTokens: invalid value 'many'" in m for m in messages), messages


async def test_a_file_outside_the_workspace_brings_in_its_repository(client: LanguageClient):
    await wait_indexed(client)
    other = client.repo.parent / "other"
    (other / "pkg").mkdir(parents=True)
    (other / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    module = other / "pkg" / "mod.py"
    module.write_text("def f():\n    return 1\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=module.as_uri(), language_id="python", version=1, text=module.read_text())
    ))
    for _ in range(100):
        roots = {r["root"]: r for r in (await status(client))["roots"]}
        if str(other.resolve()) in roots and roots[str(other.resolve())]["indexed"]:
            break
        await asyncio.sleep(0.05)
    assert roots[str(other.resolve())]["files"] == 1
