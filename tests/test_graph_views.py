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
    ACCESS_BEFORE,
    ACCESSES_LAST,
    FIELDS_SUFFIX,
    MISSING_SUFFIX,
    OCCURRENCE_NEXT,
    OCCURRENCE_PREV,
    OCCURRENCES_FIRST,
    OCCURRENCES_LAST,
    PARENT,
    VARIABLE,
    VARIABLE_TYPE,
    VIEWS,
    base_view,
    gfsa_view,
    has_access_scan,
    has_field_arrivals,
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
            assert (view.observed_type(n), "start") in vocabulary
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


# --- the "variables" view: a virtual node per variable, moves between its occurrences ----------

VARIABLES_SOURCE = textwrap.dedent(
    """\
    def f(a, b):
        x = a
        a.y = x + b
        return x
    """
)


def variables_view():
    """The "variables" view of `VARIABLES_SOURCE`, its graph, Name nodes by (text, line, col) and
    variable nodes by name (the view's virtual nodes are in order of first access: a, b, x)."""
    fg = graph_for_function(VARIABLES_SOURCE, "f")
    view = gfsa_view(fg, "variables")
    names = {(d["text"], d["line"], d["col"]): n for n, d in fg.graph.nodes(data=True)
             if d["ast_type"] == "Name"}  # fmt: skip
    variables = dict(zip(("a", "b", "x"), view.virtual, strict=True))
    return fg, view, names, variables


def test_variables_view_adds_one_virtual_node_per_variable_after_the_graphs_ids():
    fg, view, names, variables = variables_view()
    n = fg.graph.number_of_nodes()
    assert view.view == "variables"
    assert view.virtual == (n, n + 1, n + 2)  # a, b, x; not f (the def's name) nor y (an attribute)
    assert all(view.node_types[v] == VARIABLE_TYPE for v in view.virtual)
    assert view.states == view.nodes + view.virtual
    assert list(view.nodes) == sorted(fg.graph.nodes)  # walks start at the AST nodes only
    assert fg.graph.number_of_nodes() == n  # the graph itself is unchanged


def test_variable_move_goes_from_each_access_to_its_variable_node():
    _, view, names, var = variables_view()
    expected = {("a", 1, 6): var["a"], ("a", 2, 8): var["a"], ("a", 3, 4): var["a"],
                ("b", 1, 9): var["b"], ("b", 3, 14): var["b"],
                ("x", 2, 4): var["x"], ("x", 3, 10): var["x"], ("x", 4, 11): var["x"],
                ("f", 1, 4): names[("f", 1, 4)], ("y", 3, 6): names[("y", 3, 6)]}  # fmt: skip
    assert {key: view.moves[(names[key], VARIABLE)] for key in names} == expected
    assert view.observation(names[("a", 2, 8)], VARIABLE) == (VARIABLE_TYPE, VARIABLE)
    assert view.observation(names[("y", 3, 6)], VARIABLE) == ("Name", VARIABLE + MISSING_SUFFIX)


def test_occurrence_next_goes_to_the_next_access_of_the_same_variable():
    _, view, names, _ = variables_view()
    chains = {("a", 1, 6): ("a", 2, 8), ("a", 2, 8): ("a", 3, 4), ("a", 3, 4): ("a", 3, 4),
              ("b", 1, 9): ("b", 3, 14), ("b", 3, 14): ("b", 3, 14),
              ("x", 2, 4): ("x", 3, 10), ("x", 3, 10): ("x", 4, 11), ("x", 4, 11): ("x", 4, 11),
              ("f", 1, 4): ("f", 1, 4), ("y", 3, 6): ("y", 3, 6)}  # fmt: skip
    assert {key: view.moves[(names[key], OCCURRENCE_NEXT)] for key in names} == {
        key: names[to] for key, to in chains.items()
    }
    assert view.is_missing(names[("x", 4, 11)], OCCURRENCE_NEXT)
    assert view.observation(names[("x", 2, 4)], OCCURRENCE_NEXT) == ("Name", OCCURRENCE_NEXT)


def test_occurrence_prev_goes_to_the_previous_access_of_the_same_variable():
    _, view, names, _ = variables_view()
    chains = {("a", 1, 6): ("a", 1, 6), ("a", 2, 8): ("a", 1, 6), ("a", 3, 4): ("a", 2, 8),
              ("b", 1, 9): ("b", 1, 9), ("b", 3, 14): ("b", 1, 9),
              ("x", 2, 4): ("x", 2, 4), ("x", 3, 10): ("x", 2, 4), ("x", 4, 11): ("x", 3, 10),
              ("f", 1, 4): ("f", 1, 4), ("y", 3, 6): ("y", 3, 6)}  # fmt: skip
    assert {key: view.moves[(names[key], OCCURRENCE_PREV)] for key in names} == {
        key: names[to] for key, to in chains.items()
    }
    assert view.observation(names[("a", 1, 6)], OCCURRENCE_PREV) == ("Name", OCCURRENCE_PREV + MISSING_SUFFIX)


