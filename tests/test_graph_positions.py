"""`positions.node_positions` equals libcst's `PositionProvider`, node by node."""

from __future__ import annotations

import inspect
import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from bowerbird.analysis.graphs import build, cfg, positions
from bowerbird.analysis.graphs.positions import node_positions

SAMPLE = textwrap.dedent(
    '''
    # a comment
    import os, sys as system


    @decorator(1)
    class C(Base, metaclass=M):
        """Doc."""

        x: int = 1

        def method(self, a, /, b=2, *args, c, **kw) -> "C":
            if (a and
                    b):  # continued
                return [i * 2 for i in range(a) if i]
            elif a: pass
            else:
                while b: b -= 1; continue
            try:
                with open(a) as f, ctx():
                    yield f"{a!r:>{b}} text {{braces}}"
            except* (ValueError, TypeError) as error:
                raise RuntimeError("x") from error
            finally:
                del a
            match b:
                case [1, *rest] if rest: return lambda q=1: q
                case {"k": v, **others}: return v
                case Point(x=0) | None: return 0j + 1.5e3
            return (
                a  # trailing
            )
    '''
)


def _check(source: str | bytes) -> int:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    mine = node_positions(module)
    for node, code_range in expected.items():
        assert node in mine
        assert mine[node] == code_range, (type(node).__name__, code_range, mine[node])
        assert mine.start(node) == (code_range.start.line, code_range.start.column)
        assert mine.end(node) == (code_range.end.line, code_range.end.column)
    return len(expected)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_positions_equal_position_provider(newline):
    assert _check(SAMPLE.replace("\n", newline)) > 300


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\n",
        "x = 1",  # no trailing newline
        "\n\n# only comments\n",
        "if x:\n\tpass\n",  # tab indentation
        "def f():\n    s = '''a\nb\r\nc'''\n    return s\n",  # line breaks inside a token
        "x = (1,\n     2)\\\n\n",
        "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"),
    ],
)
def test_positions_equal_position_provider_on_edge_cases(source):
    _check(source)


def test_positions_of_the_graph_modules_themselves():
    for module in (build, cfg, positions):
        _check(inspect.getsource(module))
