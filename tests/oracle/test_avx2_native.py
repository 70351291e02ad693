"""Every AVX2 instruction form against this CPU: semantics vs native execution, byte for byte.

One C file exercises every `InstrDef` of `isa_models.avx2.ISA` through its own ``c`` template,
and a second one through its AT&T ``asm`` template as inline asm (so both templates are checked,
operand order included) over arrays of operand slots; it is compiled once per session
(VNNI forms in a second file with -mavx512vl -mavx512vnni). Each form gets >= 1024 random cases
plus edge cases (0x00/0x01/0x7f/0x80/0x81/0xfe/0xff fills and mixes at byte, word and dword
granularity, saturation boundaries of vpmaddubsw, fp32 specials for the float forms, shift counts
0..255 and huge xmm counts, every 8-bit immediate). Register results are compared over the full 32 bytes (xmm results must zero the
upper half), stores over their slot (bytes past the store must stay untouched).
"""

from __future__ import annotations

import ctypes
import platform
import shutil

import numpy as np
import pytest

from isa_models.avx2 import ISA
from kernels.codegen.build import compile_shared
from kernels.codegen.c_emit import render_c
from kernels.codegen.host import missing_cpu_flags
from kernels.codegen.targets import get_target

pytestmark = pytest.mark.oracle

SLOT = 32                      # bytes per operand slot
RANDOM_CASES = 1024
EDGE_BYTES = np.array([0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF], np.uint8)
EDGE_WORDS = np.array([0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF, 0x00FF, 0xFF00], np.uint16)
EDGE_DWORDS = np.array([0, 1, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0x0000FFFF,
                        0xFFFF0000, 0x00007FFF, 0xFFFF8000], np.uint32)
SHIFT_COUNTS = np.array([*range(0, 18), 31, 32, 33, 63, 64, 65, 255, 256, 1 << 32, (1 << 63) + 1,
                         (1 << 64) - 1], np.uint64)
SENTINEL = 0xA5
# fp32 bit patterns: +-0, +-inf, quiet and signalling NaNs with payloads and either sign, denormals
# (smallest, largest, mid), the smallest normal, the largest finite, 1, -1, 0.5, 1 + 2^-23, 2^-24
# (half an ulp of 1: 1 + 2^-24 ties to even), 3 * 2^-25, 2^127 (overflows when doubled), 2^-75
EDGE_F32 = np.array([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                     0x7FC12345, 0xFFFFFFFF, 0x7F800001, 0xFF800001, 0x7FA5A5A5, 0x7FBFFFFF,
                     0x00000001, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000, 0x7F7FFFFF,
                     0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F000000, 0x3F800001, 0x33800000,
                     0x33C00000, 0x7F000000, 0x1A000000], np.uint32)
# int32 for vcvtdq2ps: exact below 2^24, ties to even above it (2^24 + 1 -> 2^24, 2^24 + 3 ->
# 2^24 + 4, 2^25 + 2 -> 2^25, 2^31 - 64 -> 2^31), the extremes and their neighbours
EDGE_I32 = np.array([0, 1, -1, 2**24 - 1, 2**24, 2**24 + 1, 2**24 + 2, 2**24 + 3, -(2**24 + 1),
                     -(2**24 + 3), 2**25 + 2, 2**25 + 6, 2**31 - 1, 2**31 - 64, 2**31 - 65, 2**31 - 63,
                     -2**31, -2**31 + 1, -2**31 + 64, 0x55555555, -0x55555555], np.int64).astype(np.int32)

if platform.machine() not in ("x86_64", "AMD64"):
    pytest.skip("native AVX2 oracle needs an x86-64 host", allow_module_level=True)
if shutil.which("gcc") is None:
    pytest.skip("native AVX2 oracle needs gcc", allow_module_level=True)
if missing_cpu_flags(["avx2"]):
    pytest.skip("this CPU lacks AVX2", allow_module_level=True)


def _imm_values(d) -> list[int]:
    spec = next((s for s in d.ins if s.is_imm), None)
    return [0] if spec is None else list(range(1 << spec.width))


