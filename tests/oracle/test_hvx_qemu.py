"""Every HVX form against qemu-hexagon, byte for byte, on >= 1024 random plus edge vectors each.

Oracle test of `isa_models.hvx`. One freestanding executable holds a function per form (and per
immediate value), generated from the form's own ``c`` template (tests/oracle/hvx_qemu_harness.py),
built once with the hexagon_hvx codegen target (clang-19, ld.lld-19) and run once under
qemu-hexagon with every batch streamed through stdin. Each form's records are: 1024 random
vectors (split over its immediate cases) plus edge vectors: lane extremes of b/h/w (0, +-1,
0x7f.., 0x80..), saturation boundaries, vlut indices whose top bits match the selector and whose
do not, selector bit 1 (the 128-byte ``oddhalf``) both ways, shift counts over the whole signed
range, all-zero and all-one predicates. The model's output must equal QEMU's in every byte; a
failure names the form, the case and the first mismatching record with its inputs. The forms are
all integer: HVX floating point aborts in QEMU, so this ISA model defines none (a float form would
be checked against numpy and marked as such). `test_every_form_is_covered` keeps the list
complete. Skips (with the reason) when clang-19, ld.lld-19 or qemu-hexagon is missing; CI has them.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from isa_models.hvx import ISA
from kernels.codegen.build import compile_executable
from kernels.codegen.targets.hexagon_hvx import TARGET
from tests.oracle.hvx_qemu_harness import cases, encode_batch, harness_source, slot_layout

RANDOM_PER_FORM = 1024
_TOOLS = ("clang-19", "ld.lld-19", "qemu-hexagon")

# byte patterns whose lanes hit the b/h/w extremes and saturation boundaries (little-endian)
_EDGE_PATTERNS = [bytes([b]) * 4 for b in (0x00, 0xFF, 0x80, 0x7F, 0x01, 0xFE, 0x81)] + [
    bytes([0x00, 0x80]) * 2, bytes([0xFF, 0x7F]) * 2, bytes([0x01, 0x80]) * 2, bytes([0xFF, 0xFF, 0xFF, 0x7F]),
    bytes([0x00, 0x00, 0x00, 0x80]), bytes([0x01, 0x00, 0x00, 0x80]), bytes([0x7F, 0x80, 0xFF, 0x00]),
    bytes([0x10, 0x0F, 0xF0, 0x1F])]
_EDGE_SCALARS = [0, 1, 2, 3, -1, -2, 7, 8, 15, 16, 17, 31, 32, 63, 127, 128, 255, 0x7FFFFFFF, -0x80000000,
                 0x01010101, 0x80808080 - (1 << 32), 0x7F7F7F7F, 0x12345678, 0x00FF00FF, -0x7F7F7F80]


def _edge_vectors(rng) -> np.ndarray:
    vecs = [np.frombuffer(p * 32, np.uint8) for p in _EDGE_PATTERNS]
    vecs.append(np.arange(128, dtype=np.uint8))                     # identity indices / ramps
    vecs.append(np.arange(128, dtype=np.uint8)[::-1].copy())
    vecs.append((np.arange(128) * 2 + 1).astype(np.uint8))          # odd bytes, top bits vary
    vecs.append(rng.choice(np.array([0, 1, 0x7F, 0x80, 0xFE, 0xFF], np.uint8), 128))
    return np.stack(vecs)


def _inputs(case, n_random: int, rng) -> tuple[int, list[np.ndarray]]:
    """Random plus edge records for `case`: their count N and one (N, width) uint8 array per
    non-immediate input."""
    d = case.d
    regs = [s for s in d.ins if not s.is_imm]
    edges = _edge_vectors(rng)
    e = len(edges)
    n_edge = e * 3
    n = n_random + n_edge
    out = []
    for j, s in enumerate(regs):
        if s.kind == "q":
            x = rng.integers(0, 2, (n, 128), dtype=np.uint8)
            x[n_random:n_random + e] = 0
            x[n_random + e:n_random + 2 * e] = 1
        elif s.kind == "r":
            vals = rng.integers(-(1 << 31), 1 << 31, n, dtype=np.int64)
            small = rng.integers(0, 40, n)                            # shift counts, selectors
            vals = np.where(rng.random(n) < 0.5, small, vals)
            vals[n_random:] = np.resize(np.array(_EDGE_SCALARS, np.int64), n_edge)
            x = vals.astype("<i4").view(np.uint8).reshape(n, 4)
        else:
            x = rng.integers(0, 256, (n, s.width), dtype=np.uint8)
            # edge rows: the cross product of edge vectors over the first two vector inputs
            ids = np.arange(n_edge)
            pick = (ids // (e ** min(j, 1))) % e if j < 2 else rng.integers(0, e, n_edge)
            x[n_random:] = edges[pick][:, :s.width]
        out.append(x)
    if d.attrs["llvm"].startswith("V6_vlut"):
        _lut_indices(d, regs, out, case, n_random, rng)
    return n, out


def _lut_indices(d, regs, out, case, n_random, rng) -> None:
    """Half of the random vlut records get index bytes whose top bits equal the selector's match
    value (the other half mostly do not match), so both paths run."""
    sel_pos = [k for k, s in enumerate(regs) if s.kind == "r"]
    if sel_pos:
        sel = out[sel_pos[0]].view("<i4")[:, :1].astype(np.int64)
    else:
        sel = np.full((out[0].shape[0], 1), case.imms[-1], np.int64)
    idx_pos = [k for k, s in enumerate(regs) if s.kind == "v"][-2]      # Vu: the input before the table
    lut16 = "vlutvwh" in d.attrs["llvm"]
    bits, mask = (4, 0xF) if lut16 else (5, 0x7)
    half = n_random // 2
    low = rng.integers(0, 1 << bits, (half, 128))
    out[idx_pos][:half] = (((sel[:half] & mask) << bits) | low).astype(np.uint8)


def _expected(case, n, inputs) -> np.ndarray:
    d = case.d
    args, it, imms = [], iter(inputs), iter(case.imms)
    for s in d.ins:
        args.append(int(next(imms)) if s.is_imm else next(it))
    res = d.semantics(*args)
    res = res if isinstance(res, tuple) else (res,)
    rec = np.zeros((n, case.out_bytes), np.uint8)
    for s, at, value in zip(d.outs, slot_layout(d.outs), res):
        start = at + (case.offset if s.is_mem else 0)
        rec[:, start:start + s.width] = np.broadcast_to(np.asarray(value, np.uint8), (n, s.width))
    return rec


@pytest.fixture(scope="module")
def oracle_run():
    missing = [t for t in _TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (install clang-19, lld-19 and qemu-user 10 from bookworm-backports)")
    all_cases = cases()
    exe = compile_executable(harness_source(all_cases), flags=TARGET.base_flags, compiler=TARGET.compilers[0])
    rng = np.random.default_rng(20261205)
    per_form: dict[str, list] = {}
    for c in all_cases:
        per_form.setdefault(c.form, []).append(c)
    batches, plan = [], []
    for form, cs in per_form.items():
        n_random = -(-RANDOM_PER_FORM // len(cs))
        for c in cs:
            n, inputs = _inputs(c, n_random, rng)
            batches.append(encode_batch(c, n, inputs))
            plan.append((c, n, inputs, _expected(c, n, inputs)))
    proc = subprocess.run([*TARGET.emulator, str(exe)], input=b"".join(batches), capture_output=True, timeout=600)
    assert proc.returncode == 0, f"harness exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}"
    results, at = {}, 0
    for c, n, inputs, want in plan:
        size = want.size
        got = np.frombuffer(proc.stdout, np.uint8, size, at).reshape(want.shape)
        at += size
        results.setdefault(c.form, []).append((c, n, inputs, want, got))
    assert at == len(proc.stdout), f"harness wrote {len(proc.stdout) - at} unexpected bytes"
    return results


def _describe(case, inputs, row, want, got) -> str:
    regs = [s for s in case.d.ins if not s.is_imm]
    parts = [f"form {case.form} (imm {case.imms}, offset {case.offset}) record {row}:"]
    for k, (s, x) in enumerate(zip(regs, inputs)):
        parts.append(f"  in{k} ({s.kind}{s.width}): {x[row].tobytes().hex()}")
    bad = np.flatnonzero(want[row] != got[row])
    parts.append(f"  first differing output byte {bad[0]}: model {want[row].tobytes().hex()}")
    parts.append(f"  {' ' * 29}qemu  {got[row].tobytes().hex()}")
    return "\n".join(parts)


@pytest.mark.parametrize("form", sorted(ISA.instructions))
def test_form_matches_qemu(oracle_run, form):
    runs = oracle_run[form]
    assert sum(n for _, n, _, _, _ in runs) >= RANDOM_PER_FORM
    for case, _, inputs, want, got in runs:
        rows = np.flatnonzero((want != got).any(axis=1))
        assert rows.size == 0, _describe(case, inputs, rows[0], want, got) + f"\n  ({rows.size} records differ)"


def test_every_form_is_covered():
    """Every form of the ISA has at least one oracle case (and the harness source names it)."""
    all_cases = cases()
    assert {c.form for c in all_cases} == set(ISA.instructions)
    src = harness_source(all_cases)
    for c in all_cases:
        assert f"wb_case_{c.index}(const uint8_t *in" in src
