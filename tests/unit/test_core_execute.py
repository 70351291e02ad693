"""Functional executor (isa_models/core/execute.py): semantics, vectorized parallel loops, errors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.execute import ExecutionError, execute
from isa_models.core.builder import ProgramBuilder
from isa_models.core.toy import TOY


def _row_sums(tiles, k, *, nested=False):
    b = ProgramBuilder(TOY, "rowsum")
    x = b.buffer("x", tiles * k * 16)
    y = b.buffer("y", tiles * 16, role="output")
    if nested:
        with b.loop("a", 2, parallel=True) as a:
            with b.loop("t", tiles // 2, parallel=True) as t:
                acc = b.vzero()
                with b.loop("k", k) as kk:
                    b.vadd(acc, b.vload(x[(a * (tiles // 2) + t) * (k * 16) + kk * 16]), out=acc)
                b.vstore(y[(a * (tiles // 2) + t) * 16], acc)
    else:
        with b.loop("t", tiles, parallel=True) as t:
            acc = b.vzero()
            with b.loop("k", k) as kk:
                b.vadd(acc, b.vload(x[t * (k * 16) + kk * 16]), out=acc)
            b.vstore(y[t * 16], acc)
    return b.build()


@settings(max_examples=20, deadline=None)
@given(tiles=st.sampled_from([2, 4, 6]), k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       nested=st.booleans())
def test_parallel_tiles_match_numpy(tiles, k, seed, nested):
    p = _row_sums(tiles, k, nested=nested)
    xs = np.random.default_rng(seed).integers(0, 256, tiles * k * 16, dtype=np.uint8)
    out = execute(p, {"x": xs})
    want = xs.reshape(tiles, k, 16).sum(axis=1, dtype=np.int64).astype(np.uint8).ravel()
    assert np.array_equal(out["y"], want)
    assert np.array_equal(out["x"], xs)          # inputs come back unchanged


def test_sequential_loop_and_wrapping_int16_lanes():
    b = ProgramBuilder(TOY, "w")
    x = b.buffer("x", 16)
    y = b.buffer("y", 16, role="output")
    v = b.vload(x[0])
    acc = b.vzero()
    with b.loop("i", 3):
        b.vaddw(acc, v, out=acc)
    b.vstore(y[0], acc)
    xs = np.full(16, 0, np.uint8)
    xs.view(np.int16)[:] = 20000
    out = execute(b.build(), {"x": xs})
    assert out["y"].view(np.int16).tolist() == [np.int16(-5536)] * 8   # 60000 wraps to -5536


def test_narrow_result_zero_extends_and_narrow_load():
    b = ProgramBuilder(TOY, "n")
    x = b.buffer("x", 16)
    y = b.buffer("y", 32, role="output")
    full = b.vload(x[0])
    half = b.vaddh(full, full)          # reads low 8 bytes, zero-extends to 16
    b.vstore(y[0], half)
    b.vstore(y[16], b.vload_h(x[8]))
    xs = np.arange(1, 17, dtype=np.uint8)
    out = execute(b.build(), {"x": xs})
    assert out["y"][:16].tolist() == [2 * i for i in range(1, 9)] + [0] * 8
    assert out["y"][16:].tolist() == list(range(9, 17)) + [0] * 8


def test_shuffle_semantics_with_high_bit_zeroing():
    b = ProgramBuilder(TOY, "s")
    t = b.buffer("t", 16); i = b.buffer("i", 16); y = b.buffer("y", 16, role="output")
    b.vstore(y[0], b.vshuf(b.vload(t[0]), b.vload(i[0])))
    table = np.arange(100, 116, dtype=np.uint8)
    idx = np.array([3, 0x80, 15, 0x8F, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0], np.uint8)
    out = execute(b.build(), {"t": table, "i": idx})
    assert out["y"].tolist() == [103, 0, 115, 0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 100]


def test_out_of_bounds_names_instruction_indices_buffer_offset_size():
    b = ProgramBuilder(TOY, "oob")
    x = b.buffer("x", 100)
    y = b.buffer("y", 16 * 4, role="output")
    with b.loop("t", 4, parallel=True) as t:
        acc = b.vzero()
        with b.loop("k", 2) as k:
            b.vadd(acc, b.vload(x[t * 32 + k * 16]), out=acc)
        b.vstore(y[t * 16], acc)
    msg = r"oob: vload .* at t=3, k=0: accesses x\[96\.\.111\] outside buffer 'x' of 100 bytes"
    with pytest.raises(ExecutionError, match=msg):
        execute(b.build(), {"x": np.zeros(100, np.uint8)})


def test_negative_offset_is_caught():
    b = ProgramBuilder(TOY, "neg")
    x = b.buffer("x", 64)
    with b.loop("i", 2) as i:
        b.vload(x[16 - i * 32])
    with pytest.raises(ExecutionError, match=r"at i=1: accesses x\[-16\.\.-1\]"):
        execute(b.build(), {"x": np.zeros(64, np.uint8)})


def test_register_read_before_write_and_bad_buffers():
    b = ProgramBuilder(TOY, "r")
    x = b.buffer("x", 16)
    ghost = b.reg("v")
    b.vadd(b.vload(x[0]), ghost)
    p = b.build()
    with pytest.raises(ExecutionError, match=r"reads register %v\d+ before any write"):
        execute(p, {"x": np.zeros(16, np.uint8)})
    with pytest.raises(ExecutionError, match=r"buffer 'x' has shape \(15,\), declared 16 bytes"):
        execute(p, {"x": np.zeros(15, np.uint8)})
    with pytest.raises(ExecutionError, match="input buffer 'x' not given"):
        execute(p, {})
    with pytest.raises(ExecutionError, match="unknown buffer"):
        execute(p, {"x": np.zeros(16, np.uint8), "z": np.zeros(1, np.uint8)})
    with pytest.raises(ExecutionError, match="must be uint8"):
        execute(p, {"x": np.zeros(16, np.int8)})


def test_large_parallel_run_is_vectorized():
    """A 6912-row x 2560-byte layer as 432 tiles of 16 rows: one numpy call per instruction visit."""
    rows, k = 6912, 2560
    tiles = rows // 16
    b = ProgramBuilder(TOY, "big")
    x = b.buffer("x", k)
    w = b.buffer("w", rows * k)
    y = b.buffer("y", rows, role="output")
    with b.loop("t", tiles, parallel=True) as t:
        acc = b.vzero()
        with b.loop("c", k // 16) as c:
            xv = b.vload(x[c * 16])
            b.vmac(acc, b.vload(w[t * (16 * k) + c * 256]), xv, out=acc)   # 16 bytes of a tile
        b.vstore(y[t * 16], acc)
    p = b.build()
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 256, k, dtype=np.uint8)
    ws = rng.integers(0, 256, rows * k, dtype=np.uint8)
    out = execute(p, {"x": xs, "w": ws})
    wt = ws.reshape(tiles, k // 16, 256)[:, :, :16].astype(np.int64)
    want = (wt * xs.reshape(k // 16, 16)[None].astype(np.int64)).sum(axis=1).astype(np.uint8).ravel()
    assert np.array_equal(out["y"], want)
