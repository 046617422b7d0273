"""Run blocking work in a thread while reporting it with `$/progress` (when the client can)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

T = TypeVar("T")
_tokens = itertools.count()
REPORT_EVERY_S = 0.2


async def with_progress(
    server: LanguageServer, title: str, work: Callable[[Callable[[int, int], None]], T], executor: Executor | None = None
) -> T:
    """`work(progress)` in a worker thread (of ``executor``, default the loop's); `progress(done,
    total)` becomes `$/progress`."""
    loop = asyncio.get_running_loop()
    capabilities = server.client_capabilities
    supported = bool(capabilities.window and capabilities.window.work_done_progress)
    token = f"bowerbird-{title.lower().replace(' ', '-')}-{next(_tokens)}"
    if supported:
        try:
            await server.work_done_progress.create_async(token)
        except Exception:  # the client refused: work without a progress bar
            supported = False
    if supported:
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0))
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if not supported or now - last < REPORT_EVERY_S:
            return
        last = now
        report = types.WorkDoneProgressReport(
            message=f"{done}/{total} files", percentage=int(100 * done / total) if total else 100
        )
        loop.call_soon_threadsafe(server.work_done_progress.report, token, report)

    try:
        return await loop.run_in_executor(executor, work, progress)
    finally:
        if supported:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
