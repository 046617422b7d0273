"""Program graphs of Python code (libcst -> networkx), their GFSA view and tensor export.

`build_graphs(source)` returns one `FunctionGraph` for a module's top-level code and one per
function. Node and edge kinds are defined in `schema`; `gfsa_view` exposes the AST part of a
graph as the POMDP of the GFSA layer; `tensors` turns a graph into numpy arrays for learners.
Nothing here imports torch.
"""

from .build import build_file_graphs, build_graphs, graph_for_function, parse_source
from .schema import (
    Access,
    EdgeType,
    FunctionGraph,
    GraphEdge,
    GraphError,
    GraphNode,
    NodeType,
)

__all__ = [
    "Access",
    "EdgeType",
    "FunctionGraph",
    "GraphEdge",
    "GraphError",
    "GraphNode",
    "NodeType",
    "build_file_graphs",
    "build_graphs",
    "graph_for_function",
    "parse_source",
]
