"""A progress line on stderr for work that takes more than a second.

On a terminal it redraws one line; elsewhere (CI logs) it writes a line every few seconds.
Nothing is shown for work that finishes within the first second.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, label: str, stream: TextIO | None = None, delay: float = 1.0, every: float = 5.0):
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.delay = delay
        self.every = every if not self.stream.isatty() else 0.1
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < self.every:
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label} [{bar}] {done}/{total} ({now - self.start:.0f}s)"
        if self.stream.isatty():
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
