"""workbench.projection.dense_formats: ggml block layouts and the work of a dense dot product."""

from __future__ import annotations

import pytest
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

from workbench.errors import UserError
from workbench.projection.dense_formats import DENSE_FORMATS, WORK_KINDS, expand_work, get_dense_format


@pytest.mark.parametrize("name", sorted(DENSE_FORMATS))
def test_block_layout_matches_gguf_py(name):
    fmt = get_dense_format(name)
    ggml = GGMLQuantizationType[name.upper()]
    assert (fmt.block, fmt.block_bytes) == GGML_QUANT_SIZES[ggml]
    assert set(fmt.work) <= set(WORK_KINDS) and fmt.source and fmt.work_source


def test_bytes_of_rows_and_matrices():
    assert get_dense_format("q8_0").row_bytes(64) == 68
    assert get_dense_format("q4_0").row_bytes(33) == 36          # whole blocks
    assert get_dense_format("q6_K").matrix_bytes(3, 512) == 3 * 2 * 210
    assert get_dense_format("f16").matrix_bytes(128256, 2560) == 128256 * 2560 * 2
    assert get_dense_format("q4_K").bits_per_weight == pytest.approx(4.5)


def test_dot_work_adds_the_activation_quantization_of_q8_formats():
    assert get_dense_format("f32").dot_work(10, 64) == {"fp32_fma": 640.0}
    q8 = get_dense_format("q8_0").dot_work(10, 64)
    assert q8 == {"int8_mac": 640.0, "fp32_fma": 20.0, "fp32_op": 3.0 * 64}


def test_expand_work_uses_the_fallback_only_when_the_kind_is_missing():
    work = {"fp16_fma": 10.0, "fp32_op": 1.0}
    assert expand_work(work, {"fp16_fma": 1, "fp32_op": 1}) == work
    assert expand_work(work, {"fp32_op": 1}) == {"fp16_convert": 10.0, "fp32_fma": 10.0, "fp32_op": 1.0}


def test_unknown_format_names_the_valid_ones():
    with pytest.raises(UserError, match="q5_9.*valid: .*q4_K"):
        get_dense_format("q5_9")
