"""workbench.flow.simulate: the one pipeline, on the tiny preset: per-projection checks, per-shape
timing with views, the whole-token projection, the resolved configuration, bad input named in
order, and an ISA registered by a test (the toy ISA) flowing through without touching workbench/."""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.toy import TOY, toy_machine
from isa_models.registry import IsaPlugin, register_isa, unregister_isa
from kernels import registry
from kernels.registry import KernelSpec, get, kernels
from workbench.errors import UserError
from workbench.flow import plan, simulate
from workbench.formats import get_format
from workbench.reference import PROJECTIONS, get_preset, ternary_matvec


def _first_exact():
    return next(s for s in kernels("avx2") if s.exactness == "exact" and not s.batched)


def test_layer_run_verifies_every_projection_and_records_config():
    spec = _first_exact()
    run = simulate(isa="avx2", kernel=spec.name, machine="zen4", model="tiny", layer=1,
                   views=("summary", "bottleneck"), workers=1)
    assert [(p.layer, p.proj) for p in run.projections] == [(1, p) for p in PROJECTIONS]
    assert all(p.check.status == "VERIFIED" for p in run.projections) and run.verified
    config = get_preset("tiny")
    assert list(run.shapes) == list(dict.fromkeys(config.projection_shape(p) for p in PROJECTIONS))
    assert run.shapes[config.projection_shape("q")].projections == ("q", "o")
    for p in run.projections:
        t = p.timing
        assert t.cycles > 0 and t.bytes_moved > 0 and t.binding
        assert t.gops == pytest.approx(2 * t.M * t.K / t.seconds / 1e9)
        assert t.seconds == pytest.approx(t.cycles / 3.67e9)
        assert set(t.views) == {"summary", "bottleneck"}
    cfg = run.to_json()["config"]
    assert cfg["machine"]["name"] == "zen4" and cfg["isa"]["name"] == "avx2"
    assert cfg["kernel"]["name"] == spec.name and cfg["kernel"]["format"] == spec.weight_format
    assert cfg["model"]["name"] == "tiny" and cfg["layers"] == [1] and not cfg["whole_token"]
    assert "workbench.reference.ternary_matvec" in cfg["compared_against"]
    assert run.token is None and run.defaults == []


def test_whole_token_projection_sums_projections():
    spec = get("i2s", "avx2")
    config = get_preset("tiny")
    run = simulate(isa="avx2", kernel="i2s", machine="zen4", model="tiny", workers=2)
    assert len(run.projections) == config.num_layers * len(PROJECTIONS)
    assert sorted({p.layer for p in run.projections}) == list(range(config.num_layers))
    tok = run.token
    assert tok.kernel_cycles == pytest.approx(sum(p.timing.cycles for p in run.projections))
    fmt = get_format(spec.weight_format)
    want = config.num_layers * sum(fmt.nbytes(*config.projection_shape(p),
                                              **fmt.default_layout(*config.projection_shape(p)))
                                   for p in PROJECTIONS)
    assert tok.weight_bytes == want and tok.cores == 2
    for n in (1, 2):
        assert tok.tokens_per_s(n) == pytest.approx(min(n / tok.kernel_seconds,
                                                        min(n * 31.5, 33.9) * 1e9 / want))


def test_every_engine_through_the_same_pipeline():
    """The MAC-array machine answers time_program like the CPU engines, with its own extra figures."""
    run = simulate(isa="npu", model="tiny", layer=0, views=("summary",), workers=1)
    assert run.verified and all(p.check.status == "VERIFIED" for p in run.projections)
    assert run.defaults[0].startswith("--machine edge16:") and run.defaults[1].startswith("--kernel npu_gemm:")
    for shape in run.shapes.values():
        assert shape.cycles > 0 and shape.bytes_moved > 0 and shape.binding and shape.extra
        assert set(shape.views) == {"summary"}


@pytest.mark.parametrize("kw, match", [
    (dict(kernel="nope", views=("flames",)), "unknown kernel 'nope'"),
    (dict(machine="pentium", kernel="nope"), "unknown machine 'pentium'"),
    (dict(model="gpt5", layer=9), "unknown model preset 'gpt5'"),
    (dict(layer=9), "--layer 9: model 'tiny' has layers 0..1"),
    (dict(views=("summary", "flames")), "unknown view 'flames'"),
    (dict(views=("all", "units")), "view 'units' does not render the ooo engine of machine zen4; its views: "
                                   "summary, pressure, timeline, bottleneck"),
    (dict(activations="nope"), "unknown activation source 'nope'"),
    (dict(workers=0), "--workers 0: must be at least 1"),
    (dict(crosschecks=("rtl",)), "--crosscheck rtl: does not apply to ISA avx2; the cross-checks of avx2: "),
    (dict(crosschecks=("nosuch",)), "unknown cross-check 'nosuch'; valid: emulator, native, rtl"),
    (dict(params={"tiles": 2}), "unknown parameter 'tiles'"),
])
def test_bad_input_names_the_culprit_before_any_work(kw, match):
    args = dict(isa="avx2", kernel="i2s", machine="zen4", model="tiny", layer=0)
    args.update(kw)
    with pytest.raises(UserError, match=match.replace("(", r"\(")):
        plan(**args)


