"""Program graphs over real code (a property test), the GFSA view and the tensor export."""

from __future__ import annotations

import os
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bowerbird.analysis.graphs import (
    Access,
    EdgeType,
    GraphError,
    NodeType,
    build_file_graphs,
    build_graphs,
    graph_for_function,
)
from bowerbird.analysis.graphs.gfsa_view import (
    MISSING_SUFFIX,
    PARENT,
    gfsa_view,
    move_types,
    observation_vocabulary,
)
from bowerbird.analysis.graphs.tensors import (
    GraphTooLarge,
    export_tensors,
    split_subtokens,
)

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Small standard-library modules with loops, try/finally, comprehensions, classes and calls.
STDLIB_FILES = [
    STDLIB / name
    for name in ("bisect.py", "heapq.py", "textwrap.py", "colorsys.py", "keyword.py", "fnmatch.py",
                 "glob.py", "shlex.py", "base64.py", "contextlib.py")
    if (STDLIB / name).exists()
]  # fmt: skip

SAMPLE = textwrap.dedent(
    """\
    def f(a, *args, k=1, **kw):
        total = 0
        for i, x in enumerate(a):
            if x and i:
                total += x
            elif not x:
                continue
        with open(a) as fh:
            data = [line.strip() for line in fh if line]
        try:
            g(data)
        except (OSError, ValueError) as e:
            raise RuntimeError(e) from e
        finally:
            del fh
        return {k: v for k, v in kw.items()}, lambda y: y + total
    """
)


@pytest.mark.skipif(not STDLIB_FILES, reason="no standard-library sources here")
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(STDLIB_FILES))
def test_last_read_and_write_targets_are_accesses_of_the_same_name(path: Path):
    graphs = build_file_graphs(path)
    assert graphs[0].kind == "module"
    for fg in graphs:
        graph = fg.graph
        assert sorted(graph.nodes) == list(range(graph.number_of_nodes()))
        cfg = set(fg.cfg_nodes)
        for u, v, kind in graph.edges(keys=True):
            if kind in (EdgeType.LAST_READ, EdgeType.LAST_WRITE):
                src, dst = graph.nodes[u], graph.nodes[v]
                assert src["ast_type"] == dst["ast_type"] == "Name"
                assert src["text"] == dst["text"]
                assert src["access"] is not Access.NONE
                wanted = Access.READ if kind is EdgeType.LAST_READ else Access.WRITE
                assert dst["access"] in (wanted, Access.READ_WRITE)
            elif kind is EdgeType.CFG_NEXT:
                assert u in cfg and v in cfg
        tokens = sorted(
            (n, (d["line"], d["col"])) for n, d in graph.nodes(data=True)
            if d["node_type"] is NodeType.TOKEN
        )  # fmt: skip
        positions = [p for _, p in tokens]
        assert positions == sorted(positions)  # ids follow source order


