"""benchmarks/_kernel_table.py: shapes, weight bytes, one timed row against its roofline, and the tables.

The shared part of benchmarks/kernels_model.py and benchmarks/hvx_kernels.py, loaded as the scripts
load it; small shapes keep every timing fast.
"""

from __future__ import annotations

import pytest
from benchmark_scripts import benchmark_script

from isa_models.core.machine import load_machine
from kernels import registry
from workbench.errors import UserError
from workbench.formats import get_format


@pytest.fixture(scope="module")
def kt():
    with benchmark_script("_kernel_table") as module:
        yield module


def test_shapes_of_2b4t_and_parsing(kt):
    assert kt.shapes_of_model() == [(640, 2560), (2560, 2560), (2560, 6912), (6912, 2560)]
    assert kt.parse_shapes("") == kt.shapes_of_model()
    assert kt.parse_shapes("256x512, 128X256") == [(256, 512), (128, 256)]
    for bad in ("256", "0x256", "ax256", "1x2x3"):
        with pytest.raises(UserError, match="is not MxK"):
            kt.parse_shapes(bad)


def test_weight_bytes_follow_the_format_and_the_kernel_layout(kt):
    i2s = registry.get("i2s", "neon")
    assert kt.weight_bytes(i2s, 2560, 2560, i2s.resolve()) == get_format("i2s_arm").nbytes(2560, 2560)
    tl1 = registry.get("tl1", "neon")            # BM/BK/bm None in the kernel's parameters: the format's default
    program, params = kt.program_for(tl1, 2560, 2560, "cortex-x4")
    assert kt.weight_bytes(tl1, 2560, 2560, params) == program.buffers["w"].size
    npu = registry.kernels("npu")[0]
    assert kt.weight_bytes(npu, 256, 256, npu.resolve()) is None      # a format outside workbench.formats


def test_time_row_against_the_roofline_and_skips(kt):
    machine = load_machine("cortex-x4", isa="neon")
    spec = registry.get("i2s", "neon")
    row = kt.time_row(spec, machine, (256, 512), extra=lambda r: {"seen": r.cycles})
    roof = get_format("i2s_arm").nbytes(256, 512) / machine.dram_bytes_per_cycle
    assert row["roofline"] == pytest.approx(roof) and row["over_roofline"] == pytest.approx(row["cycles"] / roof)
    assert row["seen"] == row["cycles"] > 0 and row["us"] == pytest.approx(row["cycles"] / 3.3e3)
    assert row["compute"] > 0 and row["binding"] and "skip" not in row
    skipped = kt.time_row(spec, machine, (100, 256))
    assert skipped["skip"] and "cycles" not in skipped


def _row(kernel, machine, cycles, exactness="exact", shape=(2560, 2560)):
    return {"kernel": kernel, "exactness": exactness, "machine": machine, "shape": shape, "cycles": cycles,
            "compute": cycles, "us": cycles / 1e3, "binding": "memory (DRAM)", "weight_bytes": 100,
            "weight_source": "packed weights (x)", "roofline": 50.0, "over_roofline": cycles / 50.0}


def test_summary_marks_the_fastest_and_its_lead(kt):
    rows = [_row("a", "m1", 200), _row("b", "m1", 100), _row("c", "m1", 150, "lossy"),
            _row("a", "m2", 90), _row("b", "m2", 120), _row("a", "m1", 1, shape=(640, 2560))]
    lines = kt.summary_table(rows)
    assert lines[0] == "| kernel | m1 | m2 |"
    assert "| b (exact) | **100** | 120 |" in lines and "| a (exact) | 200 | **90** |" in lines
    assert lines[-1] == "| fastest (lead over the next) | b, 1.50x over c (lossy) | a, 1.33x over b |"
    assert kt.summary_table(rows, shape=(1, 1)) == []


def test_render_per_machine_tables_extra_columns_and_skips(kt):
    machines = [load_machine("cortex-x4", isa="neon"), load_machine("cortex-a55", isa="neon")]
    rows = [_row("a", "cortex-x4", 200), {"kernel": "b", "machine": "cortex-a55", "shape": (1, 2), "skip": "too small"}]
    text = kt.render_kernel_table(rows, title="### T", intro="intro", machines=machines, shapes=[(2560, 2560)],
                                  columns=(("packets/iter", lambda r: "7"),))
    assert text.startswith("### T\n\nintro\n") and "| cortex-a55 | inorder |" in text
    assert "#### cortex-x4" in text and "#### cortex-a55" not in text
    assert "| a (exact) | 2560x2560 | 200 | 200 | 0.2 | 7 | memory (DRAM) | 100 | 50 | 4.00 |" in text
    assert "- b on cortex-a55 1x2: too small" in text
    empty = kt.render_kernel_table([], title="### T", intro="i", machines=machines, shapes=[(2560, 2560)])
    assert "nothing to time" in empty