def test_lossy_kernel_reports_measured_error():
    lossy = [s for s in kernels("avx2") if s.exactness == "lossy"]
    assert lossy, "tmac (lossy) must be registered for avx2"
    run = simulate(isa="avx2", kernel=lossy[0].name, machine="zen4", model="tiny", layer=0, workers=1)
    assert all(p.check.status == "LOSSY" for p in run.projections) and run.verified
    for p in run.projections:
        assert 0 < p.check.error["rel_rms"] < 0.05 and p.check.error["max_abs"] >= 1


# ------------------------------------------------------------------ an ISA registered by a test


def _toml(data: dict) -> str:
    """TOML text of a machine dict (tables, nested tables, arrays of tables, scalars, lists)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    def table(name, t):
        plain = {k: v for k, v in t.items() if not isinstance(v, dict) and not
                 (isinstance(v, list) and v and isinstance(v[0], dict))}
        out = [f"[{name}]"] + [f'"{k}" = {value(v)}' for k, v in plain.items()]
        for k, v in t.items():
            if isinstance(v, dict):
                out += table(f'{name}."{k}"', v)
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for item in v:
                    out += [f"[[{name}.{k}]]"] + [f'"{kk}" = {value(vv)}' for kk, vv in item.items()]
        return out
    return "\n".join(line for name, t in data.items() for line in table(name, t)) + "\n"


def _passthrough_kernel() -> KernelSpec:
    """A toy-ISA 'kernel' whose Program copies accumulators computed by its prepare step: it
    exercises registration, timing, checking and reporting, not a toy matvec."""
    def build(M, K):
        b = ProgramBuilder(TOY, f"toy_copy_{M}x{K}")
        x = b.buffer("x", M * 4)
        y = b.buffer("y", M * 4, role="output")
        with b.loop("m", M * 4 // 16, parallel=True) as m:
            b.vstore(y[m * 16], b.vload(x[m * 16]))
        return b.build()

    def check_shape(M, K):
        if M * 4 % 16:
            raise ValueError(f"M = {M} must be a multiple of 4")

    return KernelSpec(name="toy_copy", isa="toy", weight_format="toy_acc", description="test pass-through",
                      params={}, exactness="exact", build=build, check_shape=check_shape,
                      prepare=lambda codes, q: {"x": ternary_matvec(q[None], codes)[0].astype(np.int32).view(np.uint8)},
                      result=lambda buffers: np.asarray(buffers["y"]).view(np.int32))


@pytest.fixture
def toy_isa(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(_toml(toy_machine()))
    plugin = register_isa(IsaPlugin(name="toy", description="toy ISA of the tests", default_machine=str(path),
                                    kernel_preference=("toy_copy",), isa=TOY, machines_dir=tmp_path))
    spec = registry.register(_passthrough_kernel())
    yield plugin
    registry.unregister(spec.name, spec.isa)
    unregister_isa(plugin.name)


def test_an_isa_registered_by_a_test_flows_through(toy_isa):
    from workbench.report import render_text

    run = simulate(isa="toy", model="tiny", views=("summary",), workers=1)
    assert run.verified and len(run.projections) == 2 * len(PROJECTIONS)
    assert run.defaults[:2] == ["--machine toy: the default machine of ISA toy (no toy machine models this CPU)",
                                "--kernel toy_copy: fastest exact toy kernel toy runs"]
    assert run.token is not None and "bytes the Programs move" in run.token.weight_source
    text = render_text(run)
    assert "Kernel toy_copy (toy, format toy_acc, exact) on toy @ 1 GHz" in text and "ALL VERIFIED" in text
    with pytest.raises(UserError, match="--crosscheck native: does not apply to ISA toy; the cross-checks "
                                        "of toy: none"):
        plan(isa="toy", model="tiny", crosschecks=("native",))


def test_a_batched_kernel_checks_projections_x_tokens_and_divides_the_token():
    from workbench.report import render_text
    run = simulate(isa="avx2", kernel="prefill_vnni", machine="zen4", model="tiny", params={"N": 4}, workers=1)
    config = get_preset("tiny")
    assert run.verified and len(run.projections) == config.num_layers * len(PROJECTIONS)
    M = config.projection_shape("q")[0]
    assert next(p for p in run.projections if p.proj == "q").check.compared == 4 * M
    assert run.token.tokens_per_call == 4
    assert run.token.kernel_cycles == pytest.approx(sum(p.timing.cycles for p in run.projections) / 4)
    shape = run.shapes[config.projection_shape("q")]
    assert shape.tokens == 4 and shape.ops == 2 * shape.M * shape.K * 4
    cfg = run.to_json()["config"]
    assert cfg["kernel"]["tokens_param"] == "N" and cfg["kernel"]["build_params"]["N"] == 4
    assert "3 further seeded Gaussian rows" in cfg["compared_against"]
    text = render_text(run)
    assert f"ALL VERIFIED: {len(run.projections)} projections x 4 tokens" in text
    assert "batched kernel: 4 tokens per call" in text
