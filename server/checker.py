"""The misuse model behind the server's diagnostics: loaded once per folder, and run, in one
dedicated worker thread, with a per-function cache (`detect.FunctionCache`).

One thread, at one torch thread: analyses run one at a time and never compete with each other;
`torch.set_num_threads` is only partly per thread (OpenMP's and MKL's settings are the calling
thread's, but it also sets the default that every thread that has not used torch yet starts
with), so `_one_torch_thread` sets 1 here and puts the default back from a short-lived helper
thread: the completion model keeps its threads. Between functions an analysis waits while a
completion request is in flight (`InFlight`), so the GIL goes to completions first, and gives up
(`Stale`) when its text is no longer the document's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bowerbird.learners.misuse.defaults import calibrated_threshold, default_model_folder, is_model_folder
from bowerbird.server.options import DiagnosticsOptions

logger = logging.getLogger(__name__)

BATCH_SIZE = 16  # functions per forward pass (smaller than check's: a stale text is dropped sooner)
YIELD_S = 2.0  # at most this long per wait for completions, so diagnostics are never starved


class Stale(Exception):
    """The text being analysed is no longer the document's."""


class NoModel(Exception):
    """There is no misuse model: none is shipped, or the configured folder is not one."""


class InFlight:
    """Completion requests running now; `wait_idle` blocks while there are any."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> InFlight:
        with self._idle:
            self._count += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_idle(self, timeout: float = YIELD_S) -> bool:
        """Wait until nothing is in flight (at most ``timeout`` seconds); whether it is idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def _one_torch_thread() -> None:
    """Run torch on one thread in the calling thread only (see the module)."""
    import torch

    if torch.get_num_threads() == 1:  # done already (or a one-core machine)
        return
    default = torch.get_num_threads()  # this thread's first use of torch: the process default
    torch.set_num_threads(1)  # this thread's OpenMP and MKL settings, and the default
    restore = threading.Thread(target=torch.set_num_threads, args=(default,), name="bowerbird-torch-threads")
    restore.start()  # a fresh thread: setting the default there leaves this thread at 1
    restore.join()


class Checker:
    """The loaded misuse model (or why there is none), its cache and its thread."""

    def __init__(self) -> None:
        self.model = None  # a learners.misuse MisuseModel once loaded
        self.vocabulary: dict[str, int] | None = None
        self.config: dict = {}
        self.folder: Path | None = None  # the folder asked for last
        self.error: str | None = None  # why there is no model
        self.shipped = True  # the folder asked for is the default (the shipped model)
        self.calibrated = 0.5  # the model's threshold (`defaults.calibrated_threshold`)
        self.timings: deque[dict] = deque(maxlen=200)  # recent analyses: ms, functions, analysed anew
        self._cache = None  # a detect.FunctionCache once torch is imported
        self._requested: Path | None = None  # the folder of the latest load asked for (event loop)
        self._loaded_key: Path | None = None  # the folder of the latest load done (checker thread)
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bowerbird-diagnostics")

    @staticmethod
    def folder_for(options: DiagnosticsOptions) -> Path:
        return Path(options.model).expanduser() if options.model else default_model_folder()

    def needs_load(self, options: DiagnosticsOptions) -> bool:
        """Whether the options name another folder than the last load asked for."""
        return self.folder_for(options) != self._requested

    def request(self, options: DiagnosticsOptions) -> None:
        """A load of the options' folder is on its way (so it is asked for, and reported, once)."""
        self._requested = self.folder_for(options)

    def threshold(self, options: DiagnosticsOptions) -> float:
        return options.threshold if options.threshold is not None else self.calibrated

    def load(self, options: DiagnosticsOptions) -> str | None:
        """Load the folder the options name (blocking; in `executor`); the error, or None."""
        _one_torch_thread()
        folder = self.folder_for(options)
        with self._lock:
            if folder == self._loaded_key:
                return self.error
            self._loaded_key = self.folder = folder
            self.shipped = not options.model
            self.model = self.vocabulary = None
            self.config = {}
            try:
                self.model, self.vocabulary, self.config = self._read(folder, self.shipped)
                self.error = None
            except NoModel as error:
                self.error = str(error)
            if self.error:
                logger.warning("no misuse diagnostics: %s", self.error)
                return self.error
            self.calibrated, problem = calibrated_threshold(self.config)
            if problem:
                logger.warning("%s: %s; using %s", folder, problem, self.calibrated)
            from bowerbird.learners.misuse.detect import FunctionCache

            self._cache = FunctionCache()
            return None

    @staticmethod
    def _read(folder: Path, shipped: bool):
        from bowerbird.learners.misuse.checkpoint import load_model

        if not is_model_folder(folder):
            if shipped:
                raise NoModel(f"the shipped misuse model is missing ({folder}; reinstall bowerbird), so "
                              "variable-misuse diagnostics are off; set diagnostics.model to a `bowerbird train "
                              "misuse` folder")  # fmt: skip
            raise NoModel(f"diagnostics.model {folder}: not a misuse model (needs config.json, vocabulary.json "
                          "and model.safetensors); variable-misuse diagnostics are off")  # fmt: skip
        try:
            return load_model(folder)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise NoModel(f"diagnostics.model {folder}: cannot load the model ({error}); "
                          "variable-misuse diagnostics are off") from None  # fmt: skip

    def analyse(self, text: str, path: str, between: Callable[[], None] | None = None):
        """`detect.detect_source` of ``text`` with the cache (blocking; in `executor`). Raises
        `NoModel` without a model, `GraphError` when the text does not parse, whatever
        ``between`` raises."""
        from bowerbird.learners.misuse.detect import detect_source

        _one_torch_thread()
        model, vocabulary, cache = self.model, self.vocabulary, self._cache
        if model is None or vocabulary is None:
            raise NoModel(self.error or "no misuse model loaded")
        started = time.perf_counter()
        misses = cache.misses
        if between is not None:
            between()  # before the file's own parse too
        result = detect_source(model, vocabulary, text, path, batch_size=BATCH_SIZE, cache=cache, between=between)
        self.timings.append({"ms": (time.perf_counter() - started) * 1000, "functions": result.functions,
                             "analysed_anew": cache.misses - misses})  # fmt: skip
        return result

    def status(self, options: DiagnosticsOptions) -> dict:
        cache = self._cache
        ms = sorted(t["ms"] for t in self.timings)
        return {
            "enabled": options.enabled,
            "loaded": self.model is not None,
            "model": str(self.folder) if self.folder is not None else str(self.folder_for(options)),
            "error": self.error,
            "threshold": self.threshold(options),
            "cache": {"functions": len(cache), "hits": cache.hits, "misses": cache.misses} if cache is not None else None,
            "analyses": len(self.timings),
            "timings_ms": {"p50": round(ms[len(ms) // 2], 1), "p95": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1)}
            if ms else {},
        }  # fmt: skip

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
