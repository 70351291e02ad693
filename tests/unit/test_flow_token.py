"""workbench.flow.token: tokens/s for 1..N cores against the DRAM roofline, and the bytes a token reads."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from kernels.registry import get
from workbench.flow import TokenProjection, token_weight_bytes
from workbench.formats import get_format
from workbench.reference import PROJECTIONS, get_preset


def test_token_projection_formula():
    tok = TokenProjection(kernel_cycles=3e6, kernel_seconds=1e-3, weight_bytes=10**8,
                          dram_gbps_core=20.0, dram_gbps_chip=30.0, cores=4)
    assert tok.compute_tokens_per_s(1) == pytest.approx(1000.0)
    assert tok.roofline_tokens_per_s(1) == pytest.approx(200.0)
    assert tok.roofline_tokens_per_s(4) == pytest.approx(300.0)      # capped by the chip
    assert tok.tokens_per_s(1) == pytest.approx(200.0) and tok.bound(1) == "DRAM"
    slow = dataclasses.replace(tok, kernel_seconds=1e-1)
    assert slow.tokens_per_s(2) == pytest.approx(20.0) and slow.bound(2) == "compute"
    assert [row["cores"] for row in tok.to_json()["by_cores"]] == [1, 2, 3, 4]


def test_weight_bytes_of_a_format_and_of_an_unregistered_layout():
    config = get_preset("tiny")
    spec = get("i2s", "avx2")
    fmt = get_format(spec.weight_format)
    want = config.num_layers * sum(fmt.nbytes(*config.projection_shape(p),
                                              **fmt.default_layout(*config.projection_shape(p)))
                                   for p in PROJECTIONS)
    assert token_weight_bytes(spec, config, {}) == (want, f"packed weights, format {spec.weight_format}")
    shapes = {config.projection_shape(p): SimpleNamespace(bytes_moved=1000) for p in PROJECTIONS}
    odd = dataclasses.replace(spec, weight_format="array_tiles")
    nbytes, what = token_weight_bytes(odd, config, shapes)
    assert nbytes == config.num_layers * len(PROJECTIONS) * 1000 and "bytes the Programs move" in what


def test_a_batched_call_is_divided_by_its_tokens():
    run = SimpleNamespace(projections=[SimpleNamespace(timing=SimpleNamespace(cycles=8000.0))] * 3)
    machine = SimpleNamespace(clock_ghz=2.0, dram_gbps_core=20.0, dram_gbps_chip=30.0, cores=2)
    from workbench.flow import project_token
    one = project_token(run, machine=machine, weight_bytes=8000, weight_source="w")
    eight = project_token(run, machine=machine, weight_bytes=8000, weight_source="w", tokens_per_call=8)
    assert one.kernel_cycles == 24000 and eight.kernel_cycles == 3000 and eight.weight_bytes == 1000
    assert eight.tokens_per_call == 8 and "read once per 8 tokens" in eight.weight_source
    assert eight.to_json()["tokens_per_call"] == 8
    with pytest.raises(ValueError, match="tokens_per_call=0"):
        project_token(run, machine=machine, weight_bytes=1, tokens_per_call=0)
