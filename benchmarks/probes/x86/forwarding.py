"""Store-to-load forwarding probes: small AVX2 Programs timed natively and by the model.

Host probe of x86 (benchmarks/probes/x86), the measurement behind the machine files'
`store_forward_latency` and `store_forward_fail_penalty` keys (isa_models/machines/README.md).
`chain_program` builds a loop whose only loop-carried path goes through memory (load, vpaddd,
store), so its cycles per iteration are the forwarding latency plus one; `hidden_program` puts a
store/load pair beside independent vpdpbusd work to show whether the forward's cost is hidden;
`vnni_variant` rebuilds vnni's former 4-row tile (rows reduced at the tile's end) with its
epilogue reading row 3 elsewhere, next to the kernel's own design (the reduction in a loop of its
own): the known gap. Run ``python benchmarks/probes/x86/forwarding.py [--vnni]`` to print the
tables (probes with gcc: clang rewrites them, merging the two half stores and narrowing the wider
load; vnni with clang). Native runs use `kernels.codegen.NativeKernel` (target x86_avx2).
"""

from __future__ import annotations

import argparse
import sys

from isa_models.avx2 import ISA
from isa_models.core.program import Program
from isa_models.core.builder import ProgramBuilder

__all__ = ["CHAIN_CASES", "VNNI_VARIANTS", "chain_program", "hidden_program", "vnni_variant", "measure", "main"]

#: name -> (store form, store offsets, load form, load offset); widths in bytes of the forms.
CHAIN_CASES = {
    "ymm store -> ymm load, same bytes": ("ymm", (0,), "ymm", 0),
    "ymm store -> xmm load at +16": ("ymm", (0,), "xmm", 16),
    "ymm store -> 4-byte broadcast at +20": ("ymm", (0,), "dword", 20),
    "xmm store -> xmm load, same bytes": ("xmm", (0,), "xmm", 0),
    "ymm store -> ymm load at +4 (partial)": ("ymm", (0,), "ymm", 4),
    "xmm store -> ymm load (wider)": ("xmm", (0,), "ymm", 0),
    "2 xmm stores -> ymm load (spans both)": ("xmm", (0, 16), "ymm", 0),
    "ymm store -> ymm load at +32 (disjoint)": ("ymm", (0,), "ymm", 32),
}
_LOADS = {"ymm": "vmovdqu_load_ymm", "xmm": "vmovdqu_load_xmm", "dword": "vpbroadcastd_ymm_m"}


def chain_program(case: str, *, iterations: int = 2000) -> Program:
    """A loop of load -> vpaddd -> store(s) whose only carried dependence is through memory.

    The loaded value is also summed into a register accumulator (written out at the end) so no
    compiler can drop the bytes it reads.
    """
    if case not in CHAIN_CASES:
        raise ValueError(f"forwarding: unknown chain case {case!r}; valid: {', '.join(CHAIN_CASES)}")
    store, offsets, load, at = CHAIN_CASES[case]
    b = ProgramBuilder(ISA, "fwd_chain")
    s = b.buffer("s", 128, role="scratch")
    o = b.buffer("o", 32, role="output")
    acc = b.vmovdqu_load_ymm(s[64])
    with b.loop("i", iterations):
        x = b.emit(_LOADS[load], s[at])
        b.vpaddd_ymm(acc, x, out=acc)
        y = b.vpaddd_ymm(x, x)
        for k, off in enumerate(offsets):
            part = y if k == 0 else b.vextracti128_ymm(y, 1)
            (b.vmovdqu_store_ymm if store == "ymm" else b.vmovdqu_store_xmm)(s[off], part)
    b.vmovdqu_store_ymm(o[0], acc)
    return b.build()


