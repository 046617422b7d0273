"""Program graphs: exact edges for one small function per construct (as python-graphs does).

Nodes are named by labels: a token is ``text@line:col``, a syntax node ``Type@line:col``, a
stand-in ``def name`` / ``param name``. Lines are 1-based, columns 0-based.
"""

from __future__ import annotations

import textwrap

import pytest

from bowerbird.analysis.graphs import (
    Access,
    EdgeType,
    FunctionGraph,
    GraphError,
    NodeType,
    build_graphs,
    graph_for_function,
)
from bowerbird.analysis.graphs.serialize import graph_to_json


def _graph(source: str, name: str = "f") -> FunctionGraph:
    return graph_for_function(textwrap.dedent(source).lstrip("\n"), name)


def _label(fg: FunctionGraph, n: int) -> str:
    d = fg.graph.nodes[n]
    if d["node_type"] is NodeType.TOKEN:
        return f"{d['text']}@{d['line']}:{d['col']}"
    if d["node_type"] is NodeType.CALLEE:
        return f"def {d['text']}"
    if d["node_type"] is NodeType.CALLEE_PARAM:
        return f"param {d['text']}"
    return f"{d['ast_type']}@{d['line']}:{d['col']}"


def _edges(fg: FunctionGraph, kind: EdgeType) -> set[tuple[str, str]]:
    return {(_label(fg, e.src), _label(fg, e.dst)) for e in fg.edges(kind)}


def test_straight_line_code_flows_statement_to_statement():
    fg = _graph(
        """
        def f(a):
            b = a + 1
            c = b * 2
            return c
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "Assign@2:4"),
        ("Assign@2:4", "Assign@3:4"),
        ("Assign@3:4", "Return@4:4"),
    }
    assert _edges(fg, EdgeType.RETURNS_TO) == {("Return@4:4", "FunctionDef@1:0")}
    assert _edges(fg, EdgeType.LAST_WRITE) == {
        ("a@2:8", "a@1:6"),
        ("b@3:8", "b@2:4"),
        ("c@4:11", "c@3:4"),
    }
    assert _edges(fg, EdgeType.LAST_READ) == set()
    assert _edges(fg, EdgeType.COMPUTED_FROM) == {("b@2:4", "a@2:8"), ("c@3:4", "b@3:8")}
    assert fg.cfg_nodes == (0, 7, 15, 23)


def test_if_elif_else_branches_and_joins():
    fg = _graph(
        """
        def f(x):
            if x:
                y = 1
            elif x > 2:
                y = 2
            else:
                y = 3
            return y
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "If@2:4"),
        ("If@2:4", "Assign@3:8"),
        ("If@2:4", "If@4:4"),
        ("If@4:4", "Assign@5:8"),
        ("If@4:4", "Assign@7:8"),
        ("Assign@3:8", "Return@8:4"),
        ("Assign@5:8", "Return@8:4"),
        ("Assign@7:8", "Return@8:4"),
    }
    assert ("y@8:11", "y@3:8") in _edges(fg, EdgeType.LAST_WRITE)
    assert {d for s, d in _edges(fg, EdgeType.LAST_WRITE) if s == "y@8:11"} == {
        "y@3:8",
        "y@5:8",
        "y@7:8",
    }
    assert _edges(fg, EdgeType.LAST_READ) == {("x@4:9", "x@2:7")}


def test_while_with_break_and_continue():
    fg = _graph(
        """
        def f(n):
            while n:
                if n == 5:
                    break
                n -= 1
                continue
            return n
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "While@2:4"),
        ("While@2:4", "If@3:8"),
        ("While@2:4", "Return@7:4"),
        ("If@3:8", "Break@4:12"),
        ("If@3:8", "AugAssign@5:8"),
        ("Break@4:12", "Return@7:4"),
        ("AugAssign@5:8", "Continue@6:8"),
        ("Continue@6:8", "While@2:4"),
    }
    # Around the back-edge: the loop test sees the parameter and the decrement.
    assert _edges(fg, EdgeType.LAST_WRITE) == {
        ("n@2:10", "n@1:6"),
        ("n@2:10", "n@5:8"),
        ("n@3:11", "n@1:6"),
        ("n@3:11", "n@5:8"),
        ("n@5:8", "n@1:6"),
        ("n@5:8", "n@5:8"),
        ("n@7:11", "n@1:6"),
        ("n@7:11", "n@5:8"),
    }
    assert _edges(fg, EdgeType.LAST_READ) == {
        ("n@2:10", "n@5:8"),
        ("n@3:11", "n@2:10"),
        ("n@5:8", "n@3:11"),
        ("n@7:11", "n@2:10"),
        ("n@7:11", "n@3:11"),
    }


def test_for_else_runs_else_only_without_break():
    fg = _graph(
        """
        def f(items):
            for item in items:
                if item:
                    break
            else:
                item = None
            return item
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "items@2:16"),
        ("items@2:16", "For@2:4"),
        ("For@2:4", "If@3:8"),
        ("If@3:8", "Break@4:12"),
        ("If@3:8", "For@2:4"),
        ("For@2:4", "Assign@6:8"),
        ("Break@4:12", "Return@7:4"),
        ("Assign@6:8", "Return@7:4"),
    }
    assert _edges(fg, EdgeType.LAST_WRITE) == {
        ("items@2:16", "items@1:6"),
        ("item@2:8", "item@2:8"),
        ("item@3:11", "item@2:8"),
        ("item@6:8", "item@2:8"),
        ("item@7:11", "item@2:8"),
        ("item@7:11", "item@6:8"),
    }


