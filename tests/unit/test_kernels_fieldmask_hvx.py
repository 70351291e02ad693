"""kernels/fieldmask/hvx.py (ours): exact, no shift-unit work in its inner loop, and at least 1.2x
fewer model cycles than every other HVX kernel on the 8 Gen 3 for 2560x2560."""

from __future__ import annotations

import pytest

from kernels import registry
from kernels.fieldmask import hvx
from tests.unit.kernel_checks import assert_exact, cycles


@pytest.mark.parametrize("m, k, tiles", [(128, 128, 0), (256, 384, 2), (640, 256, 0), (512, 128, 4)])
def test_exact(m, k, tiles):
    assert_exact("fieldmask", "hvx", m, k, tiles=tiles)


def test_registered_exact_with_bound_in_shape():
    spec = registry.get("fieldmask", "hvx")
    assert spec.exactness == "exact" and spec.weight_format == "rows128"
    assert not spec.supports(128, hvx.MAX_K + 128)
    assert spec.supports(128, hvx.MAX_K)
    assert hvx.MAX_K * 21_760 < 2 ** 31 <= (hvx.MAX_K + 128) * 21_760


@pytest.mark.parametrize("m, k", [(100, 128), (128, 100), (128, 0)])
def test_bad_shapes(m, k):
    with pytest.raises(ValueError, match="fieldmask/hvx"):
        hvx.check_shape(m, k)


def test_inner_loop_has_no_shift():
    program = hvx.build(256, 256)
    inner = [ins.op for stack, ins in program.instructions() if stack and stack[-1].index == "g"]
    assert inner.count("vrmpy_ubb_vv_acc") == 4 * inner.count("vmem_load")
    assert not [op for op in inner if op.startswith(("vlsr", "vasr", "vasl", "vlut"))]


def test_wins_by_1_2x_on_8_gen_3():
    ours = cycles("fieldmask", "hvx", "snapdragon-8-gen-3")
    for spec in registry.kernels("hvx"):
        if spec.name != "fieldmask":
            assert cycles(spec.name, "hvx", "snapdragon-8-gen-3") >= 1.2 * ours, spec.name


def test_dma_placement_streams_weights_from_ddr():
    """dma=1 states the weights' DDR -> VTCM stream; every 2-bit kernel is then bound by DDR."""
    from isa_models.core.timing import time_program
    from isa_models.registry import get_isa
    program = hvx.build(512, 512, dma=1)
    assert program.meta["placement"] == {"w": "dma"}
    result = time_program(program, get_isa("hvx").load_machine("snapdragon-8-gen-3"))
    assert "DDR" in result.binding
    assert "placement" not in hvx.build(512, 512).meta
