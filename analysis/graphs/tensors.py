"""Tensor export of a program graph for learners: numpy arrays only (no torch here).

A graph of ``n`` nodes is padded to the smallest bucket ``B >= n`` (64, 128, 256, 512 by
default); a larger graph raises `GraphTooLarge` (a `GraphError`) for the caller to count and
skip. Node ``i`` of the array is graph node ``i`` (ids are already ``0..n-1``).

- ``node_types`` (B,) int32: `node_type_vocabulary()` id of each node's type; 0 = padding.
- ``subtokens`` (B, S) int32: ids of the first S subtokens of each node's text
  (`split_subtokens`), looked up in a caller's vocabulary dict; unknown and padding are 0.
- ``node_mask`` (B,) bool: True for real nodes.
- ``edges``: edge kind name -> (2, E) int32 array of (source, destination) rows, one for every
  `EdgeType` (E may be 0).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .schema import EdgeType, FunctionGraph, GraphError, NodeType
from .syntax import node_classes

logger = logging.getLogger(__name__)

DEFAULT_BUCKETS: tuple[int, ...] = (64, 128, 256, 512)
_SUBTOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\sA-Za-z0-9_]+")


class GraphTooLarge(GraphError):
    """The graph has more nodes than the largest bucket."""


@dataclass(frozen=True)
class GraphTensors:
    """One graph as padded arrays."""

    node_types: np.ndarray  # (B,) int32, node type ids, 0 for padding
    subtokens: np.ndarray  # (B, S) int32, subtoken ids, 0 for unknown or padding
    node_mask: np.ndarray  # (B,) bool, True for the first num_nodes rows
    edges: dict[str, np.ndarray]  # EdgeType name -> (2, E) int32 (source row, destination row)
    num_nodes: int  # n, the number of real nodes
    bucket: int  # B, the padded size


def split_subtokens(text: str) -> list[str]:
    """Lower-cased subtokens of an identifier or token: snake_case and camelCase split.

    ``"getHTTPResponse_code2"`` -> ``["get", "http", "response", "code", "2"]``; operators and
    punctuation stay whole (``"=="`` -> ``["=="]``); quotes of string literals are dropped.
    """
    return [part.lower() for part in _SUBTOKEN.findall(text) if part.strip("'\"")]


@functools.cache
def node_type_vocabulary() -> dict[str, int]:
    """Node type id per libcst class name (and stand-in types), from 1; 0 is padding."""
    names = [*node_classes(), f"<{NodeType.CALLEE.value}>", f"<{NodeType.CALLEE_PARAM.value}>"]
    return {name: i + 1 for i, name in enumerate(names)}


def build_subtoken_vocabulary(texts: Iterable[str], max_size: int) -> dict[str, int]:
    """The ``max_size`` most frequent subtokens of ``texts``, ids from 1 (0 = unknown)."""
    counts: dict[str, int] = {}
    for text in texts:
        for sub in split_subtokens(text):
            counts[sub] = counts.get(sub, 0) + 1
    ranked = sorted(counts, key=lambda s: (-counts[s], s))[:max_size]
    return {s: i + 1 for i, s in enumerate(ranked)}


def bucket_for(num_nodes: int, buckets: Sequence[int] = DEFAULT_BUCKETS) -> int:
    """The smallest bucket holding ``num_nodes``; raises `GraphTooLarge` when none does."""
    for size in sorted(buckets):
        if num_nodes <= size:
            return size
    raise GraphTooLarge("", f"{num_nodes} nodes exceed the largest bucket ({max(buckets)})")


def node_features(
    fg: FunctionGraph, vocabulary: Mapping[str, int], max_subtokens: int = 4, rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(node type ids (rows,), subtoken ids (rows, max_subtokens)) of a graph's nodes, int32;
    ``rows`` (default: the number of nodes) pads with zeros."""
    graph = fg.graph
    types = node_type_vocabulary()
    size = graph.number_of_nodes() if rows is None else rows
    node_types = np.zeros(size, dtype=np.int32)
    subtokens = np.zeros((size, max_subtokens), dtype=np.int32)
    for i, data in graph.nodes(data=True):
        kind = data["node_type"]
        type_name = data["ast_type"] if kind in (NodeType.SYNTAX, NodeType.TOKEN) else f"<{kind.value}>"
        node_types[i] = types.get(type_name, 0)
        for k, sub in enumerate(split_subtokens(data["text"])[:max_subtokens]):
            subtokens[i, k] = vocabulary.get(sub, 0)
    return node_types, subtokens


def export_tensors(
    fg: FunctionGraph,
    vocabulary: Mapping[str, int],
    max_subtokens: int = 4,
    buckets: Sequence[int] = DEFAULT_BUCKETS,
) -> GraphTensors:
    """The padded arrays of one graph (see the module docstring)."""
    graph = fg.graph
    n = graph.number_of_nodes()
    bucket = bucket_for(n, buckets)
    node_types, subtokens = node_features(fg, vocabulary, max_subtokens, rows=bucket)
    pairs: dict[str, list[tuple[int, int]]] = {kind.value: [] for kind in EdgeType}
    for u, v, key in graph.edges(keys=True):
        pairs[key.value].append((u, v))
    edges = {
        kind: np.asarray(sorted(rows), dtype=np.int32).reshape(-1, 2).T.copy()
        for kind, rows in pairs.items()
    }
    mask = np.zeros(bucket, dtype=bool)
    mask[:n] = True
    return GraphTensors(node_types, subtokens, mask, edges, n, bucket)
