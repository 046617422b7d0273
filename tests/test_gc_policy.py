"""The server process's garbage-collector policy (`bowerbird.server.gc_policy`): what `apply`
does to the collector, and that the server applies it at start-up and after loading a model.

Every test here leaves the collector as it found it (nothing frozen, the old thresholds).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import time
import weakref

import pytest

from bowerbird.server import gc_policy


@pytest.fixture
def restore_gc():
    """Undo whatever a test did to the collector: unfreeze, the previous thresholds."""
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0, "something froze the test process before this test"
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_apply_freezes_what_is_alive_and_sets_the_thresholds(restore_gc, caplog):
    before = gc.get_threshold()
    alive = [{"kept": i} for i in range(100)]  # tracked containers that must end up frozen
    with caplog.at_level(logging.DEBUG, logger="bowerbird.server.gc_policy"):
        done = gc_policy.apply("test")
    assert gc.get_freeze_count() >= len(alive) > 0
    assert done["frozen"] >= len(alive)
    assert gc.get_threshold() == gc_policy.THRESHOLDS == done["thresholds"]
    assert done["previous_thresholds"] == before
    assert gc_policy.THRESHOLDS[0] > 700  # a higher young threshold than CPython's default
    assert any("gc policy (test)" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_applying_again_reclaims_cycles_that_an_earlier_call_froze(restore_gc):
    class Node:
        pass

    cycle = Node()
    cycle.self = cycle
    freed = weakref.ref(cycle)
    gc_policy.apply("first")
    del cycle  # garbage now, but frozen: a full collection does not look at it
    gc.collect()
    assert freed() is not None
    done = gc_policy.apply("again", thresholds=(5000, 10, 10))
    assert freed() is None and done["collected"] >= 1
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (5000, 10, 10)


def test_the_server_applies_it_after_the_model_has_loaded(restore_gc, monkeypatch):
    from bowerbird.server.app import create_server
    from bowerbird.server.features import completion

    stages = []
    monkeypatch.setattr(gc_policy, "apply", lambda stage, **kw: stages.append(stage))

    async def no_progress(ls, title, work):
        return work(lambda done, total: None)

    monkeypatch.setattr(completion, "with_progress", no_progress)
    server = create_server()
    monkeypatch.setattr(server.models, "load", lambda options: stages.append("load") or None)
    asyncio.run(completion.load_model(server))
    assert stages == ["load", "model loaded"]


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def test_the_server_process_applies_it_at_start_up_and_after_the_model_loads(tmp_path, tiny_model):
    """A real `bowerbird -vv serve`: both call sites are in its debug log, in order."""
    options = {"indexDir": str(tmp_path / "index"), "dataDir": str(tmp_path / "data"),
               "completion": {"backend": "transformers", "model": str(tiny_model)}}
    process = subprocess.Popen(
        [sys.executable, "-m", "bowerbird", "-vv", "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
    )
    try:
        process.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                    "params": {"capabilities": {}, "initializationOptions": options}}))
        process.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        process.stdin.flush()
        lines, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline().decode(errors="replace")
            if not line:
                break
            lines.append(line)
            if "gc policy (model loaded)" in line:
                break
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stderr.close()
    policy = [l for l in lines if "gc policy (" in l]
    sites = [l.split("gc policy (")[1].split(")")[0] for l in policy]
    # the shipped misuse model (diagnostics) loads on its own thread: its call may come in between
    assert [site for site in sites if site != "misuse model loaded"] == ["started", "model loaded"], "".join(lines)
    assert sites[0] == "started"
    assert all(l.startswith("DEBUG bowerbird.server.gc_policy:") for l in policy)
    assert f"thresholds (700, 10, 10) -> {gc_policy.THRESHOLDS}" in policy[0]
