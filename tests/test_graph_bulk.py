"""`bulk_graph.multidigraph` builds the same graph as networkx's add_nodes_from + add_edges_from."""

from __future__ import annotations

import networkx as nx

from bowerbird.analysis.graphs import EdgeType, build_graphs
from bowerbird.analysis.graphs.bulk_graph import multidigraph

NODES = [(0, {"a": 1}), (1, {"a": 2}), (2, {}), (1, {"b": 3})]  # node 1 twice: attributes merge
EDGES = [
    (0, 1, "x", {"kind": "x"}),
    (1, 0, "y", {"kind": "y", "field": "f"}),
    (0, 1, "z", {"kind": "z"}),  # a second key between the same nodes
    (0, 1, "x", {"more": True}),  # a repeated edge: attributes merge
    (2, 2, "x", {}),  # a self-loop
    (2, 5, "x", {"new": 1}),  # an end that is not a node yet
]


def _reference(nodes, edges) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((n, dict(a)) for n, a in nodes)
    graph.add_edges_from((u, v, k, dict(a)) for u, v, k, a in edges)
    return graph


def _shape(graph: nx.MultiDiGraph) -> tuple:
    """Everything a reader can see, in iteration order."""
    return (
        list(graph.nodes(data=True)),
        list(graph.edges(keys=True, data=True)),
        [(n, list(graph.succ[n].items())) for n in graph],
        [(n, list(graph.pred[n].items())) for n in graph],
    )


def test_multidigraph_matches_networkx():
    mine = multidigraph(
        [(n, dict(a)) for n, a in NODES], [(u, v, k, dict(a)) for u, v, k, a in EDGES]
    )
    assert _shape(mine) == _shape(_reference(NODES, EDGES))
    assert mine.number_of_edges() == 5
    assert mine.has_edge(0, 1, key="z") and mine.in_degree(0) == 1
    assert mine.edges[0, 1, "x"] == {"kind": "x", "more": True}


def test_builder_graph_is_consistent_both_ways():
    source = "def f(a, b=1):\n    for i in range(a):\n        b += f(i, b=b)\n    return b\n"
    for fg in build_graphs(source):
        g = fg.graph
        out_edges = sorted((u, v, k) for u, v, k in g.edges(keys=True))
        in_edges = sorted((u, v, k) for v in g for u, v, k in g.in_edges(v, keys=True))
        assert out_edges == in_edges
        assert all(g.edges[u, v, k]["kind"] == k for u, v, k in out_edges)
        assert g.has_edge(0, 1, key=EdgeType.AST_CHILD)


def test_first_edges_are_written_before_the_others():
    first = [(0, 1, "child", {"kind": "child"}), (1, 0, "parent", {"kind": "parent"})]
    rest = [(0, 1, "next", {"kind": "next"}), (1, 2, "next", {"kind": "next"})]
    nodes = [(0, {}), (1, {}), (2, {})]
    mine = multidigraph(
        [(n, dict(a)) for n, a in nodes],
        [(u, v, k, dict(a)) for u, v, k, a in rest],
        first_edges=[(u, v, k, dict(a)) for u, v, k, a in first],
    )
    assert _shape(mine) == _shape(_reference(nodes, first + rest))