def test_a_file_libcst_cannot_parse_raises_graph_error(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    return\n")
    with pytest.raises(GraphError) as caught:
        build_file_graphs(bad)
    assert caught.value.path == str(bad)
    with pytest.raises(GraphError):
        build_graphs("x = (1,\n")


def test_every_ast_node_has_every_move_of_its_type():
    for fg in (graph_for_function(SAMPLE, "f"), build_graphs(SAMPLE)[0]):
        view = gfsa_view(fg)
        ast_nodes = [n for n, d in fg.graph.nodes(data=True)
                     if d["node_type"] in (NodeType.SYNTAX, NodeType.TOKEN)]  # fmt: skip
        assert list(view.nodes) == ast_nodes
        vocabulary = set(observation_vocabulary())
        for n in view.nodes:
            schema = move_types(view.node_types[n])
            assert schema and schema[-3:] == (PARENT, "next", "prev")
            for move in schema:
                assert (n, move) in view.moves
                assert view.moves[(n, move)] in view.node_types
                assert view.observation(n, move) in vocabulary
        assert len(view.moves) == sum(len(move_types(t)) for t in view.node_types.values())


def test_gfsa_moves_follow_fields_and_siblings():
    fg = graph_for_function("def f(a):\n    if a:\n        b = 1\n        c = 2\n", "f")
    view = gfsa_view(fg)
    by_label = {(d["ast_type"], d["line"]): n for n, d in fg.graph.nodes(data=True)}
    root, if_node = by_label[("FunctionDef", 1)], by_label[("If", 2)]
    first, second = by_label[("SimpleStatementLine", 3)], by_label[("SimpleStatementLine", 4)]
    assert view.moves[(root, PARENT)] == root  # missing: the root has no parent
    assert view.observation(root, PARENT) == ("FunctionDef", PARENT + MISSING_SUFFIX)
    assert view.moves[(root, "decorators.first")] == root
    assert view.moves[(if_node, "test")] == by_label[("Name", 2)]
    assert view.moves[(if_node, "orelse")] == if_node
    assert view.moves[(first, "next")] == second
    assert view.moves[(second, "next")] == second
    assert view.moves[(second, "prev")] == first
    block = view.moves[(if_node, "body")]
    assert view.moves[(block, "body.first")] == first
    assert view.moves[(block, "body.last")] == second
    assert view.observation(block, "body.last") == ("SimpleStatementLine", "body.last")


def test_split_subtokens_handles_snake_and_camel_case():
    assert split_subtokens("getHTTPResponse_code2") == ["get", "http", "response", "code", "2"]
    assert split_subtokens("__init__") == ["init"]
    assert split_subtokens("'a b'") == ["a", "b"]
    assert split_subtokens("==") == ["=="]
    assert split_subtokens("") == []


def test_tensor_export_pads_to_a_bucket():
    fg = graph_for_function(SAMPLE, "f")
    n = fg.graph.number_of_nodes()
    vocabulary = {"total": 1, "x": 2, "get": 3}
    tensors = export_tensors(fg, vocabulary, max_subtokens=3)
    assert 64 < n <= 128 and tensors.bucket == 128 and tensors.num_nodes == n
    assert tensors.node_types.shape == (128,) and tensors.node_types.dtype == np.int32
    assert tensors.subtokens.shape == (128, 3)
    assert tensors.node_mask.sum() == n and not tensors.node_mask[n:].any()
    assert (tensors.node_types[:n] > 0).all() and (tensors.node_types[n:] == 0).all()
    assert (tensors.subtokens[n:] == 0).all()
    total = [i for i, d in fg.graph.nodes(data=True) if d["text"] == "total"]
    assert all(tensors.subtokens[i, 0] == 1 for i in total)
    assert set(tensors.edges) == {k.value for k in EdgeType}
    for kind in EdgeType:
        expected = sorted((u, v) for u, v, k in fg.graph.edges(keys=True) if k is kind)
        array = tensors.edges[kind.value]
        assert array.shape == (2, len(expected)) and array.dtype == np.int32
        assert list(zip(array[0].tolist(), array[1].tolist(), strict=True)) == expected


def test_tensor_export_rejects_graphs_beyond_the_largest_bucket():
    source = "def f():\n" + "".join(f"    x{i} = x{i - 1} + 1\n" for i in range(1, 80))
    fg = graph_for_function(source, "f")
    assert fg.graph.number_of_nodes() > 512
    with pytest.raises(GraphTooLarge):
        export_tensors(fg, {})
    assert export_tensors(fg, {}, buckets=(2048,)).bucket == 2048


def test_stdlib_sample_builds_without_errors():
    assert STDLIB_FILES, "expected standard-library sources"
    assert os.path.basename(STDLIB_FILES[0]) == "bisect.py"
    graphs = build_file_graphs(STDLIB_FILES[0])
    assert {g.name for g in graphs} >= {"<module>", "insort_right", "bisect_left"}