def test_try_except_else_finally():
    fg = _graph(
        """
        def f(a):
            try:
                b = g(a)
            except ValueError as e:
                b = e
            except Exception:
                raise
            else:
                a = b
            finally:
                h()
            return b
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "Assign@3:8"),
        ("Assign@3:8", "ExceptHandler@4:4"),
        ("Assign@3:8", "ExceptHandler@6:4"),
        ("Assign@3:8", "Assign@9:8"),
        ("ExceptHandler@4:4", "Assign@5:8"),
        ("ExceptHandler@6:4", "Raise@7:8"),
        ("Raise@7:8", "Expr@11:8"),
        ("Assign@5:8", "Expr@11:8"),
        ("Assign@9:8", "Expr@11:8"),
        ("Expr@11:8", "Return@12:4"),
    }
    assert {d for s, d in _edges(fg, EdgeType.LAST_WRITE) if s == "b@12:11"} == {
        "b@3:8",
        "b@5:8",
    }
    assert ("e@5:12", "e@4:25") in _edges(fg, EdgeType.LAST_WRITE)


def test_with_items_enter_in_order():
    fg = _graph(
        """
        def f(path):
            with open(path) as fh, lock:
                data = fh.read()
            return data
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "WithItem@2:9"),
        ("WithItem@2:9", "WithItem@2:27"),
        ("WithItem@2:27", "Assign@3:8"),
        ("Assign@3:8", "Return@4:4"),
    }
    assert ("fh@3:15", "fh@2:23") in _edges(fg, EdgeType.LAST_WRITE)
    assert ("data@4:11", "data@3:8") in _edges(fg, EdgeType.LAST_WRITE)


def test_return_ends_the_path_and_returns_to_the_function():
    fg = _graph(
        """
        def f(x):
            if x:
                return 1
            y = 2
            return y
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "If@2:4"),
        ("If@2:4", "Return@3:8"),
        ("If@2:4", "Assign@4:4"),
        ("Assign@4:4", "Return@5:4"),
    }
    assert _edges(fg, EdgeType.RETURNS_TO) == {
        ("Return@3:8", "FunctionDef@1:0"),
        ("Return@5:4", "FunctionDef@1:0"),
    }


def test_return_inside_try_runs_finally_first():
    fg = _graph(
        """
        def f(x):
            try:
                return x
            finally:
                x = 0
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "Return@3:8"),
        ("Return@3:8", "Assign@5:8"),
    }
    assert _edges(fg, EdgeType.LAST_READ) == {("x@5:8", "x@3:15")}


