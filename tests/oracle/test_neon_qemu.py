"""Every NEON form against ``qemu-aarch64 -cpu max``, byte for byte, through both of its templates.

Oracle test of `isa_models.neon`. One static executable (tests/oracle/neon_qemu_harness.py)
holds, per form, a function generated from the form's own ``c`` template and one running its
``asm`` template as inline asm; it is built once with the aarch64_neon codegen target
(clang-19, every extension enabled) and run once under QEMU with every batch streamed through
stdin. Each form gets >= 1024 random records (spread over its immediates) plus edge records:
uniform fills and element-wise mixes of lane extremes at byte, half, word and doubleword
granularity (0, 1, 0x7f.., 0x80.., 0x81.., 0xfe.., 0xff..: wrap and saturation boundaries),
and per family: tbl/tbx indices around and past 16 * tables, sshl/ushl counts over
-esize-2..esize+2 with noise in the ignored bytes, narrows at the narrow type's bounds, fp32
specials (signed zeros, infinities, quiet and signalling NaNs with payloads, denormals) in
every ordered pair or triple, fmla near-cancellations and rounding ties, float-to-int
conversions at ties and at +-2^31. Register results are compared over all 16 bytes (a 64-bit
or scalar result must zero the rest), stores over their width plus 16 bytes that must keep the
sentinel. A failure names the form, the template and the first mismatching record.
`test_every_form_is_covered` keeps the family table complete. Skips (with the reason) when
clang-19, ld.lld-19 or qemu-aarch64 is missing; CI installs them.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from isa_models.neon import ISA
from kernels.codegen.build import compile_executable
from kernels.codegen.targets import get_target
from tests.oracle.neon_qemu_harness import encode_batch, expected_outputs, harness_source, imm_values, layout

pytestmark = pytest.mark.oracle

RANDOM_CASES = 1024
EMULATOR = ("qemu-aarch64", "-cpu", "max")
_TOOLS = ("clang-19", "ld.lld-19", "qemu-aarch64")

EDGE_BYTES = np.array([0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF], np.uint8)
EDGE_HALVES = np.array([0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF, 0x00FF, 0xFF00, 0x007F,
                        0xFF80], np.uint16)
EDGE_WORDS = np.array([0, 1, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0x0000FFFF,
                       0xFFFF0000, 0x00007FFF, 0xFFFF8000], np.uint32)
EDGE_DOUBLES = np.array([0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x8000000000000001,
                         0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0x00000000FFFFFFFF, 0xFFFFFFFF00000000,
                         0x000000007FFFFFFF, 0xFFFFFFFF80000000], np.uint64)
# fp32: +-0, +-inf, quiet and signalling NaNs (payloads, both signs), denormals (smallest,
# largest, mid), smallest normal, largest finite, 1, -1, 0.5, 1 + 2^-23, 2^-24, 3 * 2^-25,
# 2^127 (overflows when doubled), 2^-75 (underflows when squared)
EDGE_F32 = np.array([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                     0x7FC12345, 0xFFFFFFFF, 0x7F800001, 0xFF800001, 0x7FA5A5A5, 0x7FBFFFFF,
                     0x00000001, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000, 0x7F7FFFFF,
                     0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F000000, 0x3F800001, 0x33800000,
                     0x33C00000, 0x7F000000, 0x1A000000], np.uint32)
EDGE_I32 = np.array([0, 1, -1, 2**24 - 1, 2**24, 2**24 + 1, 2**24 + 2, 2**24 + 3, -(2**24 + 1),
                     -(2**24 + 3), 2**25 + 2, 2**25 + 6, 2**31 - 1, 2**31 - 64, 2**31 - 65, 2**31 - 63,
                     -2**31, -2**31 + 1, -2**31 + 64, 0x55555555, -0x55555555], np.int64)


# --------------------------------------------------------------------------------------------
# family-specific edge records: f(d, rng) -> (N, in_bytes) uint8 records


def _random_records(d, rng, n):
    return rng.integers(0, 256, (n, layout(d).in_bytes), dtype=np.uint8)


def _reg_inputs(d):
    """(position, offset, spec) of the inputs that are not immediates."""
    lay = layout(d)
    return [(j, lay.in_offsets[j], s) for j, s in enumerate(d.ins) if not s.is_imm]


def _tbl_edges(d, rng):
    """Index bytes around 16 * tables: in range, at the edge, past it, 0x7f/0x80/0xff."""
    n_tables = int(d.name[3])
    edge = 16 * n_tables
    pool = np.array([*range(edge + 8), edge - 1, edge, edge + 1, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFF], np.int64)
    recs = _random_records(d, rng, 512)
    _, off, _spec = _reg_inputs(d)[-1]
    recs[:, off:off + 16] = rng.choice(pool, (512, 16)).astype(np.uint8)
    return recs


def _shift_count_edges(d, rng):
    """Counts -esize-2..esize+2 and +-127/-128 in the low byte of each element; noise above it."""
    esize = {"16b": 8, "8b": 8, "8h": 16, "4h": 16, "4s": 32, "2s": 32, "2d": 64}[d.name.rsplit("_", 1)[1]]
    pool = np.array([*range(-esize - 2, esize + 3), -128, 127, -127], np.int64)
    recs = _random_records(d, rng, 512)
    _, off, _spec = _reg_inputs(d)[1]
    per = esize // 8
    counts = rng.choice(pool, (512, 16 // per)).astype(np.int8).view(np.uint8)
    recs[:, off:off + 16:per] = counts
    return recs


def _narrow_edges(d, rng):
    """Wide elements at the narrow type's bounds: +-2^(e-1) and 2^e with neighbours, 0, -1."""
    wide = next(s for s in d.attrs["arrangements"][1 + len(d.tied):])
    esize = {"8h": 16, "4s": 32, "2d": 64}[wide]
    e = esize // 2
    base = [0, -1, 1, 2**(e - 1), -2**(e - 1), 2**e, -2**e, 2**(esize - 1) - 1, -2**(esize - 1)]
    pool = np.array(sorted({b + k for b in base for k in (-2, -1, 0, 1, 2)
                            if -2**(esize - 1) <= b + k < 2**(esize - 1)}), dtype=object)
    t = {16: np.int16, 32: np.int32, 64: np.int64}[esize]
    recs = _random_records(d, rng, 512)
    _, off, _spec = _reg_inputs(d)[-1]
    vals = np.array(rng.choice(pool, (512, 128 // esize)).tolist(), dtype=np.int64).astype(t)
    recs[:, off:off + 16] = vals.view(np.uint8).reshape(512, 16)
    return recs


def _fp_edges(d, rng):
    """Every ordered pair (two fp inputs) or a sample of triples (fmla) of EDGE_F32, lane by
    lane, then edge values mixed with random finite floats; for fmla also near-cancellations
    c = -(a * b) rounded, plus or minus an ulp, and exact-tie sums."""
    regs = _reg_inputs(d)
    k = len(regs)
    if k == 2:
        combos = np.array(np.meshgrid(EDGE_F32, EDGE_F32, indexing="ij")).reshape(2, -1).T
    else:
        full = np.array(np.meshgrid(EDGE_F32, EDGE_F32, EDGE_F32, indexing="ij")).reshape(3, -1).T
        combos = full[rng.permutation(len(full))[:4096]]
        zero_inf = ((0, 0x7F800000), (0x80000000, 0xFF800000), (0x7F800000, 0), (0xFF800000, 0x80000000))
        qnan_zero_inf = np.array([[c, a, b] for c in (0x7FC00000, 0xFFC12345) for a, b in zero_inf], np.uint32)
        combos = np.concatenate([combos, qnan_zero_inf])
    combos = np.resize(combos, (-(-len(combos) // 4) * 4, k))
    special = combos.reshape(-1, 4, k)
    n = len(special) + 512
    recs = _random_records(d, rng, n)
    finite = rng.uniform(-4, 4, (512, 4, k)).astype(np.float32).view(np.uint32)
    mixed = np.where(rng.random(finite.shape) < 0.5, rng.choice(EDGE_F32, finite.shape), finite)
    lanes = np.concatenate([special, mixed]).astype(np.uint32)
    for pos, (_, off, _spec) in enumerate(regs):
        recs[:, off:off + 16] = np.ascontiguousarray(lanes[:, :, pos]).view(np.uint8).reshape(n, 16)
    if d.mnemonic == "fmla":
        recs = np.concatenate([recs, _fmla_rounding(d, rng)])
    return recs


def _fmla_rounding(d, rng):
    """Single-rounding stress for fmla. Half the records: acc = -(a*b) rounded to fp32, nudged
    by -2..2 ulps (cancellation: the fused result is the tiny exact remainder). The other half:
    a = 1 + u/4096 and b = 1 + v/4096 with u, v odd, so a*b has its lowest set bit at 2^-24,
    half an fp32 ulp in [1, 2): with acc a few ulps (m * 2^-23) the exact sum is a rounding tie."""
    n = 1024
    half = n // 2
    a = rng.uniform(1, 2, (n, 4)).astype(np.float32)
    b = rng.uniform(1, 2, (n, 4)).astype(np.float32)
    prod = a.astype(np.float64) * b.astype(np.float64)
    acc = ((-prod).astype(np.float32).view(np.int32) + rng.integers(-2, 3, (n, 4)).astype(np.int32)).view(np.float32)
    u, v = rng.integers(0, 2048, (2, half, 4)) * 2 + 1
    a[half:] = (1 + u / 4096).astype(np.float32)
    b[half:] = (1 + v / 4096).astype(np.float32)
    acc[half:] = (rng.integers(-8, 9, (half, 4)) * 2.0**-23).astype(np.float32)
    recs = _random_records(d, rng, n)
    lane_in = {0: acc, 1: a, 2: b}
    for pos, (_, off, _spec) in enumerate(_reg_inputs(d)[:3]):
        recs[:, off:off + 16] = np.ascontiguousarray(lane_in[pos]).view(np.uint8).reshape(n, 16)
    return recs


def _fcvt_edges(d, rng):
    """Floats at conversion boundaries: ties (k + 0.5), +-2^31 and neighbours, NaN, inf, denormals."""
    ties = (rng.integers(-1000, 1000, 256) + 0.5).astype(np.float32).view(np.uint32)
    bounds = np.array([2.0**31, -2.0**31, 2.0**31 - 128, -2.0**31 - 256, 2.0**32, 1e10, -1e10, 0.49999997,
                       0.5, 1.5, 2.5, -0.5, -1.5, -2.5], np.float32).view(np.uint32)
    pool = np.concatenate([ties, bounds, EDGE_F32])
    recs = _random_records(d, rng, 512)
    _, off, _spec = _reg_inputs(d)[0]
    recs[:, off:off + 16] = rng.choice(pool, (512, 4)).astype(np.uint32).view(np.uint8)
    return recs


def _cvt_edges(d, rng):
    """EDGE_I32 in every lane position, and integers next to powers of two past 2^24."""
    big = (np.int64(1) << rng.integers(24, 32, (256, 4))) + rng.integers(-8, 9, (256, 4))
    big *= rng.choice(np.array([-1, 1]), big.shape)
    pool = np.concatenate([EDGE_I32, big.reshape(-1)])
    recs = _random_records(d, rng, 512)
    _, off, _spec = _reg_inputs(d)[0]
    recs[:, off:off + 16] = rng.choice(pool, (512, 4)).astype(np.int64).astype(np.uint32).view(np.uint8)
    return recs


def _none(d, rng):
    return np.zeros((0, layout(d).in_bytes), np.uint8)


#: every mnemonic of the ISA -> its extra edge records (a new mnemonic fails
#: test_every_form_is_covered until it is listed here with the edges it needs)
FAMILY_EDGES = {
    **{mn: _none for mn in (
        "ld1", "st1", "ld1r", "dup", "movi", "ldr", "mov",
        "add", "sub", "neg", "abs", "mul", "mla", "mls", "smax", "smin", "umax", "umin",
        "saddl", "saddl2", "uaddl", "uaddl2", "ssubl", "ssubl2", "usubl", "usubl2", "saddw", "saddw2",
        "uaddw", "uaddw2", "ssubw", "ssubw2", "usubw", "usubw2", "smull", "smull2", "umull", "umull2",
        "smlal", "smlal2", "umlal", "umlal2", "smlsl", "smlsl2", "umlsl", "umlsl2", "sxtl", "sxtl2", "uxtl",
        "uxtl2", "sadalp", "uadalp", "saddlp", "uaddlp", "addp", "addv", "saddlv", "uaddlv",
        "sdot", "udot", "usdot", "sudot", "smmla", "ummla", "usmmla",
        "shl", "sshr", "ushr", "ssra", "usra", "sri", "sli",
        "and", "orr", "eor", "bic", "orn", "not", "bsl", "bit", "bif", "cnt",
        "zip1", "zip2", "uzp1", "uzp2", "trn1", "trn2", "ext", "rev16", "rev32", "rev64",
        "cmeq", "cmgt", "cmge", "cmhi", "cmhs", "cmtst", "cmle", "cmlt",
        "sqadd", "uqadd", "sqsub", "uqsub", "sqabs", "sqneg")},
    "tbl": _tbl_edges, "tbx": _tbl_edges,
    "sshl": _shift_count_edges, "ushl": _shift_count_edges,
    "xtn": _narrow_edges, "xtn2": _narrow_edges, "sqxtn": _narrow_edges, "sqxtn2": _narrow_edges,
    "sqxtun": _narrow_edges, "sqxtun2": _narrow_edges, "uqxtn": _narrow_edges, "uqxtn2": _narrow_edges,
    "fadd": _fp_edges, "fsub": _fp_edges, "fmul": _fp_edges, "fmla": _fp_edges,
    "scvtf": _cvt_edges, "ucvtf": _cvt_edges, "fcvtzs": _fcvt_edges, "fcvtns": _fcvt_edges,
}


def _generic_edges(d, rng) -> np.ndarray:
    """Uniform fills of edge bytes over the register/memory inputs (every combination, or 343
    sampled), and element-wise mixes of edge values at each granularity."""
    lay = layout(d)
    regs = _reg_inputs(d)
    if not regs:
        return np.zeros((0, lay.in_bytes), np.uint8)
    combos = np.array(np.meshgrid(*[EDGE_BYTES] * len(regs), indexing="ij")).reshape(len(regs), -1).T
    if len(combos) > 343:
        combos = combos[rng.permutation(len(combos))[:343]]
    fills = np.zeros((len(combos), lay.in_bytes), np.uint8)
    for pos, (_, off, spec) in enumerate(regs):
        width = 16 if not spec.is_mem else -(-spec.width // 16) * 16
        fills[:, off:off + width] = combos[:, pos:pos + 1]
    mixes = [rng.choice(EDGE_BYTES, (64, lay.in_bytes)),
             rng.choice(EDGE_HALVES, (64, lay.in_bytes // 2)).view(np.uint8),
             rng.choice(EDGE_WORDS, (64, lay.in_bytes // 4)).view(np.uint8),
             rng.choice(EDGE_DOUBLES, (64, lay.in_bytes // 8)).view(np.uint8)]
    return np.concatenate([fills, *[np.ascontiguousarray(m).reshape(64, lay.in_bytes) for m in mixes]])


def cases(d, rng) -> tuple[np.ndarray, np.ndarray]:
    """(input records (N, in_bytes), immediates (N,)) for form `d`."""
    imms = imm_values(d)
    per_imm = max(8, -(-RANDOM_CASES // len(imms)))
    random = _random_records(d, rng, per_imm * len(imms))
    edge = np.concatenate([_generic_edges(d, rng), FAMILY_EDGES[d.mnemonic](d, rng)])
    if len(imms) > 16 and len(edge) > 8192 // len(imms):       # wide immediate ranges: a sample each
        picks = [edge[rng.permutation(len(edge))[:max(64, 8192 // len(imms))]] for _ in imms]
    else:
        picks = [edge] * len(imms)
    inputs = np.concatenate([random, *picks])
    imm_col = np.concatenate([np.repeat(np.array(imms, np.int32), per_imm),
                              *[np.full(len(p), v, np.int32) for v, p in zip(imms, picks)]])
    return np.ascontiguousarray(inputs), imm_col


# --------------------------------------------------------------------------------------------
# the run


def _missing_tools() -> list[str]:
    return [t for t in _TOOLS if shutil.which(t) is None]


@pytest.fixture(scope="module")
def qemu_results():
    """name -> (kind -> QEMU output records, inputs, imms): one build and one QEMU run for all."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"NEON QEMU oracle needs {', '.join(missing)} (CI installs them)")
    target = get_target("aarch64_neon")
    defs = [ISA[n] for n in sorted(ISA.instructions)]
    compiler = target.compilers[0]
    exe = compile_executable(harness_source(defs, target.c_prelude),
                             flags=target.flags_for(("asimddp", "i8mm"), compiler), compiler=compiler)
    batches, plan = [], []
    for k, d in enumerate(defs):
        rng = np.random.default_rng(sum(map(ord, d.name)))          # fixed seed per form
        inputs, imms = cases(d, rng)
        for kind, fn in (("c", 2 * k), ("asm", 2 * k + 1)):
            batches.append(encode_batch(fn, inputs, imms))
            plan.append((d, kind, inputs, imms))
    proc = subprocess.run([*EMULATOR, str(exe)], input=b"".join(batches), capture_output=True, timeout=600)
    assert proc.returncode == 0, f"harness under QEMU exited {proc.returncode}: {proc.stderr.decode()[-2000:]}"
    results, at = {}, 0
    for d, kind, inputs, imms in plan:
        size = len(inputs) * layout(d).out_bytes
        got = np.frombuffer(proc.stdout, np.uint8, size, at).reshape(len(inputs), -1)
        at += size
        results.setdefault(d.name, {"inputs": inputs, "imms": imms})[kind] = got
    assert at == len(proc.stdout), "harness output longer than the batches asked for"
    return results


def test_every_form_is_covered():
    """Every form's mnemonic has its edge family here, and every form gets >= 1024 random
    records plus edges for each immediate (a new form cannot go unchecked)."""
    missing = sorted({d.mnemonic for d in ISA.instructions.values()} - set(FAMILY_EDGES))
    assert not missing, f"mnemonics without oracle edge cases (add them to FAMILY_EDGES): {missing}"
    rng = np.random.default_rng(0)
    for name in ("tbl4_16b", "sqxtn2_16b", "fmla_4s", "shl_2d", "movi_zero_16b"):
        inputs, imms = cases(ISA[name], rng)
        edges = 0 if name == "movi_zero_16b" else 300          # a form with inputs gets edge records
        assert len(inputs) >= RANDOM_CASES + edges, name
        assert set(np.unique(imms)) == set(imm_values(ISA[name])), name


@pytest.mark.parametrize("kind", ["c", "asm"])
@pytest.mark.parametrize("name", sorted(ISA.instructions))
def test_matches_qemu(name, kind, qemu_results):
    d = ISA[name]
    run = qemu_results[name]
    inputs, imms, got = run["inputs"], run["imms"], run[kind]
    assert len(inputs) >= RANDOM_CASES
    expected = expected_outputs(d, inputs, imms)
    bad = np.argwhere(got != expected)
    if len(bad):
        k, byte = bad[0]
        pytest.fail(f"{name} ({kind} template): {len(np.unique(bad[:, 0]))} of {len(inputs)} records differ; "
                    f"first: record {k} imm {imms[k]} byte {byte}: qemu {got[k].tobytes().hex()} model "
                    f"{expected[k].tobytes().hex()} inputs {inputs[k].tobytes().hex()}")
