"""Stimulus for the NPU testbench: directed corner matvecs and random command streams.

Sims layer (imports isa_models.npu). Each scenario is a `Scenario` (a Program, its DRAM inputs and,
for matvecs, W and x for the independent integer check). Used by `sims.tb_npu` inside the
simulator and by the unit tests (model only), so both see the same programs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isa_models.core.program import Program
from isa_models.npu import NpuBuilder, NpuParams, matvec_inputs, matvec_program
from isa_models.npu.encoding import pack_words

__all__ = ["Scenario", "matvec_scenario", "corner_scenarios", "random_stream_scenario", "act_class"]


@dataclass
class Scenario:
    name: str
    program: Program
    inputs: dict[str, np.ndarray]
    codes: np.ndarray | None = None
    x: np.ndarray | None = None


def matvec_scenario(params: NpuParams, codes: np.ndarray, x: np.ndarray, *, name: str,
                    prefetch: int | None = None) -> Scenario:
    prog = matvec_program(params, codes.shape[0], codes.shape[1], name=name, prefetch=prefetch)
    return Scenario(name, prog, matvec_inputs(params, codes, x), np.asarray(codes), np.asarray(x))


def max_k(params: NpuParams) -> int:
    """Largest K a resident activation vector allows on this machine (bounded by acc_bits too)."""
    return min(params.a_banks * params.a_bank_words * params.cols, params.max_exact_k)


def corner_scenarios(params: NpuParams) -> list[Scenario]:
    """x = -128 with w = -1 (+128 terms), rows of all +1 / all -1, the largest K, zero weights."""
    k = max_k(params)
    m = 2 * params.rows + 1                                    # two full row tiles plus a ragged one
    out = []
    w = -np.ones((m, k), dtype=np.int8)
    out.append(matvec_scenario(params, w, np.full(k, -128, np.int8), name="neg128_times_neg1_maxk"))
    w = np.ones((m, k), dtype=np.int8)
    w[1::2] = -1                                               # alternate rows of all +1 and all -1
    out.append(matvec_scenario(params, w, np.full(k, 127, np.int8), name="rows_pm1_127_maxk"))
    out.append(matvec_scenario(params, w, np.full(k, -128, np.int8), name="rows_pm1_neg128_maxk"))
    w = np.zeros((params.rows, params.cols + 3), dtype=np.int8)
    out.append(matvec_scenario(params, w, np.full(params.cols + 3, -128, np.int8), name="zero_weights_ragged"))
    return out


def random_matvec(params: NpuParams, rng: np.random.Generator, *, name: str) -> Scenario:
    kmax = max_k(params)
    m = int(rng.integers(1, 3 * params.rows + 1))
    k = int(rng.integers(1, kmax + 1))
    p0 = float(rng.choice([0.0, 1 / 3, 0.9]))
    codes = np.where(rng.random((m, k)) < p0, 0, rng.choice([-1, 1], size=(m, k))).astype(np.int8)
    if rng.random() < 0.5:
        x = rng.integers(-128, 128, size=k).astype(np.int8)
    else:                                                      # extremes-biased activations
        x = rng.choice(np.array([-128, -1, 0, 1, 127], dtype=np.int8), size=k)
    prefetch = int(rng.integers(0, params.w_banks))
    return matvec_scenario(params, codes, x, name=name, prefetch=prefetch)


def random_stream_scenario(params: NpuParams, rng: np.random.Generator, *, n: int, name: str) -> Scenario:
    """A random mix of all commands over random banks (exercises every hazard and overlap rule)."""
    p = params
    nb = NpuBuilder(p, name, kind="random")
    wd = nb.dram("wdram", 4 * p.w_bank_words * p.w_word_bytes)
    ad = nb.dram("adram", 4 * p.a_bank_words * p.a_word_bytes)
    out = nb.dram("out", 8 * p.acc_bank_bytes, role="output")
    wwords = 4 * p.w_bank_words
    trits = rng.integers(-1, 2, size=(wwords, p.rows * p.cols)).astype(np.int8)
    inputs = {"wdram": pack_words(trits, encoding=p.weight_encoding, word_bytes=p.w_word_bytes).reshape(-1),
              "adram": rng.integers(0, 256, size=4 * p.a_bank_words * p.a_word_bytes).astype(np.uint8)}
    for bank in range(p.w_banks):                              # defined SRAM contents first
        nb.load_weights(bank * p.w_bank_words, wd[bank * p.w_bank_bytes], p.w_bank_words)
    for bank in range(p.a_banks):
        nb.load_acts(bank * p.a_bank_words, ad[bank * p.a_bank_bytes], p.a_bank_words)
    for _ in range(n):
        op = rng.choice(["dmaw", "dmaa", "mac", "mac", "wb", "sync"], p=[.25, .15, .2, .2, .15, .05])
        if op == "dmaw":
            words = int(rng.integers(1, min(8, p.w_bank_words) + 1))
            start = int(rng.integers(0, p.w_bank_words - words + 1)) + int(rng.integers(p.w_banks)) * p.w_bank_words
            nb.load_weights(start, wd[int(rng.integers(0, wwords - words + 1)) * p.w_word_bytes], words)
        elif op == "dmaa":
            words = int(rng.integers(1, min(8, p.a_bank_words) + 1))
            start = int(rng.integers(0, p.a_bank_words - words + 1)) + int(rng.integers(p.a_banks)) * p.a_bank_words
            nb.load_acts(start, ad[int(rng.integers(0, 4 * p.a_bank_words - words + 1)) * p.a_word_bytes], words)
        elif op == "mac":
            words = int(rng.integers(1, min(6, p.w_bank_words, p.a_bank_words) + 1))
            wst = int(rng.integers(0, p.w_bank_words - words + 1)) + int(rng.integers(p.w_banks)) * p.w_bank_words
            ast = int(rng.integers(0, p.a_bank_words - words + 1)) + int(rng.integers(p.a_banks)) * p.a_bank_words
            nb.mac(int(rng.integers(p.acc_banks)), wst, ast, words, clear=bool(rng.random() < 0.5))
        elif op == "wb":
            nb.write_back(int(rng.integers(p.acc_banks)), out[int(rng.integers(8)) * p.acc_bank_bytes])
        else:
            nb.sync()
    return Scenario(name, nb.build(), inputs)


def act_class(x: np.ndarray) -> np.ndarray:
    """Coverage class of int8 activations: 0 = -128, 1 = -1, 2 = 0, 3 = +1, 4 = 127, 5 = other."""
    x = np.asarray(x, dtype=np.int16)
    out = np.full(x.shape, 5, dtype=np.int8)
    for cls, v in enumerate((-128, -1, 0, 1, 127)):
        out[x == v] = cls
    return out