def test_occurrences_first_goes_from_a_variable_node_to_its_first_access():
    _, view, names, var = variables_view()
    assert {v: view.moves[(var[v], OCCURRENCES_FIRST)] for v in var} == {
        "a": names[("a", 1, 6)], "b": names[("b", 1, 9)], "x": names[("x", 2, 4)]
    }
    assert view.observation(var["x"], OCCURRENCES_FIRST) == ("Name", OCCURRENCES_FIRST)


def test_occurrences_last_goes_from_a_variable_node_to_its_last_access():
    _, view, names, var = variables_view()
    assert {v: view.moves[(var[v], OCCURRENCES_LAST)] for v in var} == {
        "a": names[("a", 3, 4)], "b": names[("b", 3, 14)], "x": names[("x", 4, 11)]
    }
    assert view.observation(var["b"], OCCURRENCES_LAST) == ("Name", OCCURRENCES_LAST)


def test_variables_view_keeps_the_ast_moves_and_the_default_view_is_unchanged():
    fg = graph_for_function(SAMPLE, "f")
    plain, variables = gfsa_view(fg), gfsa_view(fg, "variables")
    assert plain.view == "ast" and plain.virtual == () and plain.states == plain.nodes
    assert move_types("Name") == (PARENT, "next", "prev")
    assert move_types("Name", "variables") == (PARENT, "next", "prev", VARIABLE, OCCURRENCE_NEXT,
                                               OCCURRENCE_PREV)  # fmt: skip
    assert move_types(VARIABLE_TYPE, "variables") == (OCCURRENCES_FIRST, OCCURRENCES_LAST)
    assert {k: v for k, v in variables.moves.items() if k in plain.moves} == plain.moves
    assert set(variables.moves) - set(plain.moves) == {
        *((n, m) for n in plain.nodes if plain.node_types[n] == "Name"
          for m in (VARIABLE, OCCURRENCE_NEXT, OCCURRENCE_PREV)),
        *((v, m) for v in variables.virtual for m in (OCCURRENCES_FIRST, OCCURRENCES_LAST)),
    }  # fmt: skip
    assert not set(observation_vocabulary()) - set(observation_vocabulary("variables"))
    with pytest.raises(ValueError, match="unknown GFSA view"):
        gfsa_view(fg, "nope")


def test_accesses_view_observes_how_each_name_accesses_its_variable():
    fg, variables, names, var = variables_view()
    view = gfsa_view(fg, "accesses")
    assert view.view == "accesses" and view.virtual == variables.virtual
    assert view.moves == variables.moves and view.node_types == variables.node_types
    expected = {("a", 1, 6): "Name:write", ("a", 2, 8): "Name:read", ("a", 3, 4): "Name:read",
                ("b", 1, 9): "Name:write", ("b", 3, 14): "Name:read", ("x", 2, 4): "Name:write",
                ("x", 3, 10): "Name:read", ("x", 4, 11): "Name:read",
                ("f", 1, 4): "Name", ("y", 3, 6): "Name"}  # fmt: skip
    assert {key: view.observed_type(names[key]) for key in names} == expected
    assert view.observation(names[("x", 3, 10)], OCCURRENCE_PREV) == ("Name:write", OCCURRENCE_PREV)
    assert view.observation(var["a"], OCCURRENCES_LAST) == ("Name:read", OCCURRENCES_LAST)
    assert variables.observed_type(names[("x", 2, 4)]) == "Name"  # the variables view does not tell
    assert move_types("Name:write", "accesses") == move_types("Name", "accesses")
    augmented = gfsa_view(graph_for_function("def g(n):\n    n += 1\n", "g"), "accesses")
    assert "Name:readwrite" in augmented.observed.values()


