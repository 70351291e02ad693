"""A new ISA added as docs/adding_an_isa.md says, without touching workbench/: it registers, and the
generic CLI lists, simulates, verifies and prints its Program.

The ISA ("dot8") is defined here: one 16-byte register file, a load, an int8 dot-product step into
four int32 lanes (vpdpbssd-like), a horizontal add and a 4-byte store, each a small function on the
`isa_models.core.lanes` helpers. Its machine is a TOML file of the one schema (an in-order core)
written next to the test, its kernel a `KernelSpec` whose Program is a real ternary matvec, and its
plug-in an `IsaPlugin` registered with `isa_models.registry.register_isa`. A deliberately wrong
variant of the kernel must be caught by the one checker through the same pipeline.
"""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.isa import ISA, mem, reg
from isa_models.core.lanes import lanes, wrap
from isa_models.registry import IsaPlugin, register_isa, unregister_isa
from kernels import registry
from kernels.registry import KernelSpec
from workbench.cli import main

DOT8 = ISA("dot8", register_files={"v": (8, 16)}, narrow_write="zero_extend")
V = reg("v", 16)


@DOT8.instruction("vld", outs=[V], ins=[mem(16)], sched_class="dot8.load", asm="vld {o0}, {i0}")
def vld(m):
    return m.copy()


@DOT8.instruction("vzero", outs=[V], ins=[], sched_class="dot8.alu", asm="vzero {o0}")
def vzero():
    return np.zeros((1, 16), dtype=np.uint8)


@DOT8.instruction("vdot", outs=[V], ins=[V, V, V], tied=(0,), sched_class="dot8.dot",
                  asm="vdot {o0}, {i1}, {i2}")
def vdot(acc, a, b):
    """int32 lane j += sum of the int8 products of bytes 4j..4j+3 (wraps)."""
    prod = lanes(a, np.int8).astype(np.int64) * lanes(b, np.int8).astype(np.int64)
    s = lanes(acc, np.int32).astype(np.int64) + prod.reshape(prod.shape[0], 4, 4).sum(axis=2)
    return wrap(s, np.int32)


@DOT8.instruction("vhadd", outs=[V], ins=[V], sched_class="dot8.alu", asm="vhadd {o0}, {i0}")
def vhadd(a):
    """int32 lane 0 = the sum of the four int32 lanes (wraps), the other lanes 0."""
    s = lanes(a, np.int32).astype(np.int64).sum(axis=1, keepdims=True)
    return wrap(np.pad(s, ((0, 0), (0, 3))), np.int32)


@DOT8.instruction("vst4", outs=[mem(4)], ins=[V], sched_class="dot8.store", asm="vst4 {o0}, {i0}")
def vst4(a):
    return a[:, :4].copy()


MACHINE_TOML = """\
[machine]
source = "a test machine: round numbers, no real core"
name = "dot8core"
isa = "dot8"
description = "dual-issue in-order dot8 core of the tests"
clock_ghz = 1.0
cores = 2
extensions = []

[inorder]
source = "a test machine"
dispatch_width = 2
rob_size = 16
load_to_use = 3

[ports]
source = "a test machine"
names = ["ALU", "DOT", "LD", "ST"]
load = ["LD"]
store = ["ST"]

[classes."dot8.load"]
source = "a test machine"
latency = 3
uops = 1
ports = ["LD"]
includes_load = true

[classes."dot8.store"]
source = "a test machine"
latency = 1
uops = 1
ports = ["ST"]

[classes."dot8.alu"]
source = "a test machine"
latency = 1
uops = 1
ports = ["ALU"]

[classes."dot8.dot"]
source = "a test machine"
latency = 3
uops = 1
ports = ["DOT"]

[memory]
source = "a test machine"
dram_gbps_core = 4.0
dram_gbps_chip = 8.0

[[memory.levels]]
source = "a test machine"
name = "L1"
size_bytes = 32768
bytes_per_cycle = 16

[[memory.levels]]
source = "a test machine"
name = "L2"
size_bytes = 1048576
bytes_per_cycle = 8
"""


