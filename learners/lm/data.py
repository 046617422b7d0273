"""Training data for the embedded model: a byte-level BPE tokenizer with FIM tokens, and
fixed-length token sequences mixing three tasks:

- plain: a window of a file, left to right;
- fill-in-the-middle (StarCoder format): a file chunk with a span moved to the end;
- RLPG: a hole's prompt exactly as the server composes it (a proposal's context from other
  files of the same package, the file's path, the code before the cursor, the code after it
  in the FIM slot), followed by the rest of the line, so the model learns to copy names it
  has seen in the context.

Sequences are stored as a uint16 array (n, block) padded with the end-of-text token.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bowerbird.learners.lm.corpus import CorpusFile
from bowerbird.learners.lm.fim import TEMPLATES

logger = logging.getLogger(__name__)

EOT = "<|endoftext|>"
FIM = TEMPLATES[0]  # StarCoder
SPECIAL_TOKENS = [EOT, FIM.prefix, FIM.middle, FIM.suffix, "<file_sep>"]


def train_tokenizer(texts: Sequence[str], out: Path, vocab_size: int = 8192, sample_bytes: int = 30_000_000, seed: int = 0):
    """A byte-level BPE trained on a sample of the texts, saved as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(seed)
    chosen, total = [], 0
    for text in rng.sample(list(texts), len(texts)):
        if total > sample_bytes:
            break
        chosen.append(text)
        total += len(text)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(chosen, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOT, additional_special_tokens=SPECIAL_TOKENS[1:])
    fast.save_pretrained(out)
    return fast


class _PromptBackend:
    """Just enough of a backend for `compose`: the tokenizer, the template (None: left to
    right, the code after the cursor left out), the context size."""

    def __init__(self, tokenizer, context_tokens: int, fim: bool = True):
        from bowerbird.learners.lm.tokens import TokenizerCounter

        self.counter = TokenizerCounter(tokenizer)
        self.fim = FIM if fim else None
        self.context_tokens = context_tokens