def _operand_exprs(d):
    ins = []
    for j, s in enumerate(d.ins):
        if s.is_imm:
            ins.append(None)                               # filled per immediate value
        elif s.is_mem:
            ins.append(f"(p + {SLOT * j})")
        else:
            ins.append(f"a{j}")
    outs = ["(q)" if s.is_mem else ("g0" if s.kind == "gpr" else "o0") for s in d.outs]
    return outs, ins


def _c_statement(d, imm_value: int) -> str:
    """The instruction through its C template, on the test function's variables."""
    outs, ins = _operand_exprs(d)
    return render_c(d, outs, [imm_value if x is None else x for x in ins])


def _test_function(d, prefix: str, statement) -> str:
    """C function ``<prefix>_<name>(in, out, imms, n)`` running `d` over n cases of operand slots."""
    n_in = max(1, len(d.ins))
    lines = [f"void {prefix}_{d.name}(const uint8_t *in, uint8_t *out, const int32_t *imms, long n) {{",
             "  for (long k = 0; k < n; k++) {",
             f"    const uint8_t *p = in + k * {SLOT * n_in}L; uint8_t *q = out + k * {SLOT}L;",
             "    __m256i o0 = _mm256_setzero_si256(); int64_t g0 = 0; (void)p; (void)q; (void)g0;"]
    for j, s in enumerate(d.ins):
        if not (s.is_imm or s.is_mem):
            lines.append(f"    __m256i a{j} = WB_LOAD256(p + {SLOT * j});")
    for j in d.tied:
        lines.append(f"    o0 = a{j};")
    imms = _imm_values(d)
    if len(imms) == 1:
        lines.append("    " + statement(d, 0))
    else:
        lines.append("    switch (imms[k]) {")
        lines += [f"    case {v}: {statement(d, v)} break;" for v in imms]
        lines.append("    }")
    spec = d.outs[0]
    if spec.kind == "gpr":
        lines.append("    memcpy(q, &g0, 8);")
    elif not spec.is_mem:
        lines.append("    _mm256_storeu_si256((__m256i *)q, o0);")
    lines += ["  }", "}"]
    return "\n".join(lines)


def _asm_statement(d, imm_value: int) -> str:
    """Inline asm running `d`'s AT&T template on C variables (gcc operand modifiers pick ymm/xmm)."""
    outs, ins, fo, fi = [], [], [], []
    tied = set(d.tied)
    for k, spec in enumerate(d.outs):
        if spec.is_mem:
            outs.append(f'[o{k}] "=m"(*(uint8_t (*)[{spec.width}])q)')
            fo.append(f"%[o{k}]")
        elif spec.kind == "gpr":
            outs.append(f'[o{k}] "=r"(g0)')
            fo.append(f"%q[o{k}]")
        else:
            outs.append(f'[o{k}] "{"+" if tied else "="}x"(o0)')
            fo.append(f"%{'x' if spec.width == 16 else 't'}[o{k}]")
    for j, spec in enumerate(d.ins):
        if j in tied:
            fi.append(None)
        elif spec.is_imm:
            ins.append(f'[i{j}] "i"({imm_value})')
            fi.append(f"%[i{j}]")
        elif spec.is_mem:
            ins.append(f'[i{j}] "m"(*(const uint8_t (*)[{spec.width}])(p + {SLOT * j}))')
            fi.append(f"%[i{j}]")
        else:
            ins.append(f'[i{j}] "x"(a{j})')
            fi.append(f"%{'x' if spec.width == 16 else 't'}[i{j}]")
    fields = {f"o{k}": v for k, v in enumerate(fo)}
    fields.update({f"i{j}": v for j, v in enumerate(fi) if v is not None})
    text = d.asm.format(**fields)
    return f'__asm__("{text}" : {", ".join(outs)} : {", ".join(ins)});'


def _library(defs, required, *, asm: bool = False):
    target = get_target("x86_avx2")
    prefix, statement = ("s", _asm_statement) if asm else ("t", _c_statement)
    source = target.c_prelude + "\n" + "\n\n".join(_test_function(d, prefix, statement) for d in defs) + "\n"
    lib = ctypes.CDLL(str(compile_shared(source, flags=("-O1",) + target.flags_for(required)[1:],
                                         compiler=target.compilers[0])))
    for d in defs:
        getattr(lib, f"{prefix}_{d.name}").argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_long]
    return lib


