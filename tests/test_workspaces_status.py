"""`Workspaces.status` never waits for a root's lock (it runs on the server's event loop)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from bowerbird.server.workspaces import Workspaces

FIXTURE = Path(__file__).parent / "data" / "pyrepo"


def test_status_of_a_busy_root_answers_at_once_with_the_last_counts(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    workspaces = Workspaces(tmp_path / "index")
    try:
        root = workspaces.add(repo)
        assert workspaces.status()[0]["files"] == 0 and not workspaces.status()[0]["indexed"]
        workspaces.index(root)
        done = workspaces.status()[0]
        assert done["busy"] is False and done["indexed"] and done["files"] == 9 and done["symbols"] > 0
        held, release = threading.Event(), threading.Event()

        def indexing_run():  # stands in for a long run holding the root
            with root.lock:
                held.set()
                release.wait(10)

        worker = threading.Thread(target=indexing_run)
        worker.start()
        held.wait(5)
        started = time.monotonic()
        busy = workspaces.status()[0]
        assert time.monotonic() - started < 0.5
        assert busy["busy"] is True and (busy["files"], busy["symbols"]) == (done["files"], done["symbols"])
        release.set()
        worker.join(5)
        assert workspaces.status()[0]["busy"] is False
    finally:
        workspaces.close()
