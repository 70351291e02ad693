"""The generic adversarial search (kernels/search): lane models are found by kernel family, the
search over weight rows breaks a kernel for given activations or proves no row can, and bad
input names its culprit. (The activation search is exercised on I2_S in test_i2s_avx2.py.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from kernels import registry
from kernels.search import lanes as lane_registry
from kernels.search.adversarial import NoOverflow, Overflow, find_overflow, find_overflow_row
from kernels.search.lanes import LaneModel, lane_model, lane_models
from workbench.errors import UnknownNameError, UserError
from workbench.reference import ternary_matvec

SEARCH = Path(__file__).resolve().parents[2] / "kernels" / "search"


def test_lane_models_come_from_the_kernel_families():
    assert ("i2s", "avx2") in [(m.kernel, m.isa) for m in lane_models()]
    model = lane_model("i2s")
    assert model is lane_model("i2s", "avx2") and (model.lo, model.hi) == (-32768, 32767)
    assert type(model).__module__ == "kernels.search.lanes" and model.probe.__module__ == "kernels.i2s.lanes"


def test_unknown_lane_model_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"no lane model for kernel 'tl2'.*valid: .*i2s/avx2"):
        lane_model("tl2")
    with pytest.raises(UnknownNameError, match="i2s/nosuch"):
        lane_model("i2s", "nosuch")


def test_a_model_registers_once():
    model = lane_model("i2s")
    assert lane_registry.register_lane_model(model) is model         # the same object again: no-op
    twin = LaneModel(model.kernel, model.isa, model.lo, model.hi, model.code_weight, model.lanes, model.probe)
    with pytest.raises(ValueError, match="registered twice"):
        lane_registry.register_lane_model(twin)
    with pytest.raises(ValueError, match="must contain 0"):
        LaneModel("x", "y", 1, 5, model.code_weight, model.lanes, model.probe)


def test_weight_search_breaks_the_row_for_extreme_activations():
    q = np.full(4096, 127, np.int8)
    found = find_overflow_row(q, kernel="i2s", seed=3)
    assert isinstance(found, Overflow) and found.searched == "weights" and found.changed >= 1
    assert set(np.unique(found.codes)) <= {-1, 0, 1} and np.array_equal(found.q, q)
    tile = np.zeros((4, 4096), np.int8)
    tile[0] = found.codes
    got = registry.run(registry.get("i2s", "avx2"), tile, q)[0]
    expected = ternary_matvec(q[None], found.codes[None])[0, 0]
    assert (got, expected) == (found.kernel, found.expected) and got != expected
    assert (int(got) - int(expected)) % 65536 == 0
    assert not -32768 <= found.lane_exact <= 32767
    assert found.lane_kernel == (found.lane_exact + 32768) % 65536 - 32768
    assert f"lane {found.lane} of chunk {found.chunk}" in found.describe() and "weights changed" in found.describe()


def test_weight_search_proves_small_activations_safe():
    q = np.random.default_rng(4).integers(-63, 64, 4096).astype(np.int8)     # the sufficient bound of I2_S
    found = find_overflow_row(q, kernel="i2s")
    assert isinstance(found, NoOverflow) and found.searched == "weights"
    assert -32768 <= found.min_lane_sum < 0 < found.max_lane_sum <= 32767
    assert "no ternary weight rows overflow it" in found.describe()


def test_bad_input_names_the_culprit():
    codes = np.zeros((4, 256), np.int8)
    with pytest.raises(UserError, match="row 4 is not a row of codes"):
        find_overflow(codes, 4, kernel="i2s")
    with pytest.raises(UserError, match=r"start activations q0 must be integers in \[-128, 127\]"):
        find_overflow(codes, 0, kernel="i2s", q0=np.full(256, 200))
    with pytest.raises(UserError, match="start row must hold ternary codes"):
        find_overflow_row(np.zeros(256, np.int8), kernel="i2s", codes0=np.full(256, 2, np.int8))
    with pytest.raises(UserError, match=r"takes no row tile .* at K=100"):
        find_overflow_row(np.zeros(100, np.int8), kernel="i2s")
    with pytest.raises(UnknownNameError, match="unknown kernel 'nosuch'"):
        find_overflow(codes, 0, kernel="nosuch")


def test_the_search_names_no_isa():
    """kernels/search is generic: no ISA, register or instruction name outside docstrings."""
    names = re.compile(r"\b(avx2|npu|ymm\d*|__m256\w*|rdtsc|vpmaddubsw|neon|hvx)\b", re.IGNORECASE)
    for path in sorted(SEARCH.glob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            text = (node.value if isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings else node.id if isinstance(node, ast.Name) else "")
            assert not names.search(text), f"{path.name}: {text!r}"
