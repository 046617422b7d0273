"""1,000 rapid inline-completion requests, most cancelled by the next: every request is
answered or cancelled, and the server's memory stays flat."""

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


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "bowerbird", "serve"]))
async def client(lsp_client: LanguageClient, request):
    tmp = request.getfixturevalue("tmp_path")
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="repo")],
        initialization_options={"indexDir": str(tmp / "index"), "dataDir": str(tmp / "data"), "completion": {
            "backend": "transformers", "model": str(request.getfixturevalue("tiny_model")), "debounceMs": 5, "maxTokens": 8}},
    ))
    lsp_client.repo = repo
    yield
    await lsp_client.shutdown_session()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
async def test_rapid_requests_with_cancellations_do_not_leak(client: LanguageClient):
    for _ in range(300):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="bowerbird.status"))
        if status["model"]["loaded"] and status["roots"][0]["indexed"]:
            break
        await asyncio.sleep(0.05)
    path = client.repo / "shapes" / "circle.py"
    text = path.read_text()
    lines = text.split("\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=path.as_uri(), language_id="python", version=1, text=text)))
    positions = [(n, c) for n, line in enumerate(lines) for c in range(len(line) + 1)]
    pid = client._server.pid

    async def burst(start: int, count: int) -> tuple[int, int]:
        answered = cancelled = 0
        futures = []
        for k in range(start, start + count):
            line, col = positions[k % len(positions)]
            futures.append(client.protocol.send_request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(line=line, character=col),
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)),
                msg_id=f"soak-{k}"))
            if k % 4 != 3:  # three of four superseded by the next keystroke
                client.cancel_request(types.CancelParams(id=f"soak-{k}"))
        for future in futures:
            try:
                await asyncio.wait_for(asyncio.wrap_future(future), timeout=60)
                answered += 1
            except asyncio.TimeoutError:
                raise
            except Exception:
                cancelled += 1
        return answered, cancelled

    answered, cancelled = await burst(0, 200)  # warm up: caches, allocator
    before = rss_mb(pid)
    for start in range(200, 1000, 200):
        a, c = await burst(start, 200)
        answered, cancelled = answered + a, cancelled + c
    after = rss_mb(pid)
    assert answered + cancelled == 1000
    assert answered >= 250  # every fourth request is never cancelled
    assert after - before < 40, f"RSS grew from {before:.0f} MB to {after:.0f} MB"
