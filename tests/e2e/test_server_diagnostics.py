"""End to end: variable-misuse diagnostics from the real server over stdio, with a tiny misuse
model trained here (tests/tiny_misuse_model.py) that flags the planted bug: pushed to a client
without pull diagnostics (VS Code 1.65's capabilities, UTF-16 positions), pulled by one with them
(Neovim's, which negotiates UTF-8 positions), the quick fix, the suppression comment, stale
versions, turning it off at run time, requests answered while a long file is analysed, and a
server without a misuse model."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from tiny_misuse_model import BUGGY, CLEAN, train_tiny_misuse_model

from bowerbird.learners.misuse.defaults import calibrated_threshold, default_model_folder, is_model_folder

SERVER = [sys.executable, "-m", "bowerbird", "serve"]
# the planted bug with a 2-byte and a 4-byte character before it on its line: the suspicious
# `total` is code point 32 (0-based), UTF-16 unit 33 (the emoji is a surrogate pair), UTF-8 byte 36
BUG_LINE = '        return "é😀" and total / total'
BUGGY_TEXT = BUGGY.replace("        return total / total", BUG_LINE)
FIXED_TEXT = BUGGY_TEXT.replace("and total / total", "and total / count")
LINE = 13  # 0-based
COLUMNS = {"utf-16": (33, 38), "utf-8": (36, 41)}
MESSAGE = r"`total` may be the wrong variable here — did you mean `count`\? \(p=(0\.\d\d|1\.00)\)"
WAIT_S = 60  # for the server to load torch and the model on a busy machine


def recording_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics in order (`client.published`)."""
    client = LanguageClient(converter_factory=default_converter)

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    client.published = []
    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=recording_client)


@pytest.fixture(scope="module")
def misuse_model(tmp_path_factory) -> Path:
    return train_tiny_misuse_model(tmp_path_factory.mktemp("misuse-model"))


async def start(client: LanguageClient, request, editor: str, options: dict) -> None:
    tmp = request.getfixturevalue("tmp_path")
    repo = tmp / "repo"
    repo.mkdir()
    (repo / "stats.py").write_text(BUGGY_TEXT, encoding="utf-8")
    result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(editor),
        workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="repo")],
        initialization_options={"indexDir": str(tmp / "index"), "dataDir": str(tmp / "data"), **options},
    ))  # fmt: skip
    client.repo, client.uri, client.options = repo, (repo / "stats.py").as_uri(), options
    client.server_capabilities = result.capabilities


def tiny_completion(request) -> dict:
    """Completion options for the tiny completion model, answering at once."""
    model = request.getfixturevalue("tiny_model")
    return {"backend": "transformers", "model": str(model), "debounceMs": 0, "maxTokens": 8}


def diagnostics_options(request, **overrides) -> dict:
    model = request.getfixturevalue("misuse_model")
    return {"completion": {"enabled": False}, "diagnostics": {"model": str(model), "debounceMs": 0, **overrides}}


@pytest_lsp.fixture(config=CONFIG)
async def pushed(lsp_client: LanguageClient, request):
    """A client without pull diagnostics (VS Code 1.65): the server pushes them."""
    await start(lsp_client, request, "visual-studio-code", diagnostics_options(request))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def pulled(lsp_client: LanguageClient, request):
    """A client with pull diagnostics (Neovim 0.11): the server answers textDocument/diagnostic."""
    await start(lsp_client, request, "neovim", diagnostics_options(request, debounceMs=50))
    yield
    await lsp_client.shutdown_session()


async def status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))


async def model_loaded(client: LanguageClient) -> dict:
    for _ in range(WAIT_S * 20):
        diagnostics = (await status(client))["diagnostics"]
        if diagnostics["loaded"] or diagnostics["error"]:
            return diagnostics
        await asyncio.sleep(0.05)
    raise AssertionError(f"the misuse model did not load: {diagnostics}")


def open_document(client: LanguageClient, text: str = BUGGY_TEXT) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=client.uri, language_id="python", version=1, text=text)))  # fmt: skip


def change(client: LanguageClient, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=client.uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))  # fmt: skip


async def published(client: LanguageClient, version: int) -> types.PublishDiagnosticsParams:
    """The first diagnostics pushed for ``version`` of the document (waiting for them)."""
    for _ in range(WAIT_S * 20):
        for params in client.published:
            if params.uri == client.uri and params.version == version:
                return params
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing published for version {version}: {client.published}")


