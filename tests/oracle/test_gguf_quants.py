"""External oracle: gguf-py's TQ1_0 / TQ2_0 quantize and dequantize agree byte for byte with
our packers (research/kernels.md §3.4)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.formats import FORMATS

gguf = pytest.importorskip("gguf")
pytestmark = pytest.mark.oracle

QTYPES = {"tq1_0": gguf.GGMLQuantizationType.TQ1_0, "tq2_0": gguf.GGMLQuantizationType.TQ2_0}


def _edge_and_random_rows(seed: int) -> np.ndarray:
    """Rows of 4 blocks: all +1, all 0, all -1, mixed, and random ternary at several densities."""
    rng = np.random.default_rng(seed)
    rows = [np.ones(1024), np.zeros(1024), -np.ones(1024)]
    mixed = np.concatenate([np.ones(256), np.zeros(256), -np.ones(256),
                            rng.integers(-1, 2, 256)])
    rows.append(mixed)
    single = np.zeros(1024)
    single[[0, 159, 160, 239, 240, 255, 256 + 100, 1023]] = [1, -1, 1, -1, 1, -1, 1, -1]
    rows.append(single)
    for p_zero in (0.0, 0.3, 0.9):
        r = rng.integers(-1, 2, 1024)
        r[rng.random(1024) < p_zero] = 0
        rows.append(r)
    rows.extend(rng.integers(-1, 2, size=(8, 1024)))
    return np.array(rows, dtype=np.int8)


@pytest.mark.parametrize("kind", sorted(QTYPES))
@pytest.mark.parametrize("gamma", [0.0371, 1.0, 2.0**-14, 1234.5, 0.1])
def test_pack_matches_gguf_quantize(kind, gamma):
    codes = _edge_and_random_rows(seed=int(gamma * 1000) % 97)
    w = codes.astype(np.float32) * np.float32(gamma)
    ref = gguf.quants.quantize(w, QTYPES[kind])
    ours = FORMATS[kind].pack(codes, gamma=gamma)
    assert ref.dtype == np.uint8
    np.testing.assert_array_equal(ours, ref.reshape(-1))


@pytest.mark.parametrize("kind", sorted(QTYPES))
def test_zero_scale(kind):
    """gamma = 0: gguf-py sees w = 0 everywhere and writes zero trits with d = 0. Our packer
    keeps the codes (so they round-trip) with d = 0: its bytes equal gguf's for zero codes, and
    the d fields agree for any codes."""
    codes = _edge_and_random_rows(seed=3)
    ref = gguf.quants.quantize(codes.astype(np.float32) * np.float32(0), QTYPES[kind])
    np.testing.assert_array_equal(FORMATS[kind].pack(np.zeros_like(codes), gamma=0.0), ref.reshape(-1))
    block_weights, block_bytes = gguf.GGML_QUANT_SIZES[QTYPES[kind]]
    assert block_weights == 256 and FORMATS[kind].nbytes(1, block_weights) == block_bytes
    ours = FORMATS[kind].pack(codes, gamma=0.0).reshape(ref.shape[0], -1, block_bytes)
    np.testing.assert_array_equal(ours[..., -2:], ref.reshape(ours.shape)[..., -2:])
    back, d = FORMATS[kind].unpack(ours.reshape(-1), *codes.shape)
    np.testing.assert_array_equal(back, codes)
    assert not d.any()


@pytest.mark.parametrize("kind", sorted(QTYPES))
def test_unpack_matches_gguf_dequantize(kind):
    codes = _edge_and_random_rows(seed=5)
    gamma = np.float32(0.0371)
    data = FORMATS[kind].pack(codes, gamma=gamma)
    deq = gguf.quants.dequantize(data.reshape(codes.shape[0], -1), QTYPES[kind])
    ours_codes, d = FORMATS[kind].unpack(data, *codes.shape)
    np.testing.assert_array_equal(ours_codes, codes)
    ours = ours_codes.astype(np.float32) * np.repeat(d, 256, axis=1)
    np.testing.assert_array_equal(deq, ours)     # both are (t) * fp32(fp16(gamma)), exactly


@pytest.mark.parametrize("kind", sorted(QTYPES))
def test_unpack_reads_gguf_bytes(kind):
    """Bytes made by gguf-py unpack to the codes and the fp16 scales it wrote."""
    codes = _edge_and_random_rows(seed=9)
    gamma = np.float32(0.5)
    ref = gguf.quants.quantize(codes.astype(np.float32) * gamma, QTYPES[kind]).reshape(-1)
    got, d = FORMATS[kind].unpack(ref, *codes.shape)
    np.testing.assert_array_equal(got, codes)
    used = (codes.reshape(codes.shape[0], -1, 256) != 0).any(axis=2)
    np.testing.assert_array_equal(d, np.where(used, np.float32(0.5), np.float32(0)))