@pytest.fixture(scope="module")
def libraries():
    """(template kind, name) -> compiled library with its test function; forms this CPU cannot
    run are absent. Kind "c" runs the C template, "asm" the AT&T template via inline asm."""
    libs = {}
    groups: dict[tuple, list] = {}
    for d in ISA.instructions.values():
        groups.setdefault(tuple(d.attrs.get("requires", ())), []).append(d)
    for required, defs in groups.items():
        if missing_cpu_flags(required):
            continue
        for kind in ("c", "asm"):
            lib = _library(defs, required, asm=kind == "asm")
            libs.update({(kind, d.name): lib for d in defs})
    return libs


# --------------------------------------------------------------------------------------------
# cases


def _maddubs_boundary(rng, n):
    """Byte pairs whose u8*s8 pair sum lands on or next to the int16 saturation bounds."""
    products: dict[int, list[tuple[int, int]]] = {}
    for a in range(256):
        for b in range(-128, 128):
            products.setdefault(a * b, []).append((a, b))
    cases = np.zeros((n, SLOT * 2), np.uint8)
    for k in range(n):
        for pair in range(16):
            target = int(rng.choice([32766, 32767, 32768, 32769, -32767, -32768, -32769, -32770]))
            while True:
                a0, b0 = int(rng.integers(128, 256)), int(rng.integers(100, 128)) * (1 if target > 0 else -1)
                options = products.get(target - a0 * b0)
                if options:
                    break
            a1, b1 = options[int(rng.integers(len(options)))]
            cases[k, 2 * pair:2 * pair + 2] = [a0, a1]
            cases[k, SLOT + 2 * pair:SLOT + 2 * pair + 2] = np.array([b0, b1]).astype(np.int8).view(np.uint8)
    return cases


