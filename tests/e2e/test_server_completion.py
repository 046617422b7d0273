"""End to end: inline completions from the real server over stdio with a real (tiny) model,
accepted through the item's command and found in the feedback store."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).parents[1] / "data" / "pyrepo"
HOLE = ("shapes/circle.py", 16, 15)  # `        return |math.pi * self.radius ** 2`


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]),
                    params=["visual-studio-code", "neovim"])
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request, request.param)
    yield
    await lsp_client.shutdown_session()


async def start_session(lsp_client: LanguageClient, request, client_name: str, completion: dict | None = None) -> None:
    """Initialize the server on a copy of the fixture repository with the tiny model; the
    `completion` options are added to the defaults used here."""
    tmp = request.getfixturevalue("tmp_path")
    model = request.getfixturevalue("tiny_model")
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo)
    capabilities = client_capabilities(client_name)
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="repo")],
        initialization_options={
            "indexDir": str(tmp / "index"), "dataDir": str(tmp / "data"), "developerId": "tester",
            "completion": {"backend": "transformers", "model": str(model), "debounceMs": 0, "maxTokens": 8,
                           **(completion or {})},
        },
    ))
    lsp_client.repo, lsp_client.tmp, lsp_client.model = repo, tmp, model


async def ready(client: LanguageClient) -> dict:
    for _ in range(300):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
        if status["model"]["loaded"] and status["roots"] and status["roots"][0]["indexed"]:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"not ready: {status}")


def open_document(client: LanguageClient, path: str) -> str:
    file = client.repo / path
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=file.as_uri(), language_id="python", version=1, text=file.read_text())))
    return file.as_uri()


def expected_candidates(client: LanguageClient, path: str, line: int, col: int) -> list[str]:
    """The same pipeline, run here on the same index and model."""
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.server.options import CompletionOptions
    from bowerbird.server.pipeline import Pipeline

    root = client.repo.resolve()
    store = IndexStore(index_path_for(root, client.tmp / "index"), root)
    try:
        pipeline = Pipeline(RepoView(store), load_backend("transformers", str(client.model)),
                            CompletionOptions(backend="transformers", model=str(client.model), debounce_ms=0, max_tokens=8))
        return [c.text for c in pipeline.complete(path, (root / path).read_text(), line, col).candidates]
    finally:
        store.close()


async def test_inline_completion_comes_from_the_model_and_acceptance_is_recorded(client: LanguageClient):
    status = await ready(client)
    assert status["model"]["name"] == str(client.model)
    path, line, col = HOLE
    uri = open_document(client, path)
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))
    expected = expected_candidates(client, path, line, col)
    assert expected, "the tiny model left nothing after post-processing at this hole"
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    assert [item.insert_text for item in items] == expected
    command = items[0].command
    assert command.command == "bowerbird.acceptCompletion"
    accepted = await client.workspace_execute_command_async(types.ExecuteCommandParams(command=command.command, arguments=command.arguments))
    assert accepted is True
    db = sqlite3.connect(client.tmp / "data" / "feedback.sqlite")
    rows = db.execute("SELECT s.developer, s.path, s.line, s.col, c.candidate, c.kind FROM shown s JOIN choices c ON c.shown_id = s.id").fetchall()
    assert rows == [("tester", path, line, col, 0, "accepted")]


async def test_forget_deletes_this_developers_completions_and_choices(client: LanguageClient):
    await ready(client)
    path, line, col = HOLE
    uri = open_document(client, path)
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))
    command = result.items[0].command
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.rejectCompletion",
                                                                            arguments=command.arguments[:1]))
    db = sqlite3.connect(client.tmp / "data" / "feedback.sqlite")
    assert db.execute("SELECT count(*) FROM shown WHERE developer = 'tester'").fetchone() == (1,)
    answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.forget"))
    assert answer == {"developer": "tester", "removed": 1}
    assert db.execute("SELECT count(*) FROM shown").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM choices").fetchone() == (0,)
    again = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.forget"))
    assert again == {"developer": "tester", "removed": 0}


async def test_completion_items_complete_the_line_from_the_typed_word(client: LanguageClient):
    await ready(client)
    path, line, col = HOLE
    uri = open_document(client, path)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col)))
    expected = expected_candidates(client, path, line, col)
    assert [item.text_edit.new_text for item in result.items] == expected  # no word typed before the cursor here
    assert all(item.text_edit.range.end == types.Position(line=line, character=col) for item in result.items)


async def test_unknown_documents_and_positions_get_an_empty_answer(client: LanguageClient):
    await ready(client)
    unknown = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=(client.repo / "nope.py").as_uri()),
        position=types.Position(line=0, character=0),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    assert unknown is None
    uri = open_document(client, HOLE[0])
    past_end = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=10_000, character=3),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    assert past_end is None
    # LSP: a character past the end of the line means the end of the line.
    past_line_end = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=500),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    line_end = len((client.repo / HOLE[0]).read_text().split("\n")[0])
    expected = expected_candidates(client, HOLE[0], 0, line_end)
    assert [item.insert_text for item in (past_line_end.items if past_line_end else [])] == expected


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]))
async def remote_client(lsp_client: LanguageClient, request):
    """A server whose backend is an OpenAI-compatible server on loopback that the test controls."""
    from openai_server import CompletionServer

    from bowerbird.learners.lm.loading import load_backend

    tmp = request.getfixturevalue("tmp_path")
    local = load_backend("transformers", str(request.getfixturevalue("tiny_model")))
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo)
    served = CompletionServer(local, "tiny-starcoder").__enter__()
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim"),
        workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="repo")],
        initialization_options={
            "indexDir": str(tmp / "index"), "dataDir": str(tmp / "data"),
            "completion": {"backend": "openai", "url": served.url, "debounceMs": 0, "maxTokens": 8},
        },
    ))
    lsp_client.repo, lsp_client.served, lsp_client.local = repo, served, local
    yield
    await lsp_client.shutdown_session()
    served.__exit__(None, None, None)


async def test_a_backend_that_goes_down_gives_empty_answers_one_warning_and_recovers(remote_client: LanguageClient):
    from openai_server import CompletionServer

    client = remote_client
    await ready(client)
    path, line, col = HOLE
    uri = open_document(client, path)

    async def ask(character: int):
        return await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))

    assert (await ask(col)) is not None  # served
    port = int(client.served.url.rsplit(":", 1)[1])
    client.served.__exit__(None, None, None)  # the server goes away
    assert (await ask(col - 1)) is None
    assert (await ask(col - 2)) is None
    warnings = [m.message for m in client.log_messages if "completion failed" in m.message]
    assert len(warnings) == 1
    client.served = CompletionServer(client.local, "tiny-starcoder", port=port).__enter__()  # back again
    await ask(col - 3)
    assert any("completions work again" in m.message for m in client.log_messages)


async def test_non_python_and_binary_documents(client: LanguageClient):
    await ready(client)
    notes = client.repo / "notes.md"
    notes.write_text("# Notes\n\nsome text\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=notes.as_uri(), language_id="markdown", version=1, text=notes.read_text())))
    answer = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=notes.as_uri()), position=types.Position(line=2, character=4),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    assert answer is None  # not a language Bowerbird completes
    blob = client.repo / "blob.py"
    blob.write_bytes(b"x = 1\n\x00\x01\x02 y = \n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=blob.as_uri(), language_id="python", version=1, text=blob.read_bytes().decode("latin-1"))))
    answer = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=blob.as_uri()), position=types.Position(line=1, character=7),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    assert answer is None or all(isinstance(item.insert_text, str) for item in answer.items)
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
    assert status["model"]["loaded"]  # the server is still up and well


async def test_a_50k_line_file_is_completed(client: LanguageClient):
    await ready(client)
    big = client.repo / "shapes" / "big.py"
    big.write_text("".join(f"value_{i} = compute({i}, scale=2)\n" for i in range(50_000)) + "total = ")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=big.as_uri(), language_id="python", version=1, text=big.read_text())))
    answer = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=big.as_uri()), position=types.Position(line=50_000, character=8),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    assert answer is None or all(item.range.start == types.Position(line=50_000, character=8) for item in answer.items)
    timings = (await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status")))["completions"]
    assert timings["count"] >= 1  # the pipeline ran on it


async def test_an_edit_during_the_debounce_drops_the_stale_request(client: LanguageClient):
    await ready(client)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"completion": {"debounceMs": 400}}))
    path, line, col = HOLE
    uri = open_document(client, path)
    pending = client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(0.1)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=col), end=types.Position(line=line, character=col)),
            text="m")]))
    assert await task is None


async def test_workspace_folders_can_be_added_and_removed(client: LanguageClient):
    await ready(client)
    other = client.repo.parent / "second"
    (other / "lib").mkdir(parents=True)
    (other / "lib" / "util.py").write_text("def helper():\n    return 42\n")
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(
        added=[types.WorkspaceFolder(uri=other.as_uri(), name="second")], removed=[])))
    for _ in range(100):
        roots = {r["root"]: r for r in (await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="bowerbird.status")))["roots"]}
        if str(other.resolve()) in roots and roots[str(other.resolve())]["indexed"]:
            break
        await asyncio.sleep(0.05)
    assert roots[str(other.resolve())]["files"] == 1
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(
        added=[], removed=[types.WorkspaceFolder(uri=client.repo.as_uri(), name="repo")])))
    for _ in range(100):
        roots = [r["root"] for r in (await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="bowerbird.status")))["roots"]]
        if roots == [str(other.resolve())]:
            break
        await asyncio.sleep(0.05)
    assert roots == [str(other.resolve())]
