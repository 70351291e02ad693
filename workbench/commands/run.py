"""`workbench run`: greedy generation with the Numba reference transformer.

Top of the flow: builds a preset's deterministic random weights (or loads a GGUF file / Hugging Face
checkpoint through `workbench.formats.model_io.load_model`), runs `workbench.reference.generate`
and prints the generated token ids on one line; timing goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time

from workbench.commands import check_input_path, nonnegative_int, positive_int
from workbench.errors import UserError
from workbench.reference.config import check_prompt

__all__ = ["register", "parse_token_ids", "check_prompt"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="generate tokens with the reference transformer",
        description="Greedy generation with the bit-exact Numba reference (int8 activations, exact "
                    "int32 ternary accumulators, fixed-order fp32 float steps). Prints the generated "
                    "token ids, comma-separated, on one line; timing goes to stderr.",
        epilog="examples:\n"
               "  workbench run --model tiny --prompt-ids 1,2,3 --max-new-tokens 8\n"
               "  workbench run --model bitnet-b1.58-2B-4T --prompt-ids 128000 --max-new-tokens 4\n"
               "  workbench run --model-file ckpt_dir/ --prompt-ids 1,2 --convention bitnet_cpp",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", default="tiny", metavar="PRESET",
                     help="model preset with deterministic random weights (default: tiny; "
                          "see `workbench models`)")
    src.add_argument("--model-file", metavar="PATH",
                     help="GGUF file, or Hugging Face checkpoint directory / config.json / "
                          "model.safetensors")
    p.add_argument("--prompt-ids", metavar="IDS",
                   help="comma-separated prompt token ids (default: the model's BOS id)")
    p.add_argument("--max-new-tokens", type=positive_int, default=8, metavar="N",
                   help="number of tokens to generate, at least 1 (default: 8)")
    p.add_argument("--convention", choices=("hf", "bitnet_cpp"), default="hf",
                   help="activation-scale and dequantization convention (default: hf; "
                        "see workbench.quant)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the preset's random weights (default: 0)")
    p.add_argument("--no-weight-cache", action="store_true",
                   help="do not read or write the on-disk cache of large presets' random weights")
    p.set_defaults(handler=run)


def parse_token_ids(text: str) -> list[int]:
    """'1,2,3' -> [1, 2, 3]; UserError naming the bad item otherwise (an empty list too)."""
    ids = []
    for item in text.split(","):
        item = item.strip()
        try:
            ids.append(int(item))
        except ValueError:
            raise UserError(f"--prompt-ids: {item!r} is not an integer token id") from None
    return ids


def _load_weights(args: argparse.Namespace):
    from tqdm import tqdm

    from workbench.reference import get_preset, random_weights
    from workbench.reference.weights import CACHE_MIN_PARAMS

    if args.model_file:
        from workbench.formats.model_io import load_model

        check_input_path(args.model_file, flag="--model-file", directory=None)
        return load_model(args.model_file)  # ModelFileError names the file: one line, exit 2
    config = get_preset(args.model)
    big = config.ternary_params() >= CACHE_MIN_PARAMS
    with tqdm(total=config.num_layers, desc=f"weights {config.name}", unit="layer",
              file=sys.stderr, disable=not big) as bar:
        return random_weights(config, seed=args.seed, progress=lambda _: bar.update(1),
                              cache=False if args.no_weight_cache else None)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from workbench.reference import generate

    prompt = parse_token_ids(args.prompt_ids) if args.prompt_ids is not None else None
    if prompt is not None and args.model_file is None:
        from workbench.reference import get_preset

        check_prompt(prompt, get_preset(args.model), args.max_new_tokens)   # before the weights
    t0 = time.perf_counter()
    weights = _load_weights(args)
    config = weights.config
    what = "--prompt-ids"
    if prompt is None:
        prompt, what = [config.bos_token_id], "the model's BOS id (give --prompt-ids)"
    check_prompt(prompt, config, args.max_new_tokens, what=what)
    t1 = time.perf_counter()
    stamps: list[float] = []
    tokens = generate(weights, np.asarray(prompt), max_new_tokens=args.max_new_tokens,
                      convention=args.convention, on_token=lambda _: stamps.append(time.perf_counter()))
    print(",".join(str(t) for t in tokens))
    decode = ""
    if len(stamps) > 1:
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        decode = f", decode {rate:.2f} tok/s over {len(stamps) - 1} tokens"
    prefill = f", prefill {len(prompt)} tokens {stamps[0] - t1:.3f} s" if stamps else ""
    print(f"{config.name}: weights {t1 - t0:.1f} s{prefill}{decode} ({args.convention})", file=sys.stderr)
    return 0
