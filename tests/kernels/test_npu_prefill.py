"""The NPU's batched (prefill) kernel `npu_prefill`: N tokens per call, bit-exact, cheaper per token."""

import numpy as np
import pytest

from isa_models.core.machine import load_machine
from isa_models.core.timing import time_program
from kernels.registry import get, run
from workbench.errors import UserError
from workbench.reference import ternary_matvec


@pytest.mark.parametrize("machine", ["tiny", "edge16", "kirin-9000-davinci"])
@pytest.mark.parametrize("n", [2, 5, 16])
def test_npu_prefill_equals_reference(machine, n):
    rng = np.random.default_rng(n)
    codes = rng.integers(-1, 2, (80, 384)).astype(np.int8)
    q = rng.integers(-128, 128, (n, 384)).astype(np.int8)
    q[0] = -128                                     # extremes
    got = run(get("npu_prefill", "npu"), codes, q, N=n, machine=machine)
    assert got.dtype == np.int32 and got.shape == (n, 80)
    assert np.array_equal(got, ternary_matvec(q, codes))


def test_npu_prefill_refuses_a_wrong_batch():
    codes = np.zeros((16, 64), np.int8)
    with pytest.raises(UserError):
        run(get("npu_prefill", "npu"), codes, np.zeros((3, 64), np.int8), N=4, machine="tiny")


def test_npu_prefill_is_cheaper_per_token_than_gemv():
    m = load_machine("kirin-9000-davinci", isa="npu")
    gemv = time_program(get("npu_gemm", "npu").build(2560, 2560, machine=m.name), m, cold=True).cycles
    batch = time_program(get("npu_prefill", "npu").build(2560, 2560, N=16, machine=m.name), m, cold=True).cycles
    assert batch / 16 < gemv
