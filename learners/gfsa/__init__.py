"""The GFSA layer (Johnson, Larochelle & Tarlow, NeurIPS 2020): learned edge types over the AST.

A finite-state agent walks a function's AST (the POMDP of `bowerbird.analysis.graphs.gfsa_view`)
from every start node; the probability that it FINISHes at node ``v`` is the weight of a new
edge ``start -> v``. The modules, in the order the data flows:

- `encoding` — a graph's POMDP as dense tensors (positions, moves, observations);
- `policy` — the finite-state policy: a learnable logit table per (observation, state);
- `absorbing` — the absorbing Markov chain solved by dense or sparse LU or by fixed-point
  iteration, with gradients by implicit differentiation;
- `layer` — `GfsaLayer`: encoding -> weighted adjacency per learned edge type;
- `targets`, `train`, `evaluate`, `checkpoint` — targets from the graph builder, training,
  precision/recall/F1, and safetensors checkpoints.

Nothing here is imported by ``import bowerbird``; importing a submodule imports torch.
"""
