"""The server process: nothing but protocol on stdout, and a clean exit when the client goes."""

from __future__ import annotations

import json
import subprocess
import sys


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def test_server_answers_initialize_and_exits_when_stdin_closes(tmp_path):
    initialize = frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                        "params": {"capabilities": {}, "initializationOptions": {"indexDir": str(tmp_path)}}})
    process = subprocess.run(
        [sys.executable, "-m", "bowerbird", "serve"], input=initialize, capture_output=True, timeout=30
    )
    assert process.returncode == 0
    header, _, body = process.stdout.partition(b"\r\n\r\n")
    assert header.startswith(b"Content-Length: ")
    response = json.loads(body[: int(header.split(b"\r\n")[0].split(b": ")[1])])
    assert response["id"] == 1
    assert response["result"]["serverInfo"] == {"name": "bowerbird", "version": "0.1.0"}
    capabilities = response["result"]["capabilities"]
    assert sorted(capabilities["executeCommandProvider"]["commands"]) == [
        "bowerbird.acceptCompletion", "bowerbird.forget", "bowerbird.reindex", "bowerbird.rejectCompletion",
        "bowerbird.status",
    ]
    assert capabilities["inlineCompletionProvider"] == {}
    assert capabilities["completionProvider"]["triggerCharacters"] == [".", "(", " "]
