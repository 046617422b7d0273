"""`bowerbird graph`: the DESIGN.md JSON shape, DOT, PNG, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from bowerbird.cli import main

CIRCLE = str(Path(__file__).parent / "data" / "pyrepo" / "shapes" / "circle.py")


def test_json_has_the_design_shape(capsys):
    assert main(["graph", CIRCLE, "--function", "Circle.area"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert set(graph) == {"nodes", "edges"}
    assert graph["nodes"][0]["type"] == "FunctionDef" and graph["nodes"][0]["id"] == 0
    assert all({"id", "type", "text", "line", "col"} <= set(n) for n in graph["nodes"])
    kinds = {e["kind"] for e in graph["edges"]}
    assert {"AST_CHILD", "CFG_NEXT", "RETURNS_TO"} <= kinds
    ids = {n["id"] for n in graph["nodes"]}
    assert all(e["src"] in ids and e["dst"] in ids for e in graph["edges"])
    texts = {n["text"] for n in graph["nodes"]}
    assert {"math", "pi", "radius"} <= texts


def test_dot_colours_the_chosen_kinds(capsys):
    assert main(["graph", CIRCLE, "--function", "area", "--format", "dot", "--kinds", "cfg_next,last_write"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith('digraph "Circle.area" {') and dot.rstrip().endswith("}")
    edges = [line for line in dot.splitlines() if "->" in line]
    assert edges and all('tooltip="CFG_NEXT"' in e or 'tooltip="LAST_WRITE"' in e for e in edges)


def test_png_is_written(tmp_path):
    out = tmp_path / "area.png"
    assert main(["graph", CIRCLE, "--function", "area", "--format", "png", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_gets_clear_errors(tmp_path, capsys):
    assert main(["graph", str(tmp_path / "missing.py")]) == 2
    assert main(["graph", CIRCLE, "--function", "nope"]) == 2
    assert "Circle.area" in capsys.readouterr().err  # the functions there are listed
    assert main(["graph", CIRCLE, "--format", "png"]) == 2  # png needs --out
    assert main(["graph", CIRCLE, "--kinds", "CFG_NEXT,BOGUS"]) == 2
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n    return\n")
    assert main(["graph", str(broken)]) == 1
    assert "broken.py" in capsys.readouterr().err