def check_planted(diagnostic: types.Diagnostic, encoding: str) -> None:
    start, end = COLUMNS[encoding]
    assert diagnostic.range == types.Range(start=types.Position(line=LINE, character=start),
                                           end=types.Position(line=LINE, character=end))  # fmt: skip
    assert re.fullmatch(MESSAGE, diagnostic.message), diagnostic.message
    assert (diagnostic.source, diagnostic.code, diagnostic.severity) == ("bowerbird", "BB001", types.DiagnosticSeverity.Warning)
    assert diagnostic.data["name"] == "total" and diagnostic.data["suggestion"] == "count"
    assert diagnostic.data["function"] == "Running.mean" and 0.5 <= diagnostic.data["probability"] <= 1


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply one-line edits whose columns are UTF-16 units (VS Code's)."""
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        assert edit.range.start.line == edit.range.end.line
        units = lines[edit.range.start.line].encode("utf-16-le")
        start, end = 2 * edit.range.start.character, 2 * edit.range.end.character
        lines[edit.range.start.line] = (units[:start] + edit.new_text.encode("utf-16-le") + units[end:]).decode("utf-16-le")
    return "\n".join(lines)


async def test_the_planted_bug_is_pushed_at_its_range_and_its_quick_fix_repairs_it(pushed: LanguageClient):
    client = pushed
    capabilities = client.server_capabilities
    assert capabilities.diagnostic_provider.identifier == "bowerbird"
    assert capabilities.diagnostic_provider.inter_file_dependencies is False
    assert list(capabilities.code_action_provider.code_action_kinds) == [types.CodeActionKind.QuickFix]
    loaded = await model_loaded(client)
    assert loaded["loaded"] and loaded["error"] is None and loaded["model"] == client.options["diagnostics"]["model"]
    open_document(client)
    params = await published(client, 1)
    [diagnostic] = params.diagnostics
    check_planted(diagnostic, "utf-16")
    # the quick fix, offered for the diagnostic in the request's context
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))  # fmt: skip
    [action] = actions
    assert (action.title, action.kind, action.is_preferred) == ("Replace `total` with `count`", "quickfix", True)
    assert list(action.diagnostics) == [diagnostic]
    [document_edit] = action.edit.document_changes  # VS Code takes versioned document edits
    assert (document_edit.text_document.uri, document_edit.text_document.version) == (client.uri, 1)
    fixed = apply(BUGGY_TEXT, document_edit.edits)
    assert fixed == FIXED_TEXT
    # a client that drops diagnostics' `data` still gets it (the server's own at that range)
    bare = types.Diagnostic(range=diagnostic.range, message=diagnostic.message, source="bowerbird", code="BB001")
    [again] = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[bare])))  # fmt: skip
    assert again.title == action.title and again.edit == action.edit
    # the client applies it: the diagnostic goes
    change(client, 2, fixed)
    assert not (await published(client, 2)).diagnostics
    # other kinds of action, or a range whose text is no longer the name: no quick fix
    only_refactor = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.Refactor])))  # fmt: skip
    stale = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))  # fmt: skip
    assert not only_refactor and not stale


async def test_the_suppression_comment_removes_the_diagnostic_on_its_line(pushed: LanguageClient):
    client = pushed
    await model_loaded(client)
    open_document(client)
    assert len((await published(client, 1)).diagnostics) == 1
    change(client, 2, BUGGY_TEXT.replace(BUG_LINE, BUG_LINE + "  #Bowerbird :  IGNORE (the test's own)"))
    assert not (await published(client, 2)).diagnostics
    change(client, 3, BUGGY_TEXT)  # the comment gone: the diagnostic is back
    assert len((await published(client, 3)).diagnostics) == 1


async def test_an_older_version_is_never_published_after_a_newer_one(pushed: LanguageClient):
    client = pushed
    await model_loaded(client)
    open_document(client)
    assert len((await published(client, 1)).diagnostics) == 1
    # two edits in quick succession (no debounce in this session): the second fixes the bug
    change(client, 2, BUGGY_TEXT + "\n\ndef extra(a, b):\n    c = a + b\n    return c\n")
    await asyncio.sleep(0.02)  # version 2's analysis may be under way (then it gives up) or done
    change(client, 3, FIXED_TEXT)
    assert not (await published(client, 3)).diagnostics
    await asyncio.sleep(1.0)  # anything still coming for version 2 would arrive by now
    versions = [p.version for p in client.published if p.uri == client.uri]
    assert versions == sorted(versions) and versions[-1] == 3, versions
    assert not client.diagnostics[client.uri]


async def test_turning_diagnostics_off_at_run_time_clears_them(pushed: LanguageClient):
    client = pushed
    await model_loaded(client)
    open_document(client)
    assert len((await published(client, 1)).diagnostics) == 1
    count = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"bowerbird": {"diagnostics": {"enabled": False}}}))  # fmt: skip
    for _ in range(WAIT_S * 20):
        if len(client.published) > count:
            break
        await asyncio.sleep(0.05)
    assert not client.published[-1].diagnostics and client.published[-1].uri == client.uri
    assert (await status(client))["diagnostics"]["enabled"] is False
    change(client, 2, BUGGY_TEXT + "\n")  # edits while off publish nothing
    await asyncio.sleep(0.5)
    assert client.published[-1].version == 1 and not client.published[-1].diagnostics
    # on again (with a threshold above the finding's probability: still nothing), then at 0.5
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"diagnostics": {"enabled": True, "threshold": 1.0}}))  # fmt: skip
    await asyncio.sleep(0.5)
    assert not client.diagnostics[client.uri]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"diagnostics": {"threshold": 0.5}}))  # fmt: skip
    for _ in range(WAIT_S * 20):
        if client.diagnostics[client.uri]:
            break
        await asyncio.sleep(0.05)
    [diagnostic] = client.diagnostics[client.uri]
    check_planted(diagnostic, "utf-16")


