"""Build a stand-in model for latency benchmarks: the shape of the embedded model (a ~5M
parameter GPT-2 with a 1,024-token context (--context) and an 8k byte-level BPE vocabulary trained on
standard-library files, with StarCoder FIM tokens), with random weights.

Its completions are noise; its speed is that of a real model of this size.

    .venv/bin/python benchmarks/make_latency_model.py OUT_DIR
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from _util import log, stdlib_root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--context", type=int, default=1024, help="positions (bench_inference needs 1,024 + 24)")
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    files = sorted(p for p in stdlib_root().glob("*.py"))
    random.Random(0).shuffle(files)
    special = ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    log(f"training an 8k BPE on {len(files[:150])} stdlib files ...")
    tokenizer.train([str(f) for f in files[:150]], trainers.BpeTrainer(
        vocab_size=8192, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=special[0], additional_special_tokens=special[1:])
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(fast), n_positions=args.context, n_embd=args.width, n_layer=args.layers,
                        n_head=4, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(args.out)
    fast.save_pretrained(args.out)
    params = sum(p.numel() for p in model.parameters())
    log(f"saved a {params / 1e6:.1f}M-parameter random model to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
