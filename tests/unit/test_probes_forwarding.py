"""The store-to-load forwarding probes (benchmarks/probes/x86/forwarding.py): model figures, and
native runs equal to the functional run.

The probes back zen4.toml's store_forward_* keys and the vnni variants of the machines README's
known gaps; their timings are measurements (printed by
``python benchmarks/probes/x86/forwarding.py``),
so only what the model must give and what the native code must compute are asserted here.
"""

from __future__ import annotations

import platform
import shutil

import numpy as np
import pytest
from benchmark_scripts import benchmark_script

from isa_models.core.execute import execute
from isa_models.core.machine import load_machine
from isa_models.core.timing.run import time_program
from kernels.vnni import avx2 as vnni

with benchmark_script("probes/x86/forwarding") as _forwarding:
    CHAIN_CASES, VNNI_VARIANTS = _forwarding.CHAIN_CASES, _forwarding.VNNI_VARIANTS
    chain_program, hidden_program, vnni_variant = (_forwarding.chain_program, _forwarding.hidden_program,
                                                   _forwarding.vnni_variant)

ZEN4 = load_machine("zen4", isa="avx2")


def loop_cycles(program) -> float:
    loop = next(n for n in program.body if hasattr(n, "trip"))
    return time_program(program, ZEN4).loop(loop.index).cycles / loop.trip


def test_a_forward_inside_one_store_costs_the_measured_latency_plus_the_add():
    for case in ("ymm store -> ymm load, same bytes", "ymm store -> xmm load at +16",
                 "ymm store -> 4-byte broadcast at +20", "xmm store -> xmm load, same bytes"):
        assert loop_cycles(chain_program(case, iterations=200)) == ZEN4.store_forward_latency + 1


def test_a_load_not_inside_one_store_waits_for_its_retirement_and_a_disjoint_one_does_not():
    forward = ZEN4.store_forward_latency + 1
    for case in ("ymm store -> ymm load at +4 (partial)", "xmm store -> ymm load (wider)",
                 "2 xmm stores -> ymm load (spans both)"):
        assert loop_cycles(chain_program(case, iterations=200)) > forward + ZEN4.store_forward_fail_penalty / 2
    assert loop_cycles(chain_program("ymm store -> ymm load at +32 (disjoint)", iterations=200)) < 2


def test_unknown_probe_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown chain case 'x'.*same bytes"):
        chain_program("x")
    with pytest.raises(ValueError, match="unknown vnni variant 'x'.*reduction loop"):
        vnni_variant("x", 8, 256)


def _vnni_buffers(M: int, K: int):
    rng = np.random.default_rng(7)
    codes = rng.integers(-1, 2, size=(M, K)).astype(np.int8)
    q = rng.integers(-128, 128, size=K).astype(np.int8)
    return vnni.prepare(codes, q), codes.astype(np.int64) @ q.astype(np.int64)


@pytest.mark.parametrize("variant", [VNNI_VARIANTS[0], VNNI_VARIANTS[-1]])
def test_the_exact_vnni_variants_equal_the_reference(variant):
    buffers, reference = _vnni_buffers(16, 512)
    out = execute(vnni_variant(variant, 16, 512), buffers)
    assert np.array_equal(out["acc"].view("<i4"), reference)


needs_native = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or shutil.which("clang") is None or shutil.which("gcc") is None,
    reason="native probes need an x86-64 host with gcc and clang")


@needs_native
def test_native_probes_compute_what_the_functional_run_computes():
    from kernels.codegen.host import missing_cpu_flags
    from kernels.codegen.native import NativeKernel

    missing = missing_cpu_flags(["avx2", "avx512_vnni", "avx512vl"])
    if missing:
        pytest.skip(f"host lacks {', '.join(missing)}")
    programs = [chain_program(case, iterations=64) for case in CHAIN_CASES]
    programs += [hidden_program(mode, iterations=16) for mode in ("none", "forward", "fail")]
    for program in programs:
        functional = execute(program, {})
        native = NativeKernel(program, compiler="gcc")({})
        for name in functional:
            assert np.array_equal(native[name], functional[name]), (program.name, name)
    buffers, reference = _vnni_buffers(16, 512)
    for variant in VNNI_VARIANTS:
        program = vnni_variant(variant, 16, 512)
        native = NativeKernel(program, compiler="clang")(buffers)
        assert np.array_equal(native["acc"], execute(program, buffers)["acc"]), variant
        if variant in (VNNI_VARIANTS[0], VNNI_VARIANTS[-1]):
            assert np.array_equal(native["acc"].view("<i4"), reference), variant
