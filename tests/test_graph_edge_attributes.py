"""Edge attributes are read-only `EdgeAttributes`, shared by a graph's edges with equal values."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from bowerbird.analysis.graphs import EdgeType, graph_for_function
from bowerbird.analysis.graphs.schema import EdgeAttributes

SOURCE = "def f(a, b):\n    c = a + b\n    if c:\n        c = c * 2\n    return f(c, b)\n"


def test_edge_attributes_read_as_a_dict_and_refuse_changes():
    attributes = EdgeAttributes(kind=EdgeType.AST_CHILD, field="body", index=0)
    assert attributes == {"kind": EdgeType.AST_CHILD, "field": "body", "index": 0}
    assert list(attributes) == ["kind", "field", "index"] and attributes.get("missing") is None
    assert json.loads(json.dumps(attributes)) == {"kind": "AST_CHILD", "field": "body", "index": 0}
    for change in (
        lambda: attributes.__setitem__("weight", 1),
        lambda: attributes.__delitem__("kind"),
        lambda: attributes.update(weight=1),
        lambda: attributes.update({"weight": 1}),
        lambda: attributes.setdefault("weight", 1),
        lambda: attributes.pop("kind"),
        attributes.popitem,
        attributes.clear,
    ):
        with pytest.raises(TypeError, match="read-only"):
            change()
    attributes.update()  # nothing to change: allowed (networkx's add_edge of an existing edge)
    attributes.update({})
    pickled = pickle.loads(pickle.dumps(attributes))
    twins = (pickled, copy.deepcopy(attributes), copy.copy(attributes))
    for twin in twins:
        assert type(twin) is EdgeAttributes and twin == attributes


def test_graph_edges_share_read_only_attributes_and_a_copy_is_editable():
    fg = graph_for_function(SOURCE, "f")
    g = fg.graph
    cfg = [data for _, _, k, data in g.edges(keys=True, data=True) if k is EdgeType.CFG_NEXT]
    assert len(cfg) > 1 and all(d is cfg[0] for d in cfg)
    assert all(isinstance(d, EdgeAttributes) for _, _, d in g.edges(data=True))
    u, v, k = next(iter(g.edges(keys=True)))
    with pytest.raises(TypeError):
        g.edges[u, v, k]["weight"] = 1.0
    g.add_edge(u, v, key=k)  # re-adding an existing edge without attributes is harmless
    editable = g.copy()
    editable.edges[u, v, k]["weight"] = 1.0
    assert editable.edges[u, v, k]["weight"] == 1.0 and "weight" not in g.edges[u, v, k]