def _fp32_edges(rng, n_in):
    """fp32 specials: with two inputs every ordered pair of EDGE_F32 values (lane by lane, so each
    NaN meets each other value as src1 and as src2), with one input each value in every lane; then
    edge values mixed lane by lane with random finite floats."""
    if n_in == 2:
        pairs = np.array(np.meshgrid(EDGE_F32, EDGE_F32, indexing="ij")).reshape(2, -1).T
        pairs = np.resize(pairs, (-(-len(pairs) // 8) * 8, 2))       # whole cases of 8 lanes
        special = pairs.reshape(-1, 8, 2).transpose(0, 2, 1).reshape(-1, 16)
    else:
        special = np.repeat(EDGE_F32[:, None], 8, axis=1)
    finite = rng.uniform(-4, 4, (256, 8 * n_in)).astype(np.float32).view(np.uint32)
    mixed = np.where(rng.random(finite.shape) < 0.5, rng.choice(EDGE_F32, finite.shape), finite)
    return np.ascontiguousarray(np.concatenate([special, mixed]).astype(np.uint32)).view(np.uint8)


def _cvt_edges(rng, n_in):
    """EDGE_I32 rotated through every lane, and random int32 next to powers of two past 2^24."""
    rolled = np.stack([np.roll(np.resize(EDGE_I32, 8), k) for k in range(len(EDGE_I32))])
    big = (np.int64(1) << rng.integers(24, 31, (256, 8))) + rng.integers(-8, 9, (256, 8))
    big *= rng.choice(np.array([-1, 1]), big.shape)
    return np.ascontiguousarray(np.concatenate([rolled, big]).astype(np.int32)).view(np.uint8)


#: Extra edge cases per mnemonic: f(rng, number of inputs) -> (N, SLOT * n_in) bytes (a memory
#: input narrower than 32 bytes reads the front of its slot).
EDGE_HOOKS = {
    "vpmaddubsw": lambda rng, n_in: _maddubs_boundary(rng, 128),
    "vaddps": _fp32_edges, "vsubps": _fp32_edges, "vmulps": _fp32_edges,
    "vbroadcastss": _fp32_edges, "vcvtdq2ps": _cvt_edges,
}


def _cases(d, rng):
    """(inputs (N, SLOT*n_in) uint8, imms (N,) int32) for instruction `d`."""
    n_in = max(1, len(d.ins))
    imms = _imm_values(d)
    per_imm = max(8, -(-RANDOM_CASES // len(imms)))
    blocks = []
    # random
    blocks.append(rng.integers(0, 256, (per_imm * len(imms), SLOT * n_in), dtype=np.uint8))
    # uniform fills of edge bytes, every combination over the operands (capped)
    combos = np.array(np.meshgrid(*[EDGE_BYTES] * n_in, indexing="ij")).reshape(n_in, -1).T
    blocks.append(np.repeat(combos, SLOT, axis=1).astype(np.uint8))
    # mixes of edge values at byte / word / dword granularity
    blocks.append(rng.choice(EDGE_BYTES, (64, SLOT * n_in)))
    blocks.append(rng.choice(EDGE_WORDS, (64, SLOT * n_in // 2)).view(np.uint8))
    blocks.append(rng.choice(EDGE_DWORDS, (64, SLOT * n_in // 4)).view(np.uint8))
    if d.mnemonic in EDGE_HOOKS:
        blocks.append(EDGE_HOOKS[d.mnemonic](rng, n_in))
    edge = np.concatenate(blocks[1:], axis=0)
    # every immediate gets the full edge set; random cases are spread over the immediates
    inputs = np.concatenate([blocks[0], np.tile(edge, (len(imms), 1))], axis=0)
    imm_col = np.concatenate([np.repeat(np.array(imms, np.int32), per_imm),
                              np.repeat(np.array(imms, np.int32), len(edge))])
    count_op = d.attrs.get("count_operand")
    if count_op is not None:                                   # xmm shift counts: small and huge
        half = rng.random(len(inputs)) < 0.75
        counts = inputs[:, SLOT * count_op:SLOT * count_op + 8].copy().view(np.uint64)[:, 0]
        counts[half] = rng.choice(SHIFT_COUNTS, int(half.sum()))
        inputs[:, SLOT * count_op:SLOT * count_op + 8] = counts[:, None].view(np.uint8)
    return np.ascontiguousarray(inputs), np.ascontiguousarray(imm_col)


def _expected(d, inputs, imms):
    spec = d.outs[0]
    width = SLOT if spec.kind == "ymm" else spec.width
    expected = np.full((len(inputs), SLOT), SENTINEL, np.uint8)
    if not spec.is_mem:
        expected[:, :width] = 0
    for v in np.unique(imms):
        rows = imms == v
        args = []
        for j, s in enumerate(d.ins):
            if s.is_imm:
                args.append(int(v))
            else:
                args.append(np.ascontiguousarray(inputs[rows, SLOT * j:SLOT * j + s.width]))
        out = d.semantics(*args)
        assert out.dtype == np.uint8 and out.shape[1] == spec.width, (d.name, out.shape)
        expected[rows, :spec.width] = out
    return expected


@pytest.mark.parametrize("kind", ["c", "asm"])
@pytest.mark.parametrize("name", sorted(ISA.instructions))
def test_matches_native(name, kind, libraries):
    d = ISA[name]
    if (kind, name) not in libraries:
        pytest.skip(f"this CPU lacks {', '.join(missing_cpu_flags(d.attrs.get('requires', ())))}")
    rng = np.random.default_rng(sum(map(ord, name)))          # fixed seed per form
    inputs, imms = _cases(d, rng)
    assert len(inputs) >= RANDOM_CASES
    out = np.full((len(inputs), SLOT), SENTINEL, np.uint8)
    prefix = "t" if kind == "c" else "s"
    getattr(libraries[kind, name], f"{prefix}_{name}")(inputs.ctypes.data, out.ctypes.data,
                                                       imms.ctypes.data, len(inputs))
    expected = _expected(d, inputs, imms)
    bad = np.argwhere(out != expected)
    if len(bad):
        k, byte = bad[0]
        pytest.fail(f"{name} ({kind} template): {len(np.unique(bad[:, 0]))} of {len(inputs)} cases differ; "
                    f"first: case {k} imm {imms[k]} byte {byte}: native {out[k].tobytes().hex()} model "
                    f"{expected[k].tobytes().hex()} inputs {inputs[k].tobytes().hex()}")
