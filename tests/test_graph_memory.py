"""A parsed module and its graphs are freed by reference counting, without the cycle collector.

A reference cycle anywhere in `ParsedModule` would keep its whole libcst tree alive until the
garbage collector's next full pass, which then takes tens of milliseconds in the middle of
whichever graph is being built (`benchmarks/bench_graphs.py`).
"""

from __future__ import annotations

import gc
import weakref

from bowerbird.analysis.graphs.build import build_unit, parse_source

SOURCE = """
import os

class Base:
    def method(self, a):
        return self.helper(a) + [x for x in a]

    def helper(self, a):
        def inner(b):
            return b
        return inner(a)

def top(n):
    for i in range(n):
        Base.method(None, i)
    return top(n - 1)
"""


def _build() -> tuple:
    parsed = parse_source(SOURCE)
    graphs = [build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname)
              for d in parsed.definitions]  # fmt: skip
    return parsed, graphs


def test_parsed_module_and_graphs_need_no_cycle_collector():
    _build()  # once first: libraries may build caches with cycles on first use
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        parsed, graphs = _build()
        assert all(g.graph.number_of_nodes() for g in graphs)  # (edges() etc. make networkx
        # cache views on the graph, which refer back to it: a cycle that is networkx's own)
        scope = weakref.ref(parsed.scope)
        graph = weakref.ref(graphs[0].graph)
        del parsed, graphs
        assert scope() is None and graph() is None
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        if was_enabled:
            gc.enable()
