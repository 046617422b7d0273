"""A real OpenAI-compatible completions server on loopback, serving a local model through
Bowerbird's transformers backend: `/v1/models` and `/v1/completions` (plain and streamed)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bowerbird.learners.lm.backend import GenerationRequest


class CompletionServer:
    def __init__(self, backend, served_name: str, hang: bool = False, port: int = 0):
        self.backend = backend
        self.served_name = served_name
        self.hang = hang  # accept requests and never answer completions
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [
                        {"id": server.served_name, "object": "model", "max_model_len": server.backend.context_tokens}]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self):
                if self.path != "/v1/completions":
                    return self._json(404, {"error": "not found"})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if server.hang:
                    time.sleep(30)
                    return
                request = GenerationRequest(
                    prompt=body["prompt"], max_new_tokens=body.get("max_tokens", 16),
                    candidates=body.get("n", 1), temperature=body.get("temperature", 0.0),
                    single_line="\n" in (body.get("stop") or []),
                )
                candidates = server.backend.generate(request)
                choices = [
                    {"index": i, "text": c.text.split("\n")[0] if request.single_line else c.text,
                     "logprobs": {"token_logprobs": [c.score]}, "finish_reason": "stop"}
                    for i, c in enumerate(candidates)
                ]
                if not body.get("stream"):
                    return self._json(200, {"object": "text_completion", "model": server.served_name, "choices": choices})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for choice in choices:
                    text = choice["text"]
                    middle = len(text) // 2  # two chunks per choice, as a streaming server sends them
                    for part, probs in ((text[:middle], []), (text[middle:], choice["logprobs"]["token_logprobs"])):
                        chunk = {"choices": [{"index": choice["index"], "text": part, "logprobs": {"token_logprobs": probs}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CompletionServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