def hidden_program(mode: str, *, work: int = 16, tail: int = 12, iterations: int = 512,
                   work_loads: bool = True) -> Program:
    """`work` vpdpbusd on 8 accumulators per iteration beside a `tail`-long chain that is stored
    and read back by the NEXT iteration ("forward": the same bytes, "fail": 4 bytes further,
    "none": another buffer).

    The load reads the previous iteration's store (carried through memory, as in `chain_program`)
    because a store and reload of the same bytes inside one iteration is forwarded in a register
    by the compiler (gcc 12 did, so an earlier form of this probe timed no forward at all); the
    tail alternates vpaddd and vpsrad so no compiler can reassociate it shorter. `work_loads`:
    each vpdpbusd reads its own 32 bytes of `q` (16 loads per iteration beside the forward) or
    takes a register (no loads in the work).
    """
    if mode not in ("none", "forward", "fail"):
        raise ValueError(f"forwarding: mode {mode!r} is not none, forward or fail")
    b = ProgramBuilder(ISA, f"fwd_hidden_{mode}")
    s = b.buffer("s", 128, role="scratch")
    t = b.buffer("t", 512, role="scratch")
    q = b.buffer("q", 32 * work, role="scratch")
    o = b.buffer("o", 32, role="output")
    accs = [b.vmovdqu_load_ymm(t[32 * k]) for k in range(8)]
    m, acc = b.vmovdqu_load_ymm(t[256]), b.vmovdqu_load_ymm(t[288])
    qreg = b.vmovdqu_load_ymm(t[352])
    with b.loop("i", iterations):
        x = b.vmovdqu_load_ymm(t[320] if mode == "none" else s[4 if mode == "fail" else 0])
        b.vpaddd_ymm(acc, x, out=acc)
        for k in range(work):
            if work_loads:
                b.vpdpbusd_ymm_m(accs[k % 8], m, q[32 * k], out=accs[k % 8])
            else:
                b.vpdpbusd_ymm(accs[k % 8], m, qreg, out=accs[k % 8])
        v = accs[0]
        for n in range(tail):
            v = b.vpaddd_ymm(v, accs[1]) if n % 2 == 0 else b.vpsrad_ymm(v, 1)
        b.vmovdqu_store_ymm(s[0], v)
    for r in accs:
        b.vpaddd_ymm(acc, r, out=acc)
    b.vmovdqu_store_ymm(o[0], acc)
    return b.build()


#: vnni epilogue variants: the former per-tile epilogue and where it gets row 3, then the kernel.
VNNI_VARIANTS = ("tile epilogue, row sums reloaded", "row 3 from another buffer", "row 3 in a register",
                 "no epilogue", "reduction loop (the kernel)")


