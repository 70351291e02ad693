"""NPU command semantics: encodings, bit-exact matvec, accumulator wrap, lowering checks, executor."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa_models.npu import (EncodingError, LoweringError, NpuBuilder, decode, encode, load_npu_machine, lower,
                            matvec_inputs, matvec_output, matvec_program, pack_words, run_commands, unpack_words)
from isa_models.npu.isa import wrap_acc
from sims import scenarios as sc

TINY = load_npu_machine("tiny")
ENCODINGS = ("2bit", "base3")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=70), st.sampled_from(ENCODINGS))
def test_pack_unpack_round_trip(trits, encoding):
    t = np.array(trits, dtype=np.int8)
    nbytes = -(-len(t) // (4 if encoding == "2bit" else 5))
    words = pack_words(t, encoding=encoding, word_bytes=nbytes + 1)
    assert np.array_equal(unpack_words(words, encoding=encoding, trits=len(t)), t)


def test_base3_known_byte_and_invalid_codes():
    assert pack_words(np.array([1, 1, 1, 1, 1]), encoding="base3", word_bytes=1)[0] == 242
    assert pack_words(np.array([-1, 0, 1, -1, -1]), encoding="base3", word_bytes=1)[0] == 0 + 3 + 18
    with pytest.raises(EncodingError, match="0xf3"):
        unpack_words(np.array([243], dtype=np.uint8), encoding="base3", trits=5)
    with pytest.raises(EncodingError, match="2bit"):
        unpack_words(np.array([0xFF], dtype=np.uint8), encoding="2bit", trits=4)
    with pytest.raises(EncodingError, match="outside"):
        pack_words(np.array([2]), encoding="2bit", word_bytes=1)


@pytest.mark.parametrize("machine", ["tiny", "edge16"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_matvec_bit_exact(machine, encoding):
    p = dataclasses.replace(load_npu_machine(machine), weight_encoding=encoding)
    rng = np.random.default_rng(7)
    m, k = 3 * p.rows + 5, 5 * p.cols + 3
    codes = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    x = rng.integers(-128, 128, size=k).astype(np.int8)
    state = run_commands(lower(matvec_program(p, m, k)), matvec_inputs(p, codes, x))
    assert np.array_equal(matvec_output(state, m).astype(np.int64), codes.astype(np.int64) @ x.astype(np.int64))


def test_corner_scenarios_exact():
    for scen in sc.corner_scenarios(TINY):
        state = run_commands(lower(scen.program), scen.inputs)
        y = matvec_output(state, scen.codes.shape[0]).astype(np.int64)
        assert np.array_equal(y, scen.codes.astype(np.int64) @ scen.x.astype(np.int64)), scen.name
    y = matvec_output(run_commands(lower(sc.corner_scenarios(TINY)[0].program), sc.corner_scenarios(TINY)[0].inputs), 1)
    assert y[0] == 128 * sc.max_k(TINY)                         # x = -128, w = -1 everywhere


def test_accumulator_wraps_at_acc_bits():
    assert wrap_acc(np.array([2 ** 19, -(2 ** 19) - 1, 5]), 20).tolist() == [-(2 ** 19), 2 ** 19 - 1, 5]
    p = TINY                                                     # acc_bits 20: exact up to K = 4095
    nb = NpuBuilder(p, "wrap")
    wd = nb.dram("w", p.w_bank_bytes)
    xd = nb.dram("x", p.a_bank_bytes)
    y = nb.dram("y", p.acc_bank_bytes, role="output")
    nb.load_weights(0, wd[0], p.w_bank_words)
    nb.load_acts(0, xd[0], p.a_bank_words)
    for i in range(300):                                         # 300 * 16 words * 8 * 128 > 2**19
        nb.mac(0, 0, 0, p.w_bank_words, clear=(i == 0))
    nb.write_back(0, y[0])
    trits = -np.ones((p.w_bank_words, p.rows * p.cols), dtype=np.int8)
    inputs = {"w": pack_words(trits, encoding=p.weight_encoding, word_bytes=p.w_word_bytes).reshape(-1),
              "x": np.full(p.a_bank_bytes, 0x80, dtype=np.uint8)}
    y = run_commands(lower(nb.build()), inputs)["y"].view(np.int32)
    exact = 300 * p.w_bank_words * p.cols * 128
    assert y[0] == int(wrap_acc(np.array([exact]), 20)[0]) != exact


def test_matvec_refuses_k_beyond_accumulator_or_sram():
    with pytest.raises(ValueError, match="activation SRAM"):
        matvec_program(TINY, 4, 10_000)


def _bare(p):
    nb = NpuBuilder(p, "bad")
    return nb, nb.dram("d", 4096)


@pytest.mark.parametrize("emit,match", [
    (lambda nb, d, p: nb.b.emit("dmaw_n1", nb.wsram[3], d[0]), "multiple of its 8-byte word"),
    (lambda nb, d, p: nb.load_weights(p.w_bank_words - 1, d[0], 2), "cross a bank boundary"),
    (lambda nb, d, p: nb.b.emit("dmaw_n1", nb.asram[0], d[0]), "must be in 'wsram'"),
    (lambda nb, d, p: nb.b.emit("dmaa_n1", nb.asram[0], d[2]), "multiple of the 4-byte bus"),
    (lambda nb, d, p: nb.b.emit("macc_n1", nb.acc[0], d[0], nb.asram[0]), "must be in 'wsram'"),
    (lambda nb, d, p: nb.b.emit("maca_n1", nb.acc[0], nb.wsram[0], nb.asram[0], nb.acc[16]), "in place"),
    (lambda nb, d, p: nb.b.emit("wb", nb.wsram[0], nb.acc[0]), "must be a DRAM buffer"),
])
def test_lowering_errors_name_the_instruction(emit, match):
    nb, d = _bare(TINY)
    emit(nb, d, TINY)
    with pytest.raises(LoweringError, match=match):
        lower(nb.build())


def test_form_beyond_bank_is_refused():
    nb = NpuBuilder(TINY, "x")
    name = f"dmaw_n{TINY.w_bank_words + 1}"
    with pytest.raises(ValueError, match=name):
        nb.b.emit(name, nb.wsram[0], nb.wsram[0])
    with pytest.raises(KeyError, match="exceeds the bank size"):
        nb.b.isa[name]


def test_command_words_round_trip():
    lowered = lower(sc.random_stream_scenario(TINY, np.random.default_rng(1), n=30, name="s").program)
    for cmd, word in zip(lowered.commands, lowered.words()):
        assert decode(word, TINY) == cmd.fields()
        assert encode(cmd, TINY) == word
        assert word < (1 << TINY.command_bits)


def test_core_executor_agrees_with_command_run():
    execute = pytest.importorskip("isa_models.core.execute").execute
    rng = np.random.default_rng(11)
    for scen in (sc.random_matvec(TINY, rng, name="m"), sc.random_stream_scenario(TINY, rng, n=40, name="s")):
        a = run_commands(lower(scen.program), scen.inputs)
        b = execute(scen.program, scen.inputs)
        for name in a:
            assert np.array_equal(a[name], b[name]), (scen.name, name)
