"""Pictures of a program graph for people: Graphviz DOT text and a PNG (matplotlib).

Syntax nodes are boxes, tokens ellipses; each edge kind has its own colour. AST_PARENT
(the reverse of AST_CHILD) and NEXT_SYNTAX are left out by default: they double the edges
without telling a reader anything new.
"""

from __future__ import annotations

from pathlib import Path

from .schema import EdgeType, FunctionGraph, NodeType

COLOURS = {
    EdgeType.AST_CHILD: "#9e9e9e",
    EdgeType.AST_PARENT: "#cfcfcf",
    EdgeType.NEXT_SYNTAX: "#b0b0ff",
    EdgeType.CFG_NEXT: "#d62728",
    EdgeType.LAST_READ: "#1f77b4",
    EdgeType.LAST_WRITE: "#2ca02c",
    EdgeType.COMPUTED_FROM: "#ff7f0e",
    EdgeType.RETURNS_TO: "#9467bd",
    EdgeType.FORMAL_ARG_NAME: "#8c564b",
    EdgeType.LAST_LEXICAL_USE: "#e377c2",
    EdgeType.CALLS: "#17becf",
}
DEFAULT_HIDDEN = frozenset({EdgeType.AST_PARENT, EdgeType.NEXT_SYNTAX})


def _label(attrs: dict) -> str:
    if attrs["node_type"] in (NodeType.TOKEN, NodeType.CALLEE, NodeType.CALLEE_PARAM):
        return str(attrs["text"])
    return str(attrs["ast_type"])


def _kept(fg: FunctionGraph, kinds: frozenset[EdgeType] | None):
    wanted = kinds if kinds is not None else frozenset(EdgeType) - DEFAULT_HIDDEN
    return [(u, v, k) for u, v, k in fg.graph.edges(keys=True) if k in wanted]


def to_dot(fg: FunctionGraph, kinds: frozenset[EdgeType] | None = None) -> str:
    """Graphviz source: `dot -Tsvg` draws it."""
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"digraph {quote(fg.qualname or fg.name)} {{", "  node [fontname=Helvetica fontsize=10];",
             "  edge [fontname=Helvetica fontsize=8];"]
    for node, attrs in sorted(fg.graph.nodes(data=True)):
        shape = "box" if attrs["node_type"] is NodeType.SYNTAX else "ellipse"
        lines.append(f"  n{node} [label={quote(_label(attrs))} shape={shape}];")
    for u, v, kind in _kept(fg, kinds):
        lines.append(f"  n{u} -> n{v} [color={quote(COLOURS[kind])} tooltip={quote(kind.value)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _positions(fg: FunctionGraph) -> dict[int, tuple[float, float]]:
    """A tree layout: depth in the AST downwards, source order (node ids) across."""
    depth = {fg.root: 0}
    order = sorted(fg.graph.nodes)
    children = {n: [] for n in order}
    for u, v, k in fg.graph.edges(keys=True):
        if k == EdgeType.AST_CHILD:
            children[u].append(v)
    stack = [fg.root]
    while stack:
        node = stack.pop()
        for child in children[node]:
            if child not in depth:
                depth[child] = depth[node] + 1
                stack.append(child)
    deepest = max(depth.values(), default=0)
    return {n: (float(i), -float(depth.get(n, deepest + 1))) for i, n in enumerate(order)}


def to_png(fg: FunctionGraph, path: Path, kinds: frozenset[EdgeType] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    position = _positions(fg)
    width = min(60.0, 2.0 + 0.35 * len(position))
    height = min(30.0, 2.0 + 0.9 * (1 - min(y for _, y in position.values())))
    figure, axis = plt.subplots(figsize=(width, height))
    kept = _kept(fg, kinds)
    for u, v, kind in kept:
        bend = 0.0 if kind == EdgeType.AST_CHILD else 0.3
        axis.add_patch(FancyArrowPatch(position[u], position[v], arrowstyle="-|>", mutation_scale=8,
                                       connectionstyle=f"arc3,rad={bend}", color=COLOURS[kind], lw=0.8, alpha=0.8))
    for node, attrs in fg.graph.nodes(data=True):
        x, y = position[node]
        box = "square,pad=0.2" if attrs["node_type"] is NodeType.SYNTAX else "round,pad=0.2"
        axis.text(x, y, _label(attrs)[:18], ha="center", va="center", fontsize=6,
                  bbox={"boxstyle": box, "fc": "white", "ec": "#555555", "lw": 0.5})
    shown = sorted({kind for _, _, kind in kept}, key=lambda k: k.value)
    axis.legend(handles=[Line2D([0], [0], color=COLOURS[k], label=k.value) for k in shown], loc="upper right", fontsize=7)
    xs = [x for x, _ in position.values()]
    ys = [y for _, y in position.values()]
    axis.set_xlim(min(xs) - 1, max(xs) + 1)
    axis.set_ylim(min(ys) - 1, max(ys) + 1)
    axis.set_axis_off()
    axis.set_title(f"{fg.path or '<source>'}: {fg.qualname or fg.name}", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