def vnni_variant(variant: str, M: int, K: int) -> Program:
    """vnni's Program (kernels/vnni/avx2.py, chains=2) with the row reduction placed per `variant`.

    "reduction loop (the kernel)" is the kernel's own build. The others are the former design, a
    4-row tile whose end reduces its rows: reloading all four row sums just stored, reading row 3
    from a never-written buffer, taking row 3's sum from its register, or storing sum(q) instead
    of the reduction (no epilogue). Only the kernel's own build is exact; the rest are timing probes.
    """
    from kernels.avx2_common import i2s_program, store_row_sums
    from kernels.vnni import avx2 as vnni

    if variant not in VNNI_VARIANTS:
        raise ValueError(f"forwarding: unknown vnni variant {variant!r}; valid: {', '.join(VNNI_VARIANTS)}")
    vnni.check_shape(M, K)
    if variant == "reduction loop (the kernel)":
        return vnni.build(M, K)
    nb, row_bytes = K // vnni.QK, K // 4
    b, w, q, qsum, consts, rowsum, other, out = i2s_program(
        "vnni_probe", M, K, rows=4, const_size=128, scratch=(("rowsum", 32 * M), ("other", 32 * M)))
    masks = [b.vmovdqu_load_ymm(consts[32 * s]) for s in range(4)]
    with b.loop("t", M // 4, parallel=True) as t:
        with b.loop("r", 4) as r:
            sets = [[b.vpxor_zero_ymm() for _ in range(4)] for _ in range(2)]
            with b.loop("j", nb // 2) as j:
                for c in range(2):
                    x = b.vmovdqu_load_ymm(w[(t * 4 + r) * row_bytes + (j * 2 + c) * 32])
                    for s in range(4):
                        b.vpdpbusd_ymm_m(sets[c][s], b.vpand_ymm(x, masks[s]),
                                         q[(j * 2 + c) * vnni.QK + 32 * s], out=sets[c][s])
            total = None
            for s in range(4):
                a = b.vpaddd_ymm(sets[0][s], sets[1][s])
                a = b.vpsrad_ymm(a, vnni.SHIFTS[s]) if vnni.SHIFTS[s] else a
                total = a if total is None else b.vpaddd_ymm(total, a)
            b.vmovdqu_store_ymm(rowsum[(t * 4 + r) * 32], total)
        bias = b.vpbroadcastd_ymm_m(qsum[0])
        if variant == "no epilogue":
            b.vmovdqu_store_xmm(out[t * 16], bias)
        else:
            rows = [b.vmovdqu_load_ymm(rowsum[(t * 4 + i) * 32]) for i in range(3)]
            if variant == "row 3 in a register":
                rows.append(total)
            else:
                row3 = other if variant == "row 3 from another buffer" else rowsum
                rows.append(b.vmovdqu_load_ymm(row3[(t * 4 + 3) * 32]))
            store_row_sums(b, rows, out[t * 16], subtract=bias)
    return b.build()


def measure(program: Program, *, machine, compiler: str = "gcc", passes: int = 5) -> tuple[float, float]:
    """(measured, model) cycles per iteration of the program's loop; measured: the best of
    `passes` medians of 31 calls (the least disturbed pass on a shared host)."""
    from isa_models.core.timing.run import time_program
    from kernels.codegen.native import NativeKernel

    loop = next(n for n in program.body if hasattr(n, "trip"))
    kernel = NativeKernel(program, compiler=compiler)
    native = min(kernel.time({}, repeats=31).cycles for _ in range(passes))
    return native / loop.trip, time_program(program, machine).loop(loop.index).cycles / loop.trip


def main(argv=None) -> int:
    """Print the chain and hiding tables for `--machine` (default: the machine modelling this host)."""
    from isa_models.core.machine import load_machine
    from kernels.codegen.host import host_check

    ap = argparse.ArgumentParser(description="Store-to-load forwarding probes: native vs model.")
    ap.add_argument("--machine", help="avx2 machine of the model column (default: the one whose [host] "
                                      "table matches this CPU)")
    ap.add_argument("--compiler", default="gcc")
    ap.add_argument("--vnni", action="store_true", help="also time vnni's epilogue variants (clang, M=64, K=1024)")
    args = ap.parse_args(argv)
    host, reason = host_check(args.machine, "avx2")
    if args.machine is None and host is None:
        print(f"forwarding: {reason}; pass --machine", file=sys.stderr)
        return 2
    machine = load_machine(args.machine or host.name, isa="avx2")
    if reason is not None:
        print(f"note: {reason}: the measured and model ({machine.name}) columns are different cores")
    if args.vnni:
        _vnni_table(machine)
    print("| chain (load -> vpaddd -> store), cycles/iteration | measured | model |\n|---|---|---|")
    for case in CHAIN_CASES:
        meas, model = measure(chain_program(case), machine=machine, compiler=args.compiler)
        print(f"| {case} | {meas:.2f} | {model:.2f} |", flush=True)
    print("\n| beside independent vpdpbusd work (late data, read next iteration) | measured none / forward / "
          "fail | model none / forward / fail |\n|---|---|---|")
    for work, work_loads in ((16, False), (16, True), (48, True)):
        rows = [measure(hidden_program(mode, work=work, work_loads=work_loads), machine=machine,
                        compiler=args.compiler) for mode in ("none", "forward", "fail")]
        kind = "with a load each" if work_loads else "register operands, no loads"
        print(f"| {work} vpdpbusd ({kind}), 12-op tail | "
              f"{' / '.join(f'{r[0]:.2f}' for r in rows)} | {' / '.join(f'{r[1]:.2f}' for r in rows)} |",
              flush=True)
    return 0


def _vnni_table(machine, *, M: int = 64, K: int = 1024) -> None:
    import numpy as np

    from isa_models.core.timing.run import time_program
    from kernels.codegen.native import NativeKernel
    from kernels.vnni import avx2 as vnni

    rng = np.random.default_rng(0)
    buffers = vnni.prepare(rng.integers(-1, 2, size=(M, K)).astype(np.int8),
                           rng.integers(-127, 128, size=K).astype(np.int8))
    print(f"| vnni {M}x{K}, cycles per row | measured (clang, best of 15 calls) | model |\n|---|---|---|")
    for variant in VNNI_VARIANTS:
        program = vnni_variant(variant, M, K)
        kernel = NativeKernel(program, compiler="clang")
        native = min(kernel.time(buffers, repeats=21).cycles for _ in range(15))
        print(f"| {variant} | {native / M:.2f} | {time_program(program, machine).cycles / M:.2f} |", flush=True)
    print()


if __name__ == "__main__":
    raise SystemExit(main())
