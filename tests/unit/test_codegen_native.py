"""Emitted C run natively equals the functional run byte for byte; harness errors and timing shape.

Covers kernels.codegen.native (NativeKernel on the in-process runner, timed by the x86_avx2
target's clock) and build on small AVX2 programs (an I2_S-style dot with a sequential
accumulator over a parallel row loop, a TL2-style LUT kernel with xmm forms and in-register
broadcasts, a VNNI dot). Skips when the host cannot run AVX2 (or VNNI) or lacks gcc.
"""

from __future__ import annotations

import platform
import shutil

import numpy as np
import pytest

from isa_models.avx2 import ISA
from isa_models.core.builder import ProgramBuilder
from kernels.codegen.host import machine_info, missing_cpu_flags

if platform.machine() not in ("x86_64", "AMD64") or shutil.which("gcc") is None or missing_cpu_flags(["avx2"]):
    pytest.skip("native runs need an x86-64 AVX2 host with gcc", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen.native import NativeKernel  # noqa: E402
from kernels.codegen.run import functional_mismatches  # noqa: E402
from kernels.codegen.targets.x86_tsc import calibrate  # noqa: E402
from workbench.errors import UserError  # noqa: E402


def dot_program(rows: int = 4, blocks: int = 8):
    """int32 sums of u8 codes x s8 activations, maddubs -> madd(1) -> add, one ymm per row."""
    b = ProgramBuilder(ISA, "dot_maddubs")
    w = b.buffer("w", rows * blocks * 32)
    a = b.buffer("a", blocks * 32)
    ones = b.buffer("ones", 32, role="const")
    out = b.buffer("out", rows * 32, role="output")
    with b.loop("r", rows, parallel=True) as r:
        acc = b.vpxor_zero_ymm()
        one = b.vmovdqu_load_ymm(ones[0])
        with b.loop("k", blocks) as k:
            x = b.vmovdqu_load_ymm(w[r * (blocks * 32) + k * 32])
            p = b.vpmaddubsw_ymm_m(x, a[k * 32])
            q = b.vpmaddwd_ymm(p, one)
            b.vpaddd_ymm(acc, q, out=acc)
        b.vmovdqu_store_ymm(out[r * 32], acc)
    return b.build()


def lut_program(tiles: int = 3, steps: int = 4):
    """TL2-like: nibble split, vpshufb into a broadcast 16-entry table, widen halves, int16 sums."""
    b = ProgramBuilder(ISA, "lut_nibbles")
    idx = b.buffer("idx", tiles * steps * 32)
    lut = b.buffer("lut", steps * 16)
    out = b.buffer("out", tiles * 64, role="output")
    with b.loop("t", tiles, parallel=True) as t:
        lo_acc = b.vpxor_zero_ymm()
        hi_acc = b.vpxor_zero_ymm()
        mask = b.vpbroadcastb_ymm_m(lut[0])             # any byte; masked to 0x0f below
        mask = b.vpsrlw_ymm(b.vpcmpeqb_ymm(mask, mask), 12)
        mask = b.vpackuswb_ymm(mask, mask)              # 0x0f in every byte
        with b.loop("s", steps) as s:
            table = b.vbroadcasti128_ymm_m(lut[s * 16])
            codes = b.vmovdqu_load_ymm(idx[t * (steps * 32) + s * 32])
            low = b.vpand_ymm(codes, mask)
            high = b.vpand_ymm(b.vpsrlw_ymm(codes, 4), mask)
            v = b.vpaddsb_ymm(b.vpshufb_ymm(table, low), b.vpshufb_ymm(table, high))
            half = b.vextracti128_ymm(v, 1)
            b.vpaddw_ymm(lo_acc, b.vpmovsxbw_ymm(v), out=lo_acc)
            b.vpaddw_ymm(hi_acc, b.vpmovsxbw_ymm(half), out=hi_acc)
        b.vmovdqu_store_ymm(out[t * 64], lo_acc)
        b.vmovdqu_store_ymm(out[t * 64 + 32], hi_acc)
    return b.build()


def vnni_program(rows: int = 2, blocks: int = 5):
    b = ProgramBuilder(ISA, "dot_vnni")
    w = b.buffer("w", rows * blocks * 32)
    a = b.buffer("a", blocks * 32)
    out = b.buffer("out", rows * 32, role="output")
    with b.loop("r", rows, parallel=True) as r:
        acc = b.vpxor_zero_ymm()
        with b.loop("k", blocks) as k:
            x = b.vmovdqu_load_ymm(w[r * (blocks * 32) + k * 32])
            b.vpdpbusd_ymm_m(acc, x, a[k * 32], out=acc)
        b.vmovdqu_store_ymm(out[r * 32], acc)
    return b.build()


def _random_buffers(program, rng):
    return {name: rng.integers(0, 256, buf.size, dtype=np.uint8)
            for name, buf in program.buffers.items() if buf.role in ("input", "const")}


@pytest.mark.parametrize("make", [dot_program, lut_program, vnni_program])
def test_native_equals_functional_run(make):
    program = make()
    from kernels.codegen.c_emit import program_requirements
    if missing_cpu_flags(program_requirements(program)):
        pytest.skip(f"CPU lacks {program_requirements(program)}")
    kernel = NativeKernel(program)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        buffers = _random_buffers(program, rng)
        if seed == 2:                        # adversarial: every byte at an extreme
            buffers = {n: np.where(v & 1, 0xFF, 0x80).astype(np.uint8) for n, v in buffers.items()}
        if "ones" in buffers:
            buffers["ones"] = np.tile(np.array([1, 0], np.uint8), 16)
        native = kernel(buffers)
        functional = execute(program, buffers)
        for name in program.buffers:
            np.testing.assert_array_equal(native[name], functional[name], err_msg=f"buffer {name}")


def test_native_dot_matches_numpy_reference():
    program = dot_program(rows=3, blocks=4)
    rng = np.random.default_rng(7)
    w = rng.integers(0, 3, 3 * 4 * 32, dtype=np.uint8)
    a = rng.integers(-128, 128, 4 * 32).astype(np.int8)
    out = NativeKernel(program)({"w": w, "a": a.view(np.uint8), "ones": np.tile(np.array([1, 0], np.uint8), 16)})
    got = out["out"].view(np.int32).reshape(3, 8)
    prod = (w.reshape(3, 4, 32).astype(np.int64) * a.reshape(4, 32)).reshape(3, 4, 8, 4).sum(axis=(1, 3))
    np.testing.assert_array_equal(got, prod)


def test_bad_buffers_are_named():
    kernel = NativeKernel(dot_program())
    with pytest.raises(UserError, match="buffer 'w'.*expected 1024"):
        kernel({"w": np.zeros(10, np.uint8), "a": np.zeros(256, np.uint8), "ones": np.zeros(32, np.uint8)})
    with pytest.raises(ValueError, match="no buffer 'bogus'"):
        kernel({"bogus": np.zeros(1, np.uint8)})
    with pytest.raises(ValueError, match="input buffer 'a'"):
        kernel({"w": np.zeros(1024, np.uint8), "ones": np.zeros(32, np.uint8)})


def test_timing_reports_cycles_and_machine():
    program = dot_program()
    result = NativeKernel(program).time(_random_buffers(program, np.random.default_rng(0)), repeats=11)
    assert result.repeats == 11 and result.ticks > 0 and result.cycles >= 0
    assert result.machine == machine_info() and result.machine["model_name"]
    assert "core cycles" in result.describe()
    cal = calibrate()
    assert cal.tsc_per_cycle > 0 and cal.repeats >= 1


def test_library_is_cached_by_source():
    first = NativeKernel(dot_program())
    second = NativeKernel(dot_program())
    assert first.library_path == second.library_path
    other = NativeKernel(dot_program(rows=5))
    assert other.library_path != first.library_path


def test_clang_build_compiles_the_program_and_agrees_with_gcc():
    program = dot_program()
    buffers = _random_buffers(program, np.random.default_rng(3))
    by_gcc = NativeKernel(program)(buffers)
    by_clang = NativeKernel(program, compiler="clang")(buffers)
    assert by_clang.keys() == by_gcc.keys()
    assert all(np.array_equal(by_clang[k], by_gcc[k]) for k in by_gcc)


def test_native_kernel_refuses_a_host_that_cannot_run_it(monkeypatch):
    from kernels.codegen import host

    monkeypatch.setattr(host, "cpu_flags", lambda: frozenset({"sse2"}))
    with pytest.raises(UserError, match="cannot run in this process: this CPU, .* lacks avx2 "
                                        r"\(codegen target x86_avx2\)"):
        NativeKernel(dot_program())
    monkeypatch.setattr(host, "host_arch", lambda: "riscv64")
    with pytest.raises(UserError, match="runs on x86_64/AMD64 hosts, this one is riscv64"):
        NativeKernel(dot_program())


def test_equals_functional_sees_a_changed_byte():
    program = dot_program()
    kernel = NativeKernel(program)
    buffers = _random_buffers(program, np.random.default_rng(5))
    assert kernel.equals_functional(buffers)
    got = kernel(buffers)
    got["out"][7] ^= 1
    assert functional_mismatches(program, buffers, got) == ["out"]