async def test_a_pulling_client_gets_the_same_diagnostics_and_nothing_pushed(pulled: LanguageClient):
    client = pulled
    await model_loaded(client)
    open_document(client)

    async def pull(previous: str | None = None):
        return await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri), previous_result_id=previous))  # fmt: skip

    report = await pull()
    assert report.kind == "full"
    [diagnostic] = report.items
    check_planted(diagnostic, "utf-8")  # Neovim asked for UTF-8 positions
    again = await pull(report.result_id)
    assert again.kind == "unchanged" and again.result_id == report.result_id
    # the quick fix, in UTF-8 columns too
    [action] = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))  # fmt: skip
    [edit] = action.edit.changes[client.uri]  # this client takes plain changes
    assert edit.range == diagnostic.range and edit.new_text == "count"
    change(client, 2, FIXED_TEXT)
    fixed = await pull(report.result_id)
    assert fixed.kind == "full" and not fixed.items
    # off: an empty report
    change(client, 3, BUGGY_TEXT)
    assert len((await pull()).items) == 1
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"diagnostics": {"enabled": False}}))
    assert not (await pull()).items
    assert client.published == []  # a pulling client is never pushed to (it would show each twice)


@pytest_lsp.fixture(config=CONFIG)
async def default_options(lsp_client: LanguageClient, request):
    """The default diagnostics options (the shipped misuse model) and the tiny completion model."""
    if not is_model_folder(default_model_folder()):
        pytest.skip("this checkout has no shipped misuse model")
    await start(lsp_client, request, "visual-studio-code", {"completion": tiny_completion(request)})
    yield
    await lsp_client.shutdown_session()


async def test_by_default_the_shipped_model_gives_the_diagnostics_at_its_threshold(default_options: LanguageClient):
    client = default_options
    for _ in range(WAIT_S * 20):
        state = await status(client)
        if state["model"]["loaded"] and state["diagnostics"]["loaded"]:
            break
        await asyncio.sleep(0.05)
    shipped = default_model_folder()
    threshold, problem = calibrated_threshold(json.loads((shipped / "config.json").read_text()))
    assert problem is None and 0.9 < threshold < 1.0
    diagnostics = state["diagnostics"]
    assert diagnostics["loaded"] and diagnostics["error"] is None
    assert Path(diagnostics["model"]) == shipped and diagnostics["threshold"] == threshold
    open_document(client, CLEAN)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), position=types.Position(line=13, character=15)))  # fmt: skip
    assert result.items, "no completion"
    pulled = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri)))  # fmt: skip
    assert list(pulled.items) == []  # clean code: nothing at the shipped threshold
    state = await status(client)
    assert state["diagnostics"]["analyses"] >= 1  # analysed, not skipped
    assert not [m for m in client.messages if "misuse" in m.message]  # no pop-up
    assert all(not p.diagnostics for p in client.published)  # a push client is told "none" at most


def many_functions(n: int) -> str:
    """``n`` different small functions (no cache hits between them)."""
    return "".join(f"\n\ndef f{k}(a{k}, b{k}):\n    c{k} = a{k} + b{k}\n    for d{k} in range(c{k}):\n"
                   f"        c{k} = c{k} * d{k}\n    return c{k} - b{k}\n" for k in range(n))  # fmt: skip


@pytest_lsp.fixture(config=CONFIG)
async def both(lsp_client: LanguageClient, request):
    """The tiny completion model and the tiny misuse model."""
    await start(lsp_client, request, "visual-studio-code",
                {**diagnostics_options(request), "completion": tiny_completion(request)})
    yield
    await lsp_client.shutdown_session()


async def test_requests_are_answered_while_a_long_file_is_analysed(both: LanguageClient):
    client = both
    for _ in range(WAIT_S * 20):
        state = await status(client)
        if state["model"]["loaded"] and state["diagnostics"]["loaded"] and state["roots"] and state["roots"][0]["indexed"]:
            break
        await asyncio.sleep(0.05)
    text = BUGGY_TEXT + many_functions(1000)  # ~3 s to analyse here
    open_document(client, text)
    await asyncio.sleep(0.2)  # the analysis is under way (no debounce in this session)
    started = asyncio.get_running_loop().time()
    await status(client)
    answered = asyncio.get_running_loop().time() - started
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri), position=types.Position(line=13, character=15)))  # fmt: skip
    completed = asyncio.get_running_loop().time() - started
    assert not [p for p in client.published if p.version == 1], "the analysis ended before the requests: make the file longer"
    assert result.items and answered < 1.0 and completed < 5.0, (answered, completed)
    params = await published(client, 1)
    check_planted(params.diagnostics[0], "utf-16")
