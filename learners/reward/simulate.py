"""Simulated developers choosing among real candidates of the code model, for `eval reward`
and `train reward --simulate`.

Candidates (`make_items`): real holes of real repositories (`analysis.holes`), the in-file
prompt, and up to ``candidates`` samples of the code model at ``temperature``, each kept with
what the reward models may see (`features.feature_vector`: its hidden state and cheap
features) and what only the simulator sees (`style.attribute_vector`).

Developers (`population`): each has a hidden preference vector ``p`` over the style
attributes (z-scored over the candidates, `AttributeScale`), and prefers ``y`` to ``y'`` with
probability ``sigmoid(beta * p . (a(y) - a(y')))`` (Bradley-Terry noise). The disagreement
knob ``lam`` in [0, 1] mixes a preference everyone shares with two opposing camps:

    p = sqrt(1 - lam^2) * shared + lam * camp * split + noise * e,

``shared`` and ``split`` orthogonal unit vectors, ``camp`` = +1 or -1 (half the developers
each), ``e`` a developer's own standard normal deviation. ``lam = 0``: everyone agrees (up to
the small personal noise); ``lam = 0.9``: two opposing camps with little in common.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .features import LAYOUT, feature_vector
from .style import ATTRIBUTES, attribute_vector

logger = logging.getLogger(__name__)

LEVELS = {"low": 0.0, "medium": 0.5, "high": 0.9}  # disagreement -> lam
DEFAULT_BETA = 3.0  # Bradley-Terry sharpness of the simulated choices
PERSONAL_NOISE = 0.15  # std of each developer's own deviation, per attribute


@dataclass(frozen=True)
class Item:
    """One hole and its distinct candidates (n >= 2)."""

    path: str  # the hole's file, relative to its repository
    line_prefix: str  # the text before the cursor on its line
    target: str  # the real rest of the line
    texts: tuple[str, ...]  # the candidates (n)
    features: torch.Tensor  # (n, F) what the reward models see
    attributes: torch.Tensor  # (n, A) the hidden style attributes (`style.ATTRIBUTES`)


@dataclass(frozen=True)
class Comparison:
    """Developer ``developer`` preferred candidate ``winner`` of item ``item`` to ``loser``."""

    developer: int
    item: int
    winner: int
    loser: int


CHUNK = 25  # holes per unit of work: each is seeded on its own, so the result does not depend on the workers


def make_items(
    backend, holes: Sequence, candidates: int = 8, temperature: float = 1.0, max_new_tokens: int = 24,
    seed: int = 0, progress: Callable[[int, int], None] | None = None,
) -> list[Item]:  # fmt: skip
    """Items from ``holes`` (`analysis.holes.Hole`): the code model's sampled single-line
    candidates with their hidden states; holes with fewer than two distinct non-blank
    candidates are left out. Holes are sampled in chunks of `CHUNK`, each seeded with
    ``seed`` and its index (as `make_items_parallel` does)."""
    items: list[Item] = []
    for start in range(0, len(holes), CHUNK):
        items += _chunk_items(backend, holes[start : start + CHUNK], candidates, temperature, max_new_tokens,
                              seed + start // CHUNK)  # fmt: skip
        if progress is not None:
            progress(min(start + CHUNK, len(holes)), len(holes))
    return items


def _chunk_items(backend, holes: Sequence, candidates: int, temperature: float, max_new_tokens: int,
                 seed: int) -> list[Item]:  # fmt: skip
    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.lm.prompt import compose

    from .features import TokenEmbedder

    embed = TokenEmbedder(backend)
    torch.manual_seed(seed)
    items: list[Item] = []
    for hole in holes:
        prompt = compose(backend, "", f"# {hole.path}", hole.prefix, "", max_new_tokens)
        request = GenerationRequest(prompt.text, max_new_tokens, candidates, temperature, True, prompt.heal,
                                    memory=prompt.memory, states=True)  # fmt: skip
        seen: dict[str, object] = {}
        for candidate in backend.generate(request):
            text = candidate.text.split("\n", 1)[0].rstrip()
            if text.strip() and text not in seen and candidate.state is not None:
                seen[text] = candidate
        if len(seen) >= 2:
            line_prefix = hole.line_prefix
            texts = tuple(seen)
            features = torch.stack([feature_vector(line_prefix, t, seen[t].score, seen[t].state, embed(t))
                                    for t in texts])
            attributes = torch.tensor([attribute_vector(line_prefix, t) for t in texts])
            items.append(Item(hole.path, line_prefix, hole.target, texts, features, attributes))
    return items


_WORKER_BACKEND = None  # a worker process's own backend (`make_items_parallel`)


def _load_worker(spec: tuple[str, str | None]) -> None:
    global _WORKER_BACKEND  # one per worker process, set once by its initializer
    from bowerbird.learners.lm.loading import load_backend

    torch.set_num_threads(1)
    _WORKER_BACKEND = load_backend(*spec)


def _worker_chunk(holes: Sequence, candidates: int, temperature: float, max_new_tokens: int, seed: int) -> list[Item]:
    return _chunk_items(_WORKER_BACKEND, holes, candidates, temperature, max_new_tokens, seed)


def make_items_parallel(
    spec: tuple[str, str | None], holes: Sequence, workers: int, candidates: int = 8, temperature: float = 1.0,
    max_new_tokens: int = 24, seed: int = 0, progress: Callable[[int, int], None] | None = None,
) -> list[Item]:  # fmt: skip
    """`make_items` in ``workers`` processes, each with its own backend loaded by
    ``load_backend(*spec)`` (e.g. ``("embedded", None)``) and one torch thread: decoding a
    line is latency-bound, so processes scale where threads do not. Same items as
    `make_items` with that backend."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [holes[start : start + CHUNK] for start in range(0, len(holes), CHUNK)]
    context = multiprocessing.get_context("spawn")  # no forked copy of the parent's torch threads
    results: list[list[Item]] = [[] for _ in chunks]
    done = 0
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_load_worker, initargs=(spec,)) as pool:
        futures = {pool.submit(_worker_chunk, chunk, candidates, temperature, max_new_tokens, seed + i): i
                   for i, chunk in enumerate(chunks)}  # fmt: skip
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done += len(chunks[futures[future]])
            if progress is not None:
                progress(done, len(holes))
    return [item for chunk in results for item in chunk]


