"""The NEON benchmark scripts' own logic: llvm-mca region handling and the Pi 5 anchor's inputs.

Benchmark helpers (benchmarks/neon_llvm_mca.py, benchmarks/neon_pi5_anchor.py), loaded as the
scripts are run; the runs themselves write docs/benchmarks.md and are not tests.
"""

import shutil

import pytest

from benchmark_scripts import benchmark_script

REGION = """// LLVM-MCA-BEGIN loop0:j<40
	ldr	q6, [x0, x10]
	add	x10, x10, #16
	sdot	v2.4s, v6.16b, v1.16b
	cmp	x10, #640
	b.ne	.LBB0_2
// LLVM-MCA-END
"""


def test_regions_and_the_vector_only_loop():
    with benchmark_script("neon_llvm_mca") as m:
        (lines,) = m.regions(REGION)
        assert [ln.split()[0] for ln in lines] == ["ldr", "add", "sdot", "cmp", "b.ne"]
        text, dropped = m.vector_only(lines)
        assert dropped == 3 and "sdot" in text and "cmp" not in text and "add\tx10" not in text


@pytest.mark.skipif(shutil.which("llvm-mca-19") is None, reason="needs llvm-mca-19 (Debian llvm-19)")
def test_llvm_mca_reads_aarch64_regions_with_slash_comments():
    with benchmark_script("neon_llvm_mca") as m:
        (region,) = m.llvm_mca(REGION, "neoverse-n1", "+dotprod")
        assert region["instructions"] == 5 and region["dispatch"] == 8 and region["cycles"] > 0


def test_pi5_anchor_uses_the_pi5_machine_and_the_published_figure():
    with benchmark_script("neon_pi5_anchor") as m:
        assert (m.MACHINE, m.M, m.K, m.PUBLISHED_MS) == ("cortex-a76", 4096, 4096, 0.6)
        from isa_models.core.machine import load_machine
        machine = load_machine(m.MACHINE, isa=m.ISA)
        assert machine.clock_ghz == 2.4 and "not fitted" in machine.source_of("memory.dram_gbps_core")
