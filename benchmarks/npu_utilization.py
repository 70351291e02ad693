"""Array utilization of the NPU GEMV/GEMM kernel on the BitNet b1.58 2B-4T projection shapes.

For every NPU machine (isa_models/machines/npu/*.toml) and every 2B-4T projection shape, builds
kernels.npu_gemm's tiled program (decode GEMV, and a 4-token GEMM), lowers it and runs the NPU cycle
model: cycles, time at the machine clock, utilization (ideal MAC cycles / cycles, Gemmini's
definition), the binding unit, the largest stall cause and DRAM bytes; plus the projections of
one whole 2B-4T token (30 layers). The cycle model is deterministic, so one run is exact.
Writes its section of docs/benchmarks.md. Usage: ``python benchmarks/npu_utilization.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name


def measure(params, m: int, k: int, tokens: int) -> dict:
    from isa_models.npu import lower, time_lowered
    from kernels.npu_gemm.npu import gemm_program, plan_gemm

    plan = plan_gemm(params, m, k, tokens=tokens)
    t = time_lowered(lower(gemm_program(params, m, k, tokens=tokens, plan=plan)))
    worst = max(t.stalls.items(), key=lambda kv: kv[1]) if t.stalls else ("none", 0)
    return {"cycles": t.total_cycles, "us": t.time_us, "util": t.utilization, "binding": t.binding_unit,
            "stall": worst, "dram": t.dram["read"] + t.dram["write"], "plan": plan}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4, help="tokens of the GEMM column (default 4)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch docs/benchmarks.md")
    args = ap.parse_args()
    from isa_models.npu import load_npu_machine, npu_machine_names
    from workbench.reference import PROJECTIONS, get_preset

    cfg = get_preset("bitnet-b1.58-2B-4T")
    shapes = cfg.projection_shapes()
    unique = sorted(set(shapes.values()))
    rows, token_rows = [], []
    t0 = time.perf_counter()
    for name in npu_machine_names():
        p = load_npu_machine(name)
        res = {}
        for m, k in unique:
            g = measure(p, m, k, 1)
            mm = measure(p, m, k, args.tokens)
            res[(m, k)] = g
            pl = g["plan"]
            rows.append(f"| {name} | {m}x{k} | {g['cycles']:,} | {g['us']:,.1f} | {100 * g['util']:.1f}% | "
                        f"{g['binding']} | {g['stall'][0]} {g['stall'][1]:,} | {g['dram']:,} | "
                        f"{'resident' if pl.resident else 'streamed'}, chunk {pl.chunk_words}w, "
                        f"{len(pl.segments)} seg | {100 * mm['util']:.1f}% |")
            print(rows[-1], flush=True)
        cycles = cfg.num_layers * sum(res[shapes[pr]]["cycles"] for pr in PROJECTIONS)
        macs = cfg.num_layers * sum(m * k for m, k in (shapes[pr] for pr in PROJECTIONS))
        util = macs / p.peak_macs_per_cycle / cycles
        token_rows.append(f"| {name} | {p.rows}x{p.cols} {p.weight_encoding} | {p.clock_mhz:g} | "
                          f"{p.dram_bytes_per_s / 1e9:.1f} | {cycles:,} | {p.clock_mhz * 1e6 / cycles:,.2f} | "
                          f"{100 * util:.1f}% |")
    elapsed = time.perf_counter() - t0
    text = f"""## NPU array utilization on the 2B-4T shapes (`benchmarks/npu_utilization.py`)

kernels.npu_gemm `npu_gemm` on every NPU machine, timed by the NPU cycle model (isa_models.npu.timing,
which the RTL matches cycle for cycle: tests/rtl). Utilization = ideal MAC cycles (M*K*T / (R*C)) /
cycles. Decode GEMV (one token) per shape; the last column is the same shape with {args.tokens} tokens
(GEMM: each weight chunk serves up to acc_banks tokens). The cycle model is deterministic: one run.

| machine | shape MxK | cycles | us at clock | util | binding unit | top stall | DRAM bytes | plan | util, {args.tokens} tokens |
|---|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

Projections of one 2B-4T decode token (30 layers x 7 projections; attention, norms and lm_head not
on the array):

| machine | array | MHz | DRAM GB/s | cycles per token | tokens/s | utilization |
|---|---|---|---|---|---|---|
""" + "\n".join(token_rows) + f"""

Decode GEMV is bound by the DMA unit on every machine: streaming R*C trits per word at
{', '.join(f'{load_npu_machine(n).name} {load_npu_machine(n).bits_per_trit:.3g}' for n in npu_machine_names())}
bits/trit through the DRAM bus takes longer than the one cycle the array needs per word. The tiny
verification config also streams its activations (its activation SRAM holds 256 int8) and splits
K = 6912 into two segments (20-bit accumulators, host adds them). Computed in {elapsed:.0f} s.
"""
    publish(NAME, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
