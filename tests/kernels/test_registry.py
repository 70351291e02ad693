"""kernels.registry: lookup errors, parameter checks, the interface every kernel provides."""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.registry import isa_names
from kernels import registry


def test_get_unknown_lists_valid_kernels():
    with pytest.raises(LookupError, match=r"unknown kernel 'nope' for ISA avx2; valid: .*i2s"):
        registry.get("nope", "avx2")
    with pytest.raises(LookupError, match="no kernel is registered for ISA 'z80'; valid: .*i2s/avx2"):
        registry.get("i2s", "z80")
    with pytest.raises(LookupError, match=r"unknown kernel 'nope' \(name an ISA\)"):
        registry.get("nope")
    assert registry.get("tl2") is registry.get("tl2", "avx2")      # a unique name needs no ISA


def test_kernels_are_discovered_from_family_modules():
    assert "kernels.tl2.avx2" in registry.kernel_modules()
    assert "kernels.npu_gemm.npu" in registry.kernel_modules()
    assert all(m.split(".")[-1] in set(isa_names()) for m in registry.kernel_modules())


def test_every_kernel_declares_its_contract():
    specs = registry.kernels("avx2")
    assert {s.name for s in specs} >= {"i2s", "tl2", "tq2", "tmac", "vnni"}
    from workbench.formats import FORMATS
    for s in specs:
        assert s.weight_format in FORMATS
        assert s.exactness in registry.EXACTNESS
        if s.exactness == "bounded":
            assert s.bound and s.bound_holds is not None
        if s.exactness == "lossy":
            assert s.error, f"{s.name}: a lossy kernel must carry its measured error"


def test_unknown_parameter_and_bad_shape_are_one_line_errors():
    spec = registry.get("i2s", "avx2")
    with pytest.raises(ValueError, match="unknown parameter 'BM'"):
        spec.resolve(BM=3)
    with pytest.raises(ValueError, match="K=100 is not a positive multiple of 128"):
        spec.build(4, 100)
    assert not spec.supports(4, 100) and spec.supports(4, 128)
    with pytest.raises(ValueError, match="q must be int8"):
        registry.run(spec, np.zeros((4, 128), np.int8), np.zeros(128, np.int16))


def test_duplicate_registration_is_refused():
    spec = registry.get("i2s", "avx2")
    import dataclasses
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(dataclasses.replace(spec))


def test_npu_gemm_is_registered_with_its_machine_parameter():
    spec = registry.get("npu_gemm", "npu")
    assert spec in registry.kernels("npu") and spec.exactness == "exact"
    assert spec.params == {"machine": "edge16"} and spec.result_needs_shape
    assert spec.supports(640, 2560) and spec.supports(640, 2560, machine="tiny")
    with pytest.raises(LookupError, match="for ISA avx2; valid: .*tl2"):
        registry.get("npu_gemm", "avx2")
    with pytest.raises(ValueError, match="unknown machine 'nope' for ISA npu; valid: edge16"):
        registry.run(spec, np.zeros((4, 8), np.int8), np.zeros(8, np.int8), machine="nope")
    with pytest.raises(ValueError, match="K=0"):
        spec.check_shape(4, 0, machine="tiny")
    with pytest.raises(ValueError, match="unknown parameter 'BM'"):
        spec.resolve(BM=16)


@pytest.mark.parametrize("machine", ["edge16", "tiny"])
def test_npu_gemm_runs_through_the_registry_bit_exact(machine):
    """Ragged shape (rows not a multiple of the array's, K not a multiple of its columns), extreme
    rows, on the default machine and on tiny (K split into accumulator-safe segments)."""
    from workbench.reference import ternary_matvec
    spec = registry.get("npu_gemm", "npu")
    rng = np.random.default_rng(11)
    m, k = 37, 4100 + 3
    codes = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    q = rng.integers(-128, 128, size=k).astype(np.int8)
    q[: k // 2] = -128
    got = registry.run(spec, codes, q, machine=machine)
    want = ternary_matvec(q[None], codes)[0]
    assert got.dtype == np.int32 and got.shape == (m,)
    assert np.array_equal(got, want)
    wrong = got.copy()
    wrong[5] += 1                                     # the comparison sees a one-off row
    assert not np.array_equal(wrong, want)


def test_verify_sweeps_npu_gemm_on_a_2b4t_shape():
    from kernels.verify import verify
    result = verify("npu_gemm", isa="npu", projections=("k",), inputs=("extreme",))
    assert result.ok and [c.status for c in result.cases] == ["VERIFIED"]