@dataclass(frozen=True)
class AttributeScale:
    """Per-attribute mean and std over a set of candidates: preferences act on z-scores."""

    mean: torch.Tensor  # (A,)
    std: torch.Tensor  # (A,)

    @staticmethod
    def fit(items: Sequence[Item]) -> AttributeScale:
        values = torch.cat([item.attributes for item in items])
        return AttributeScale(values.mean(0), values.std(0).clamp_min(1e-3))

    def __call__(self, attributes: torch.Tensor) -> torch.Tensor:
        return (attributes - self.mean) / self.std


def population(lam: float, developers: int, seed: int, beta: float = DEFAULT_BETA,
               noise: float = PERSONAL_NOISE) -> torch.Tensor:  # fmt: skip
    """(developers, A) preference vectors, times ``beta`` (see the module docstring); the same
    ``shared`` and ``split`` directions for every ``lam`` with one seed."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], not {lam}")
    g = torch.Generator().manual_seed(seed)
    a = len(ATTRIBUTES)
    shared = torch.randn(a, generator=g)
    shared /= shared.norm()
    split = torch.randn(a, generator=g)
    split -= (split @ shared) * shared
    split /= split.norm()
    people = torch.Generator().manual_seed(seed + 1)
    camp = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(developers)])
    personal = noise * torch.randn(developers, a, generator=people)
    prefs = math.sqrt(1 - lam * lam) * shared + lam * camp[:, None] * split + personal
    return beta * prefs


def utilities(prefs: torch.Tensor, item: Item, scale: AttributeScale) -> torch.Tensor:
    """(developers, n) each developer's utility of each of the item's candidates."""
    return prefs @ scale(item.attributes).T


def comparisons(
    prefs: torch.Tensor, items: Sequence[Item], scale: AttributeScale, per_developer: int, seed: int,
    developers: Sequence[int] | None = None,
) -> list[Comparison]:  # fmt: skip
    """``per_developer`` Bradley-Terry choices of each developer (rows of ``prefs``, or those
    in ``developers``): a random item, two random candidates whose attributes differ, and the
    winner drawn with probability ``sigmoid(u(y) - u(y'))``."""
    rng = random.Random(seed)
    usable = [i for i, item in enumerate(items) if len(item.texts) >= 2]
    out: list[Comparison] = []
    for d in developers if developers is not None else range(len(prefs)):
        made = 0
        tries = 0
        while made < per_developer and tries < per_developer * 50:
            tries += 1
            i = rng.choice(usable)
            item = items[i]
            a, b = rng.sample(range(len(item.texts)), 2)
            if torch.equal(item.attributes[a], item.attributes[b]):
                continue  # nothing to tell them apart by
            u = utilities(prefs[d : d + 1], item, scale)[0]
            p = torch.sigmoid(u[a] - u[b]).item()
            winner, loser = (a, b) if rng.random() < p else (b, a)
            out.append(Comparison(d, i, winner, loser))
            made += 1
    return out


def sample_holes(files: Sequence[tuple[Path, str]], count: int, seed: int, per_file: int = 3) -> list:
    """Up to ``count`` holes (`analysis.holes.Hole`, cut at the middle of the line as RLPG
    does) from ``files`` ((path, name shown in the prompt) pairs), at most ``per_file`` per
    file (more when there are too few files for ``count``), the files in a seeded order."""
    from bowerbird.analysis.holes import candidate_lines, hole_at, split_column

    order = list(files)
    if order:
        per_file = max(per_file, -(-count // len(order)))
    rng = random.Random(seed)
    rng.shuffle(order)
    holes = []
    for path, name in order:
        if len(holes) >= count:
            break
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        lines = list(candidate_lines(text, "python"))
        for number, line in sorted(rng.sample(lines, min(per_file, len(lines)))):
            holes.append(hole_at(name, text, number, split_column(line, "middle", rng)))
    return holes[:count]


def save_items(items: Sequence[Item], path: Path) -> None:
    """Write items to ``path`` (JSON texts) and ``path.with_suffix('.safetensors')`` (tensors)."""
    from safetensors.torch import save_file

    meta = [{"path": i.path, "line_prefix": i.line_prefix, "target": i.target, "texts": list(i.texts)} for i in items]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"attributes": list(ATTRIBUTES), "layout": LAYOUT, "items": meta}))
    save_file({"features": torch.cat([i.features for i in items]).contiguous(),
               "attributes": torch.cat([i.attributes for i in items]).contiguous()},
              str(path.with_suffix(".safetensors")))  # fmt: skip


def load_items(path: Path) -> list[Item]:
    """Items written by `save_items`; ValueError when they were made with other attributes."""
    from safetensors.torch import load_file

    meta = json.loads(path.read_text())
    if meta.get("attributes") != list(ATTRIBUTES) or meta.get("layout") != LAYOUT:
        raise ValueError(f"{path}: made with other style attributes or model inputs")
    tensors = load_file(str(path.with_suffix(".safetensors")))
    items, start = [], 0
    for m in meta["items"]:
        n = len(m["texts"])
        items.append(Item(m["path"], m["line_prefix"], m["target"], tuple(m["texts"]),
                          tensors["features"][start : start + n], tensors["attributes"][start : start + n]))  # fmt: skip
        start += n
    return items
