"""A tiny variable-misuse model for tests: trained here, in seconds, until it knows one planted
bug (``total`` read where ``count`` belongs, in ``Running.mean`` of `CLEAN`).

`train_tiny_misuse_model(folder)` trains it (one torch thread, seeded) and saves it as a
`train misuse --data DATA --out DIR` folder; `tests/test_check.py` and the server's diagnostics
tests (`tests/e2e/test_server_diagnostics.py`) share it.
"""

from __future__ import annotations

from pathlib import Path

CLEAN = '''\
"""Small statistics helpers."""


class Running:
    def __init__(self):
        self.values = []

    def mean(self, values):
        total = 0
        count = 0
        for value in values:
            total = total + value
            count = count + 1
        return total / count


def scale(values, factor):
    out = []
    for value in values:
        out.append(value * factor)
    return out


def outer(items, limit):
    kept = []

    def inner(item, bound):
        small = item < bound
        return small

    for item in items:
        if inner(item, limit):
            kept.append(item)
    return kept
'''
# the planted bug: file line 14, the second `total` (1-based columns 24 to 29, exclusive)
BUGGY = CLEAN.replace("return total / count", "return total / total")
BUG = {"line": 14, "col": 24, "end_line": 14, "end_col": 29, "name": "total", "suggestion": "count"}
FUNCTIONS = {"Running.mean", "scale", "outer", "outer.<locals>.inner"}  # `Running.__init__`: no variable read


def _example(name: str, source: str, bug=None, targets=()):
    from bowerbird.learners.misuse.data import MisuseExample

    return MisuseExample(f"stats.py:{name}", "stats", "stats.py", name, source, bug, tuple(targets), (), 0, 0)


def _buggy(name: str, source: str, site, wrong: str):
    """``source`` with ``wrong`` read at ``site`` (what `synthesis.synthesize` writes)."""
    from bowerbird.learners.misuse import synthesis
    from bowerbird.learners.misuse.data import Bug

    shift = len(wrong) - len(site.correct)
    targets = [(line, col + shift if line == site.line and col > site.col else col)
               for line, col in synthesis.analyse(source).occurrences[site.correct]
               if (line, col) != (site.line, site.col)]  # fmt: skip
    text = synthesis.replace_name(source, site.line, site.col, site.correct, wrong)
    return _example(name, text, Bug(site.line, site.col, wrong, site.correct), targets)


def training_examples() -> list:
    """Each function of CLEAN clean, the planted bug, and one bug at every other site."""
    from bowerbird.learners.misuse import synthesis

    examples = []
    for function in synthesis.file_functions(CLEAN):
        examples.append(_example(function.qualname, function.source))
        for site in synthesis.analyse(function.source).sites:
            planted = function.qualname == "Running.mean" and site.correct == "count" and site.line == 7
            examples.append(_buggy(function.qualname, function.source, site, "total" if planted else site.replacements[0]))
    return examples


def train_tiny_misuse_model(folder: Path) -> Path:
    """Train the tiny model (150 steps, hidden 16, "hand" edges, seed 0, one torch thread) and
    save it to ``folder``; the folder."""
    import torch

    from bowerbird.analysis.graphs.tensors import build_subtoken_vocabulary, node_type_vocabulary
    from bowerbird.learners.misuse.checkpoint import save_model
    from bowerbird.learners.misuse.graph_inputs import misuse_graph, subtoken_texts
    from bowerbird.learners.misuse.model import MisuseConfig, MisuseModel
    from bowerbird.learners.misuse.train import FitConfig, fit

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        examples = training_examples()
        vocabulary = build_subtoken_vocabulary(subtoken_texts(examples), 200)
        graphs = [misuse_graph(e, vocabulary, "hand") for e in examples]
        torch.manual_seed(0)
        model = MisuseModel(MisuseConfig(vocab_size=len(vocabulary) + 1, num_node_types=len(node_type_vocabulary()) + 1,
                                         hidden=16, rounds=2))  # fmt: skip
        fit(model, graphs, FitConfig(steps=150, batch_size=8, lr=0.01, log_every=50))
        return save_model(model, vocabulary, folder)
    finally:
        torch.set_num_threads(threads)