def test_fields_views_observe_the_field_a_parent_move_came_up_from():
    source = "def f(a):\n    if a:\n        b = 1\n    else:\n        b = 2\n    return b\n"
    fg = graph_for_function(source, "f")
    by_label = {(d["ast_type"], d["line"]): n for n, d in fg.graph.nodes(data=True)}
    if_node, test = by_label[("If", 2)], by_label[("Name", 2)]
    for base in ("ast", "variables", "accesses"):
        plain, fields = gfsa_view(fg, base), gfsa_view(fg, base + FIELDS_SUFFIX)
        assert fields.view == base + FIELDS_SUFFIX and base_view(fields.view) == base
        assert has_field_arrivals(fields.view) and not has_field_arrivals(base)
        assert fields.moves == plain.moves and fields.virtual == plain.virtual
        assert plain.observation(test, PARENT) == ("If", PARENT)
        assert fields.observation(test, PARENT) == ("If", "parent.test")
        body, orelse = fields.moves[(if_node, "body")], fields.moves[(if_node, "orelse")]
        assert fields.observation(body, PARENT) == ("If", "parent.body")
        assert fields.observation(orelse, PARENT) == ("If", "parent.orelse")
        statement = fields.moves[(body, "body.first")]  # an element of a sequence field
        assert fields.observation(statement, PARENT) == ("IndentedBlock", "parent.body")
        root = by_label[("FunctionDef", 1)]  # a missing parent move is still observed as missing
        assert fields.observation(root, PARENT) == ("FunctionDef", PARENT + MISSING_SUFFIX)
        vocabulary = observation_vocabulary(fields.view)
        assert ("If", "parent.orelse") in vocabulary and ("If", PARENT) not in vocabulary
    assert move_types("If", "accesses+fields") == move_types("If", "accesses")


def test_scan_views_move_to_the_access_before_a_node_and_the_last_access_inside_it():
    source = "def f(a):\n    if a:\n        b = a\n    else:\n        b = 2\n    return b\n"
    fg = graph_for_function(source, "f")
    by_label = {(d["ast_type"], d["text"], d["line"], d["col"]): n for n, d in fg.graph.nodes(data=True)}
    name = {key[1:]: n for key, n in by_label.items() if key[0] == "Name"}
    if_node = next(n for key, n in by_label.items() if key[0] == "If")
    ret = next(n for key, n in by_label.items() if key[0] == "Return")
    view, plain = gfsa_view(fg, "accesses+scan"), gfsa_view(fg, "accesses")
    assert has_access_scan(view.view) and not has_access_scan(plain.view)
    assert {k: v for k, v in view.moves.items() if k in plain.moves} == plain.moves
    assert view.moves[(if_node, ACCESS_BEFORE)] == name[("a", 1, 6)]  # the parameter
    assert view.moves[(if_node, ACCESSES_LAST)] == name[("b", 5, 8)]  # the else branch's write
    assert view.moves[(ret, ACCESS_BEFORE)] == name[("b", 5, 8)]
    assert view.moves[(ret, ACCESSES_LAST)] == name[("b", 6, 11)]
    # at a Name: the previous access of any variable (source order: `b = a` writes b before a)
    assert view.moves[(name[("a", 3, 12)], ACCESS_BEFORE)] == name[("b", 3, 8)]
    assert view.moves[(name[("b", 3, 8)], ACCESS_BEFORE)] == name[("a", 2, 7)]
    first = name[("a", 1, 6)]
    assert view.is_missing(first, ACCESS_BEFORE) and view.is_missing(first, ACCESSES_LAST)
    assert view.is_missing(by_label[("Integer", "2", 5, 12)], ACCESSES_LAST)  # no access inside
    assert view.is_missing(name[("f", 1, 4)], ACCESSES_LAST)  # the def's name is not an access
    assert view.observation(ret, ACCESS_BEFORE) == ("Name:write", ACCESS_BEFORE)
    assert move_types("If", "accesses+scan") == (*move_types("If", "accesses"), ACCESS_BEFORE, ACCESSES_LAST)
    assert move_types(VARIABLE_TYPE, "accesses+scan") == move_types(VARIABLE_TYPE, "accesses")
    with pytest.raises(ValueError, match="unknown GFSA view"):
        gfsa_view(fg, "ast+scan")  # the moves go to variable accesses: views with variables only


@pytest.mark.parametrize("view_name", VIEWS)
def test_every_state_of_every_view_has_every_move_of_its_type(view_name):
    for fg in (graph_for_function(SAMPLE, "f"), build_graphs(SAMPLE)[0]):
        view = gfsa_view(fg, view_name)
        vocabulary = set(observation_vocabulary(view_name))
        for n in view.states:
            schema = move_types(view.node_types[n], view_name)
            assert schema
            for move in schema:
                assert view.moves[(n, move)] in view.node_types
                assert view.observation(n, move) in vocabulary
            assert (view.observed_type(n), "start") in vocabulary
        assert len(view.moves) == sum(len(move_types(t, view_name)) for t in view.node_types.values())


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
