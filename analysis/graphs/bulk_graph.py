"""Fill a networkx `MultiDiGraph` from node and edge lists in one pass.

`MultiDiGraph.add_edges_from` costs about a microsecond and a half per edge in Python (each
edge goes through `add_edge` and then ``graph[u][v][key]``, two levels of adjacency views), more
than building the edge itself. A program graph has about three edges per node, so the
builder writes the graph's documented adjacency structure directly (node -> attributes,
node -> neighbour -> key -> edge attributes, successors and predecessors sharing the key
dictionaries), as `add_nodes_from` followed by `add_edges_from` would: the same nodes, edges,
attributes and iteration order. `tests/test_graph_bulk.py` compares the two.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable

import networkx as nx

logger = logging.getLogger(__name__)


def multidigraph(
    nodes: Iterable[tuple[Hashable, dict]],
    edges: Iterable[tuple[Hashable, Hashable, Hashable, dict]],
    first_edges: Iterable[tuple[Hashable, Hashable, Hashable, dict]] = (),
) -> nx.MultiDiGraph:
    """A new graph with ``nodes`` (node, attributes) and ``edges`` (u, v, key, attributes).

    The attribute dictionaries are stored as given: pass a fresh one per node and edge, or
    read-only ones shared on purpose (`schema.EdgeAttributes`). A repeated node or (u, v, key)
    edge updates the attributes already there (unless they are the very same dictionary); an
    edge whose end is not a node adds that node without attributes, as networkx does.

    ``first_edges`` are written before ``edges`` without any lookup: the caller guarantees
    that their ends are nodes and that no two of them join the same ordered pair (true of
    the parent -> child and child -> parent edges of a tree).
    """
    graph = nx.MultiDiGraph()
    succ, pred, node_attrs = graph._succ, graph._pred, graph._node
    for n, attrs in nodes:
        if n in node_attrs:
            node_attrs[n].update(attrs)
            continue
        if n is None:
            raise ValueError("None cannot be a node")
        node_attrs[n] = attrs
        succ[n] = {}
        pred[n] = {}
    for u, v, key, attrs in first_edges:
        succ[u][v] = pred[v][u] = {key: attrs}
    for u, v, key, attrs in edges:
        try:
            out, into = succ[u], pred[v]
        except KeyError:  # an end that is not a node yet: networkx's own path adds it
            graph.add_edge(u, v, key, **attrs)
            continue
        keys = out.get(v)
        if keys is None:
            out[v] = into[u] = {key: attrs}
        elif key in keys:
            current = keys[key]
            if current is not attrs:  # the same (shared) attributes again: nothing to merge
                current.update(attrs)
        else:
            keys[key] = attrs
    return graph
