"""Each registered AVX2 kernel's inner loops, as compiled, go through llvm-mca (znver3, skylake).

Oracle tier (DESIGN.md §5: throughput oracle llvm-mca, `-mcpu` per research/isa.md §2.1). The
assembly is `kernels.codegen.emit_asm` (gcc's code for the emitted C, the code the native harness
times). The test asserts structure, not timing: llvm-mca ran on every region, reported one
cycles/iteration figure per innermost loop of the Program, counted exactly the instructions we
gave it per iteration, and each region holds the Program's own compute instructions (its
vpshufb / vpmaddubsw / vpdpbusd / vpmaddwd count per iteration, and every other arithmetic
mnemonic at least once). Skips without gcc or llvm-mca.
"""

from __future__ import annotations

import re
import shutil

import pytest

if shutil.which("gcc") is None or shutil.which("llvm-mca") is None:
    pytest.skip("needs gcc and llvm-mca", allow_module_level=True)

from kernels.codegen.c_emit import emit_asm, innermost_loops  # noqa: E402
from kernels.registry import kernels  # noqa: E402
from tests.oracle.mca_regions import llvm_mca, region_bodies  # noqa: E402

#: Instructions whose count in the compiled loop must equal the Program's (the kernel's core work).
CORE = ("vpshufb", "vpmaddubsw", "vpmaddwd", "vpdpbusd", "vpsadbw")
#: Mnemonics the compiler may add, drop or rewrite (moves, loads, zeroing, shifts by zero).
FLEXIBLE = re.compile(r"^(vmov|vbroadcast|vpbroadcast|vpxor|vpsllw|vpand|vpor|vinserti|vextracti)")


def program_mnemonics(program, stack) -> list[str]:
    body = stack[-1].body
    return [program.isa[n.op].mnemonic for n in body if hasattr(n, "op")]


@pytest.fixture(scope="module", params=[s.name for s in kernels("avx2")])
def kernel_asm(request):
    spec = next(s for s in kernels("avx2") if s.name == request.param)
    program = spec.build(640, 2560, **spec.params)
    return spec, program, emit_asm(program)


@pytest.mark.parametrize("cpu", ["znver3", "skylake"])
def test_llvm_mca_runs_on_every_inner_loop(kernel_asm, cpu):
    spec, program, asm = kernel_asm
    loops = innermost_loops(program)
    bodies = region_bodies(asm)
    regions = llvm_mca(asm, cpu)
    assert [r["name"] for r in regions] == list(bodies), "one llvm-mca region per emitted loop"
    assert len(regions) == len(loops), f"{spec.name}: {len(loops)} innermost loops, {len(regions)} regions"
    for region, stack in zip(regions, loops):
        body = bodies[region["name"]]
        assert region["instructions"] == region["iterations"] * len(body), \
            f"{spec.name} {region['name']}: llvm-mca counted {region['instructions']} instructions"
        assert region["cycles"] > 0 and region["cycles"] / region["iterations"] > 0
        want = program_mnemonics(program, stack)
        for mnemonic in CORE:
            assert body.count(mnemonic) == want.count(mnemonic), \
                f"{spec.name} {region['name']}: {mnemonic} x{body.count(mnemonic)} in asm, x{want.count(mnemonic)} in Program"
        for mnemonic in set(want):
            if not FLEXIBLE.match(mnemonic):
                assert mnemonic in body or mnemonic + "q" in body or mnemonic + "d" in body, \
                    f"{spec.name} {region['name']}: {mnemonic} of the Program is missing from the asm"
        assert body[-1].startswith("j"), f"{spec.name} {region['name']}: region must end at the back-branch"
