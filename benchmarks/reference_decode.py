"""Decode speed and peak memory of the Numba reference transformer, next to Hugging Face transformers.

Measures, in one run on this machine: greedy decode tokens/s (median over repeats) and peak RSS of
(1) our reference on the bitnet-b1.58-2B-4T shapes (random weights, disk-cached), (2) our reference
on a small config and (3) transformers' BitNetForCausalLM (packed `bitlinear`, fp32, eager attention)
on the same small config with the same weights (written with `save_hf_checkpoint`). Each
measurement runs in its own child process so its peak RSS is its own. Writes its section of
docs/benchmarks.md. Usage: ``python benchmarks/reference_decode.py [--repeats 3] [--tokens 16]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, load_average, machine_note, publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name
PROMPT = [1, 17, 99, 250, 3, 511, 42, 7]


def small_config():
    from workbench.reference import get_preset

    return dataclasses.replace(get_preset("tiny"), name="small-bench", vocab_size=32000,
                               hidden_size=1024, intermediate_size=2816, num_layers=8, num_heads=16,
                               num_kv_heads=4, head_dim=64, max_position=512,
                               source="benchmark config (LLaMA-style 1024 hidden, 8 layers)")


def _decode_rates(step, first_token: int, tokens: int) -> list[float]:
    """Per-token wall times of `tokens` greedy decode steps; `step(token) -> next token`."""
    times, token = [], first_token
    for _ in range(tokens):
        t0 = time.perf_counter()
        token = step(token)
        times.append(time.perf_counter() - t0)
    return times


def child_ours(model: str, repeats: int, tokens: int) -> dict:
    import numpy as np

    from workbench.reference import KVCache, forward, get_preset, random_weights

    config = small_config() if model == "small" else get_preset(model)
    t0 = time.perf_counter()
    weights = random_weights(config, seed=0)
    load_s = time.perf_counter() - t0
    runs = []
    for rep in range(repeats + 1):  # the first repeat compiles / warms the page cache
        cache = KVCache(config, capacity=len(PROMPT) + tokens + 1)
        logits = forward(weights, PROMPT, cache=cache, last_only=True)

        def step(token):
            return int(np.argmax(forward(weights, [token], cache=cache, last_only=True)[-1]))

        times = _decode_rates(step, int(np.argmax(logits[-1])), tokens)
        if rep:
            runs.append(tokens / sum(times))
    return {"tok_s": statistics.median(runs), "runs": runs, "load_s": load_s,
            "ternary_params": config.ternary_params()}


def child_hf(repeats: int, tokens: int) -> dict:
    os.environ["TORCHDYNAMO_DISABLE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers

    from workbench.formats.hf_io import save_hf_checkpoint
    from workbench.reference import random_weights

    weights = random_weights(small_config(), seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        save_hf_checkpoint(weights, tmp)
        del weights
        t0 = time.perf_counter()
        model = transformers.BitNetForCausalLM.from_pretrained(tmp, dtype=torch.float32,
                                                               attn_implementation="eager")
        load_s = time.perf_counter() - t0
    model.eval()
    runs = []
    with torch.no_grad():
        for rep in range(repeats + 1):
            out = model(input_ids=torch.tensor([PROMPT]), use_cache=True)
            state = {"past": out.past_key_values}

            def step(token):
                o = model(input_ids=torch.tensor([[token]]), past_key_values=state["past"], use_cache=True)
                state["past"] = o.past_key_values
                return int(torch.argmax(o.logits[0, -1]))

            times = _decode_rates(step, int(torch.argmax(out.logits[0, -1])), tokens)
            if rep:
                runs.append(tokens / sum(times))
    return {"tok_s": statistics.median(runs), "runs": runs, "load_s": load_s,
            "torch_threads": torch.get_num_threads()}


def run_child(kind: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--repeats", str(args.repeats),
           "--tokens", str(args.tokens)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(f"{NAME}: child {kind} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="measured repeats (median reported)")
    parser.add_argument("--tokens", type=int, default=16, help="decode steps per repeat")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (child_hf(args.repeats, args.tokens) if args.child == "hf-small"
                  else child_ours(args.child.removeprefix("ours-"), args.repeats, args.tokens))
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0

    load_before = load_average()
    rows = {}
    for kind in ("ours-bitnet-b1.58-2B-4T", "ours-small", "hf-small"):
        print(f"{NAME}: measuring {kind} ...", file=sys.stderr)
        rows[kind] = run_child(kind, args)
        print(f"  {rows[kind]['tok_s']:.2f} tok/s, peak RSS {rows[kind]['peak_rss_mib']:.0f} MiB",
              file=sys.stderr)
    load_after = load_average()
    small = small_config()
    big, ours, hf = rows["ours-bitnet-b1.58-2B-4T"], rows["ours-small"], rows["hf-small"]
    text = f"""## Reference transformer decode (`benchmarks/{NAME}`)

Machine: {machine_note()}; 1-minute load average {load_before:.1f} before and {load_after:.1f} after
the run (anything above ~2 means other jobs shared the 2 cores and the figures are low). Greedy decode after an {len(PROMPT)}-token prompt, {args.tokens} tokens per
repeat, median of {args.repeats} repeats (one warm-up repeat first), batch 1, fp32 float steps.
Each row ran in its own process; peak RSS is that process's `ru_maxrss`. The 2B-4T weights are read
from the on-disk cache of random weights (int8 codes, fp32 embedding); "load s" is that read.
Small config: vocab {small.vocab_size}, hidden {small.hidden_size}, ffn {small.intermediate_size},
{small.num_layers} layers, {small.num_heads}/{small.num_kv_heads} heads, head_dim {small.head_dim}
({small.ternary_params() / 1e6:.1f} M ternary weights); the same weights go to transformers through
`save_hf_checkpoint` (packed `bitlinear`, fp32, eager attention, TORCHDYNAMO_DISABLE=1,
{hf['torch_threads']} torch threads).

| model | implementation | decode tok/s (median) | repeats | peak RSS MiB | load s |
|---|---|---|---|---|---|
| bitnet-b1.58-2B-4T ({big['ternary_params'] / 1e9:.2f} G ternary) | workbench.reference (Numba) | {big['tok_s']:.2f} | {', '.join(f'{r:.2f}' for r in big['runs'])} | {big['peak_rss_mib']:.0f} | {big['load_s']:.1f} |
| small-bench | workbench.reference (Numba) | {ours['tok_s']:.1f} | {', '.join(f'{r:.1f}' for r in ours['runs'])} | {ours['peak_rss_mib']:.0f} | {ours['load_s']:.1f} |
| small-bench | transformers {_hf_version()} BitNetForCausalLM | {hf['tok_s']:.1f} | {', '.join(f'{r:.1f}' for r in hf['runs'])} | {hf['peak_rss_mib']:.0f} | {hf['load_s']:.1f} |

Reference / transformers on the small config: **{ours['tok_s'] / hf['tok_s']:.1f}x** decode speed.
Targets: >= 5 tok/s on 2B-4T ({'met' if big['tok_s'] >= 5 else 'NOT met'}); faster than transformers
on the same config ({'met' if ours['tok_s'] > hf['tok_s'] else 'NOT met'}). transformers is not run on
2B-4T: its packed BitLinear unpacks every weight to fp32 on each forward (2.08 G weights x 4 bytes
written per token).
The machine is shared with other work, so single figures move by tens of percent between runs.
"""
    publish(NAME, text)
    return 0


def _hf_version() -> str:
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:  # noqa: BLE001 - only a label
        return "?"


if __name__ == "__main__":
    sys.exit(main())
