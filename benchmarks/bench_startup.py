"""Server start-up benchmark: time from spawning `bowerbird serve` to the `initialize` answer.

    .venv/bin/python benchmarks/bench_startup.py [--runs N] [--json]

Spawns the server as an editor does (stdio), sends `initialize` at once and times the answer,
N times; also times a bare `python -c pass` spawn for reference. Target: <= 1 s.
Results go to benchmarks/results/bench_startup.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

from _util import environment, log, percentile, table, verdict, write_result

TARGET_S = 1.0


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def time_initialize(index_dir: str) -> float:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bowerbird", "serve"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"capabilities": {}, "initializationOptions": {"indexDir": index_dir}}}))
    process.stdin.flush()
    header = process.stdout.readline()  # blocks until the answer starts
    elapsed = time.perf_counter() - start
    if not header.startswith(b"Content-Length"):
        raise RuntimeError(f"unexpected answer: {header!r}")
    process.stdin.close()
    process.wait(timeout=10)
    return elapsed


def time_bare_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = environment()
    with tempfile.TemporaryDirectory() as index_dir:
        log(f"spawning bowerbird serve {args.runs} times ...")
        times = sorted(time_initialize(index_dir) for _ in range(args.runs))
    bare = sorted(time_bare_python() for _ in range(args.runs))
    doc = {
        "benchmark": "bench_startup",
        "environment": env,
        "initialize_s": {"p50": round(percentile(times, 50), 3), "max": round(times[-1], 3),
                         "mean": round(statistics.fmean(times), 3), "runs": len(times)},
        "bare_python_s": {"p50": round(percentile(bare, 50), 3)},
        "targets": {"initialize_s": {"target": TARGET_S, "value": round(times[-1], 3), "pass": times[-1] <= TARGET_S}},
    }
    path = write_result("bench_startup", doc)
    if args.json:
        print(json.dumps(doc))
    else:
        print(table([
            ("spawn -> initialize answered, p50", f"{doc['initialize_s']['p50'] * 1000:.0f} ms", "", ""),
            ("spawn -> initialize answered, max", f"{doc['initialize_s']['max'] * 1000:.0f} ms",
             f"<= {TARGET_S * 1000:.0f} ms", verdict(doc["targets"]["initialize_s"]["pass"])),
            ("bare `python -c pass`, p50", f"{doc['bare_python_s']['p50'] * 1000:.0f} ms", "", ""),
        ], f"bowerbird serve start-up ({args.runs} runs)"))
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