def build_sequences(
    tokenizer, texts: Sequence[str], count: int, block: int, mix: tuple[float, float, float] = (0.4, 0.3, 0.3),
    rlpg: Sequence[str] = (), seed: int = 0, progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """`count` sequences of `block` tokens: plain, FIM and RLPG in the proportions of `mix`.

    `texts` are whole files. Plain sequences are consecutive windows of a stream of the files
    in a seeded random order, separated by end-of-text (re-shuffled when the stream runs out);
    FIM sequences are one example each, padded; RLPG sequences use the given examples in turn
    (repeating them when fewer are given than the mix asks for). Tokenization is batched, so
    the tokenizer's threads do the work.
    """
    if not texts:
        raise ValueError("no training texts")
    rng = random.Random(seed)
    eot = tokenizer.convert_tokens_to_ids(EOT)
    n_rlpg = int(count * mix[2]) if rlpg else 0
    n_fim = int(count * mix[1])
    n_plain = count - n_fim - n_rlpg
    examples = [_fim_example(rng.choice(texts), rng, max_chars=block * 3) for _ in range(n_fim)]
    examples += [rlpg[i % len(rlpg)] + EOT for i in range(n_rlpg)]
    sequences = np.full((count, block), eot, dtype=np.uint16)
    row = 0
    for start in range(0, len(examples), 1024):
        for ids in tokenizer(examples[start : start + 1024], add_special_tokens=False)["input_ids"]:
            # Chunks are sized to fit (about 3 characters a token); a rare longer one keeps its
            # end, where the middle is.
            ids = ids[-block:] if len(ids) > block else ids
            sequences[row, : len(ids)] = ids
            row += 1
        if progress:
            progress(row, count)
    for window in _plain_windows(tokenizer, texts, block, eot, rng):
        if row >= count:
            break
        sequences[row] = window
        row += 1
        if progress and row % 1024 == 0:
            progress(row, count)
    order = list(range(count))
    rng.shuffle(order)
    return sequences[order]


def _plain_windows(tokenizer, texts: Sequence[str], block: int, eot: int, rng: random.Random):
    """Endless `block`-token windows of the files, in passes of a fresh random order each."""
    order = list(range(len(texts)))
    rest = np.zeros(0, dtype=np.uint16)
    while True:
        rng.shuffle(order)
        for start in range(0, len(order), 256):
            batch = [texts[i] for i in order[start : start + 256]]
            pieces = [rest]
            for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
                pieces.append(np.asarray(ids + [eot], dtype=np.uint16))
            stream = np.concatenate(pieces)
            whole = len(stream) // block * block
            yield from stream[:whole].reshape(-1, block)
            rest = stream[whole:]


def read_texts(files: Sequence[CorpusFile]) -> list[str]:
    return [file.path.read_text(encoding="utf-8", errors="replace") for file in files]


def _fim_example(text: str, rng: random.Random, max_chars: int = 3000) -> str:
    """A chunk of the file with a span (a whole line or the rest of one, usually) moved to the end."""
    start = rng.randrange(max(1, len(text) - max_chars)) if len(text) > max_chars else 0
    chunk = text[start : start + max_chars]
    lines = chunk.split("\n")
    if len(lines) < 3:
        return chunk + EOT
    line = rng.randrange(1, len(lines) - 1)
    before = "\n".join(lines[:line])
    current = lines[line]
    cut = rng.randrange(len(current) + 1)
    if rng.random() < 0.7:  # the rest of a line: what single-line completion asks
        middle = current[cut:]
        after = "\n" + "\n".join(lines[line + 1 :])
    else:  # a block of lines
        end = min(len(lines), line + rng.randint(1, 6))
        middle = current[cut:] + "".join("\n" + later for later in lines[line + 1 : end])
        after = "\n" + "\n".join(lines[end:])
    prefix = f"{before}\n{current[:cut]}"
    return FIM.format(prefix, after) + middle + EOT


def rlpg_examples_from(
    repo_views: list, tokenizer, context_tokens: int, exclude: tuple[str, ...] = (), seed: int = 0, per_file: int = 3,
    fim: bool = True, context: str = "random", unhelpful_share: float = 0.3,
    progress: Callable[[int, int], None] | None = None,
):
    """A function giving n RLPG-format examples from indexed repositories (`RepoView`s),
    with `per_file` holes from each file not matched by the gitignore-style `exclude` patterns
    (so at most that many examples per file). With `fim` False the prompts are left to right,
    as the server composes them for a model whose checkpoint turns fill-in-the-middle off.

    `context` "random": each example's proposal is a random one with context. "useful": the
    copying task: a hole whose line needs names that the code before it lacks and that some
    proposal's context holds gets such a proposal (see `useful_proposals`); the other holes
    are kept with a random proposal only as `unhelpful_share` of the examples, so the model
    also learns to ignore a context that does not help. `progress(made, n)` is called as
    examples are made."""
    if context not in ("random", "useful"):
        raise ValueError(f"context must be 'random' or 'useful' (got {context!r})")
    from bowerbird.analysis.holes import extract_holes, hole_at
    from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
    from bowerbird.learners.lm.prompt import compose_proposal

    backend = _PromptBackend(tokenizer, context_tokens, fim)

    def examples(n: int) -> list[str]:
        rng = random.Random(seed)
        candidates = []
        for repo in repo_views:
            holes = list(extract_holes(repo.root, per_file=per_file, seed=seed, split="random", exclude=exclude))
            candidates.extend((repo, h) for h in holes if h["target"].strip())
        rng.shuffle(candidates)
        result = []
        unhelpful = 0
        texts: dict[Path, str] = {}
        for repo, spec in candidates:
            if len(result) >= n:
                break
            file = repo.root / spec["path"]
            if file not in texts:
                texts[file] = file.read_text(encoding="utf-8", errors="replace")
            text = texts[file]
            try:
                hole = hole_at(spec["path"], text, spec["line"], spec["col"])
                proposals = build_proposals(repo, hole, ProposalOptions(prompt_tokens=context_tokens))
            except Exception:  # a file that changed or does not parse: skip the hole
                continue
            header, suffix = f"# {spec['path']}", "\n" + hole.after
            prompt = None
            if context == "useful":  # the first useful proposal whose names survive the prompt's budget
                needed = missing_names(hole.prefix, hole.target)
                useful = _holding(proposals, needed)
                for chosen in rng.sample(useful, len(useful)):
                    candidate = compose_proposal(backend, chosen, header, hole.prefix, suffix, 32)
                    if needed <= set(_NAME.findall(candidate.text[: candidate.text.rfind(f"\n{header}\n")])):
                        prompt = candidate
                        break
                if prompt is None:
                    if unhelpful >= unhelpful_share * n:
                        continue
                    unhelpful += 1
            if prompt is None:
                chosen = rng.choice([p for p in proposals if p.text] or proposals)
                prompt = compose_proposal(backend, chosen, header, hole.prefix, suffix, 32)
            line = text.split("\n")[spec["line"]]
            result.append(prompt.text + line[spec["col"] :] + "\n")
            if progress:
                progress(len(result), n)
        return result

    return examples


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def useful_proposals(proposals: list, prefix: str, target: str, prefix_chars: int = 1500) -> list:
    """The proposals whose context holds every name of `target` that the end of the code
    before the cursor (`prefix_chars` characters, about what a prompt keeps) does not: the
    holes where copying from another file is the way to the right line. Empty when the line
    needs no new name, or no proposal has them all."""
    return _holding(proposals, missing_names(prefix, target, prefix_chars))


def _holding(proposals: list, needed: set[str]) -> list:
    """The proposals whose context holds every name of `needed` (none when nothing is needed)."""
    if not needed:
        return []
    return [p for p in proposals if p.text and needed <= set(_NAME.findall(p.text))]


def missing_names(prefix: str, target: str, prefix_chars: int = 1500) -> set[str]:
    """The names (longer than two characters) of `target` that the last `prefix_chars`
    characters of `prefix` do not hold."""
    needed = set(_NAME.findall(target)) - set(_NAME.findall(prefix[-prefix_chars:]))
    return {name for name in needed if len(name) > 2}
