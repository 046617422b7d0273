"""The server process's garbage-collector policy: an application-level setting, applied by the
server at its start-up points (and by `benchmarks/bench_graphs.py --gc server`), never by
library code or on import.

CPython's full (generation-2) collections re-scan every container object that is alive, and a
language server holds many long-lived ones (imported modules, the loaded model and tokenizer,
index caches): each full pass then costs tens of milliseconds and lands on whatever request
runs. `apply` therefore

- collects once and moves everything still alive into the permanent generation
  (`gc.freeze()`), so later passes scan only what was made after it; it unfreezes first, so
  applying it again (after the model has loaded, or been replaced) also reclaims cyclic
  garbage among what an earlier call froze instead of keeping it forever;
- raises the young generation's threshold from 700 to 10,000 (net container allocations;
  `THRESHOLDS`, the older generations keep CPython's 10 and 10), so that building a large
  libcst tree (many objects that all survive until the tree is dropped) triggers far fewer
  passes, at about 1-3 ms for a young pass instead of 0.1 ms (`benchmarks/bench_graphs.py`).

Objects stay collectable by reference counting; only cycles among frozen objects wait for the
next `apply` (see the CPython documentation of `gc.freeze`).
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)

THRESHOLDS = (10_000, 10, 10)  # CPython's defaults are (700, 10, 10)


def apply(stage: str, thresholds: tuple[int, int, int] = THRESHOLDS) -> dict:
    """Apply the policy now (`stage` names the call site in the log); what it did."""
    started = time.perf_counter()
    before = gc.get_threshold()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    done = {
        "stage": stage,
        "collected": collected,
        "frozen": gc.get_freeze_count(),
        "thresholds": gc.get_threshold(),
        "previous_thresholds": before,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    logger.debug(
        "gc policy (%s): collected %d, froze %d objects, thresholds %s -> %s, %.1f ms",
        stage, collected, done["frozen"], before, done["thresholds"], done["ms"],
    )
    return done
