"""kernels.registry: lookup errors, parameter checks, the interface every kernel provides."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import registry


def test_get_unknown_lists_valid_kernels():
    with pytest.raises(LookupError, match=r"unknown kernel 'nope' for ISA 'avx2'; valid: .*i2s/avx2"):
        registry.get("nope", "avx2")
    with pytest.raises(LookupError, match="for ISA 'neon'"):
        registry.get("i2s", "neon")


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
    spec = registry.get("i2s")
    with pytest.raises(ValueError, match="unknown parameter 'BM'"):
        spec.resolve(BM=3)
    with pytest.raises(ValueError, match="K=100 is not a positive multiple of 128"):
        spec.build(4, 100)
    assert not spec.supports(4, 100) and spec.supports(4, 128)
    with pytest.raises(ValueError, match="q must be int8"):
        registry.run(spec, np.zeros((4, 128), np.int8), np.zeros(128, np.int16))


def test_duplicate_registration_is_refused():
    spec = registry.get("i2s")
    import dataclasses
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(dataclasses.replace(spec))