def _kernel(name: str, *, drop_last_block: bool = False) -> KernelSpec:
    """The dot8 ternary matvec: weights as int8 codes, one row per parallel iteration."""
    def check_shape(M, K):
        if K <= 0 or K % 16:
            raise ValueError(f"K={K} is not a positive multiple of 16")

    def build(M, K):
        b = ProgramBuilder(DOT8, f"{name}_{M}x{K}")
        w = b.buffer("w", M * K)
        q = b.buffer("q", K)
        y = b.buffer("y", 4 * M, role="output")
        with b.loop("m", M, parallel=True) as m:
            acc = b.vzero()
            with b.loop("k", K // 16 - drop_last_block) as k:
                b.vdot(acc, b.vld(w[m * K + k * 16]), b.vld(q[k * 16]), out=acc)
            b.vst4(y[m * 4], b.vhadd(acc))
        return b.build()

    def prepare(codes, q):
        return {"w": np.ascontiguousarray(codes, dtype=np.int8).view(np.uint8).reshape(-1),
                "q": np.ascontiguousarray(q, dtype=np.int8).view(np.uint8)}

    return KernelSpec(name=name, isa="dot8", weight_format="int8_codes", params={}, exactness="exact",
                      description="int8 dot steps into four int32 lanes, one row per iteration (a test ISA)",
                      build=build, prepare=prepare, check_shape=check_shape,
                      result=lambda buffers: np.asarray(buffers["y"]).view("<i4").astype(np.int32))


@pytest.fixture
def dot8(tmp_path):
    (tmp_path / "dot8core.toml").write_text(MACHINE_TOML)
    plugin = register_isa(IsaPlugin(name="dot8", description="a test ISA: int8 dot products",
                                    default_machine="dot8core", kernel_preference=("dot8mv",), isa=DOT8,
                                    machines_dir=tmp_path))
    specs = [registry.register(_kernel("dot8mv")), registry.register(_kernel("dot8bug", drop_last_block=True))]
    yield plugin
    for spec in specs:
        registry.unregister(spec.name, spec.isa)
    unregister_isa(plugin.name)


def test_the_lists_show_the_new_isa(dot8, capsys):
    assert main(["machines", "--isa", "dot8"]) == 0
    out = capsys.readouterr().out
    assert "dot8core" in out and "inorder" in out
    assert main(["kernels", "--isa", "dot8"]) == 0
    assert "dot8mv" in capsys.readouterr().out


def test_simulate_with_only_the_isa_verifies_and_times(dot8, capsys, tmp_path):
    out_json = tmp_path / "run.json"
    assert main(["simulate", "--isa", "dot8", "--model", "tiny", "--layer", "1", "--no-progress",
                 "--views", "summary,timeline", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "--machine dot8core" in out and "--kernel dot8mv" in out      # the defaults, said
    assert "ALL VERIFIED" in out and "FAILED" not in out
    assert "%v" in out                                                    # virtual registers
    import json
    run = json.loads(out_json.read_text())
    assert run["verified"] and len(run["projections"]) == 7


def test_a_wrong_kernel_fails_through_the_same_checker(dot8, capsys):
    assert main(["simulate", "--isa", "dot8", "--kernel", "dot8bug", "--model", "tiny", "--layer", "0",
                 "--no-progress"]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["verify", "--isa", "dot8", "--kernel", "dot8bug", "--model", "tiny"]) == 1


def test_verify_and_emit(dot8, capsys):
    assert main(["verify", "--isa", "dot8", "--model", "tiny", "--projections", "all"]) == 0
    assert "FAILED" not in capsys.readouterr().out
    assert main(["emit", "--isa", "dot8", "--kernel", "dot8mv", "--lang", "program", "--shape", "4,32"]) == 0
    text = capsys.readouterr().out
    assert "vdot" in text and "%v" in text
    assert main(["emit", "--isa", "dot8", "--kernel", "dot8mv", "--lang", "c"]) == 2
    assert "has no codegen target" in capsys.readouterr().err
