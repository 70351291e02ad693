"""vnni2 AVX2 kernel (vnni, two rows per block): exact on every 2B-4T shape, on hypothesis-drawn
small shapes with adversarial activations, and natively (conftest.exact_kernel_tests); its
Program loads each activation quarter once per two rows; bad parameters are named."""

from __future__ import annotations

import pytest

from conftest import exact_kernel_tests
from kernels.vnni.avx2 import build, check_shape
from kernels.vnni2.avx2 import QK as BLOCK
from tests.unit.kernel_checks import dynamic_count

(test_sweep_2b4t_exact, test_small_shapes_exact,
 test_native_equals_reference) = exact_kernel_tests("vnni2", block=BLOCK)


def test_two_rows_share_each_activation_load():
    one = build(8, 4 * BLOCK)                                  # vnni: 1 + 4 memory-operand loads per row-block
    two = build(8, 4 * BLOCK, chains=1, rows_per_block=2)      # vnni2: (2 + 4) / 2 = 3 per row-block
    row_blocks = 8 * 4
    assert dynamic_count(two, "vpdpbusd_ymm") == 4 * row_blocks and dynamic_count(two, "vpdpbusd_ymm_m") == 0
    assert dynamic_count(one, "vpdpbusd_ymm_m") == 4 * row_blocks
    setup = 4 + 4 * 2                                          # mask loads, rowsum reloads
    assert dynamic_count(two, "vmovdqu_load_ymm") - setup == 3 * row_blocks
    assert dynamic_count(one, "vmovdqu_load_ymm") - setup + dynamic_count(one, "vpdpbusd_ymm_m") == 5 * row_blocks


def test_rows_per_block_needs_one_chain():
    with pytest.raises(ValueError, match="rows_per_block=2 must be 1, or 2 with chains=1"):
        check_shape(8, BLOCK, chains=2, rows_per_block=2)
    with pytest.raises(ValueError, match="rows_per_block=3"):
        check_shape(8, BLOCK, chains=1, rows_per_block=3)