def test_raise_goes_to_the_enclosing_handler_or_leaves():
    fg = _graph(
        """
        def f(x):
            try:
                if x:
                    raise ValueError(x)
            except ValueError:
                x = 1
            raise TypeError
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "If@3:8"),
        ("If@3:8", "Raise@4:12"),
        ("If@3:8", "ExceptHandler@5:4"),
        ("If@3:8", "Raise@7:4"),
        ("Raise@4:12", "ExceptHandler@5:4"),
        ("ExceptHandler@5:4", "Assign@6:8"),
        ("Assign@6:8", "Raise@7:4"),
    }


def test_comprehension_is_a_loop_before_its_statement():
    fg = _graph(
        """
        def f(xs):
            ys = [x + 1 for x in xs if x]
            return ys
        """
    )
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "xs@2:25"),
        ("xs@2:25", "CompFor@2:15"),
        ("CompFor@2:15", "CompIf@2:27"),
        ("CompIf@2:27", "BinaryOperation@2:10"),
        ("CompIf@2:27", "CompFor@2:15"),
        ("BinaryOperation@2:10", "CompFor@2:15"),
        ("CompFor@2:15", "Assign@2:4"),
        ("Assign@2:4", "Return@3:4"),
    }
    assert _edges(fg, EdgeType.LAST_WRITE) == {
        ("xs@2:25", "xs@1:6"),
        ("x@2:20", "x@2:20"),
        ("x@2:31", "x@2:20"),
        ("x@2:10", "x@2:20"),
        ("ys@3:11", "ys@2:4"),
    }
    assert _edges(fg, EdgeType.LAST_READ) == {
        ("x@2:20", "x@2:10"),
        ("x@2:20", "x@2:31"),
        ("x@2:31", "x@2:10"),
        ("x@2:31", "x@2:31"),
        ("x@2:10", "x@2:31"),
    }


def test_nested_function_body_is_its_own_graph():
    source = """
        def outer(a):
            def inner(b=a):
                return b + a
            return inner(1)
        """
    fg = _graph(source, "outer")
    assert _edges(fg, EdgeType.CFG_NEXT) == {
        ("FunctionDef@1:0", "FunctionDef@2:4"),
        ("FunctionDef@2:4", "Return@4:4"),
    }
    assert not [n for n, d in fg.graph.nodes(data=True) if d["line"] == 3]
    assert _edges(fg, EdgeType.LAST_WRITE) == {("a@2:16", "a@1:10"), ("inner@4:11", "inner@2:8")}
    assert _edges(fg, EdgeType.RETURNS_TO) == {("Return@4:4", "FunctionDef@1:0")}
    assert _edges(fg, EdgeType.CALLS) == {("Call@4:11", "FunctionDef@2:4")}
    assert _edges(fg, EdgeType.FORMAL_ARG_NAME) == {("1@4:17", "b@2:14")}
    inner = _graph(source, "outer.<locals>.inner")
    assert inner.qualname == "outer.<locals>.inner"
    assert _edges(inner, EdgeType.LAST_WRITE) == {("b@3:15", "b@2:14")}  # `a` is free here
    assert _edges(inner, EdgeType.RETURNS_TO) == {("Return@3:8", "FunctionDef@2:4")}


def test_calls_and_formal_arg_names_in_the_same_file():
    source = """
        def helper(x, y, *, scale=1):
            return x * y * scale

        class C:
            def method(self, v):
                return v

            def use(self, a, *rest):
                self.method(a)
                helper(*rest)
                return helper(a, 2, scale=3)
        """
    fg = _graph(source, "C.use")
    assert _edges(fg, EdgeType.CALLS) == {
        ("Call@9:8", "def method"),
        ("Call@10:8", "def helper"),
        ("Call@11:15", "def helper"),
    }
    assert _edges(fg, EdgeType.FORMAL_ARG_NAME) == {
        ("a@9:20", "param v"),
        ("a@11:22", "param x"),
        ("2@11:25", "param y"),
        ("3@11:34", "param scale"),
    }
    stand_ins = {d["text"]: (d["line"], d["col"]) for _, d in fg.graph.nodes(data=True)
                 if d["node_type"] in (NodeType.CALLEE, NodeType.CALLEE_PARAM)}  # fmt: skip
    assert stand_ins == {"method": (5, 8), "v": (5, 21), "helper": (1, 4), "x": (1, 11),
                         "y": (1, 14), "scale": (1, 20)}  # fmt: skip


def test_recursive_call_targets_the_function_itself():
    fg = _graph(
        """
        def fact(n):
            return n * fact(n - 1)
        """,
        "fact",
    )
    assert _edges(fg, EdgeType.CALLS) == {("Call@2:15", "FunctionDef@1:0")}
    assert _edges(fg, EdgeType.FORMAL_ARG_NAME) == {("BinaryOperation@2:20", "n@1:9")}


def test_last_read_and_write_across_a_loop_back_edge():
    fg = _graph(
        """
        def f():
            total = 0
            for i in range(3):
                total = total + i
            return total
        """
    )
    assert _edges(fg, EdgeType.LAST_WRITE) == {
        ("i@4:24", "i@3:8"),
        ("i@3:8", "i@3:8"),
        ("total@4:16", "total@2:4"),
        ("total@4:16", "total@4:8"),
        ("total@4:8", "total@2:4"),
        ("total@4:8", "total@4:8"),
        ("total@5:11", "total@2:4"),
        ("total@5:11", "total@4:8"),
    }
    assert _edges(fg, EdgeType.LAST_READ) == {
        ("i@3:8", "i@4:24"),
        ("i@4:24", "i@4:24"),
        ("total@4:16", "total@4:16"),
        ("total@4:8", "total@4:16"),
        ("total@5:11", "total@4:16"),
    }


def test_computed_from_links_targets_to_value_names():
    fg = _graph(
        """
        def f(a, b):
            x, y = a + b, g(a)
            x += b
            z: int = x
            if (w := y):
                pass
        """
    )
    reads = {"a@2:11", "b@2:15", "g@2:18", "a@2:20"}
    assert _edges(fg, EdgeType.COMPUTED_FROM) == {("x@2:4", r) for r in reads} | {
        ("y@2:7", r) for r in reads
    } | {("x@3:4", "b@3:9"), ("z@4:4", "x@4:13"), ("w@5:8", "y@5:13")}
    assert fg.graph.nodes[next(n for n, d in fg.graph.nodes(data=True)
                               if d["text"] == "x" and d["line"] == 3)]["access"] is Access.READ_WRITE


def test_last_lexical_use_and_next_syntax_follow_source_order():
    fg = _graph(
        """
        def f(x):
            y = x.x
            return x
        """
    )
    assert _edges(fg, EdgeType.LAST_LEXICAL_USE) == {
        ("x@2:8", "x@1:6"),
        ("x@2:10", "x@2:8"),
        ("x@3:11", "x@2:10"),
    }
    assert _edges(fg, EdgeType.NEXT_SYNTAX) == {
        ("f@1:4", "x@1:6"),
        ("x@1:6", "y@2:4"),
        ("y@2:4", "x@2:8"),
        ("x@2:8", "x@2:10"),
        ("x@2:10", "x@3:11"),
    }
    # The attribute name is not a variable: only the receiver is read.
    assert _edges(fg, EdgeType.LAST_WRITE) == {("x@2:8", "x@1:6"), ("x@3:11", "x@1:6")}


def test_ast_edges_are_labelled_by_field():
    fg = _graph(
        """
        def f(a):
            return a
        """
    )
    child = {(_label(fg, e.src), _label(fg, e.dst), e.field, e.index)
             for e in fg.edges(EdgeType.AST_CHILD)}  # fmt: skip
    assert child == {
        ("FunctionDef@1:0", "f@1:4", "name", None),
        ("FunctionDef@1:0", "Parameters@1:6", "params", None),
        ("Parameters@1:6", "Param@1:6", "params", 0),
        ("Param@1:6", "a@1:6", "name", None),
        ("FunctionDef@1:0", "IndentedBlock@2:4", "body", None),
        ("IndentedBlock@2:4", "SimpleStatementLine@2:4", "body", 0),
        ("SimpleStatementLine@2:4", "Return@2:4", "body", 0),
        ("Return@2:4", "a@2:11", "value", None),
    }
    parent = {(_label(fg, e.dst), _label(fg, e.src), e.field, e.index)
              for e in fg.edges(EdgeType.AST_PARENT)}  # fmt: skip
    assert parent == child


def test_module_graph_holds_top_level_code_and_class_bodies():
    graphs = build_graphs(
        textwrap.dedent(
            """\
            import os
            X = os.sep
            def f():
                return X
            class K:
                y = X
            """
        )
    )
    assert [(g.kind, g.qualname) for g in graphs] == [("module", "<module>"), ("function", "f")]
    module = graphs[0]
    assert _edges(module, EdgeType.CFG_NEXT) == {
        ("Module@1:0", "Import@1:0"),
        ("Import@1:0", "Assign@2:0"),
        ("Assign@2:0", "FunctionDef@3:0"),
        ("FunctionDef@3:0", "ClassDef@5:0"),
        ("ClassDef@5:0", "Assign@6:4"),
    }
    assert _edges(module, EdgeType.LAST_WRITE) == {("os@2:4", "os@1:7"), ("X@6:8", "X@2:0")}
    assert not [n for n, d in module.graph.nodes(data=True) if d["line"] == 4]


def test_unparsable_source_raises_graph_error():
    with pytest.raises(GraphError) as caught:
        build_graphs("def f(:\n    pass\n", "broken.py")
    assert caught.value.path == "broken.py"
    assert "broken.py" in str(caught.value)


def test_unknown_function_name_raises_key_error():
    with pytest.raises(KeyError):
        graph_for_function("def f():\n    pass\n", "g")


def test_json_shape_matches_design():
    fg = _graph(
        """
        def f(a):
            return a
        """
    )
    data = graph_to_json(fg)
    assert data["nodes"][0] == {"id": 0, "type": "FunctionDef", "text": "", "line": 1, "col": 0}
    assert {"src": 7, "dst": 0, "kind": "RETURNS_TO"} in data["edges"]
    assert {"src": 8, "dst": 4, "kind": "LAST_WRITE"} in data["edges"]
    assert len(data["edges"]) == fg.graph.number_of_edges()
