"""The BitNet fork's GGUF (the official `ggml-model-i2_s.gguf` layout): read, run, inspect, refuse.

Nothing is downloaded: `write_fork_gguf` below builds a small file in exactly that layout with its
own GGUF v3 serializer (struct, not gguf-py, so the reader is checked against an independent
writer). The layout, from the fork's sources and a loader dump of the official file:
- metadata: the 24 keys of the official file in its order (ikawrakow/ik_llama.cpp issue #365:
  general.architecture "bitnet-b1.58", general.file_type 40 = LLAMA_FTYPE_MOSTLY_I2_S, rope, head
  counts, a gpt2 tokenizer), no key_length (head_dim = embedding_length / head_count);
- tensors: token_embd.weight F16 (1), norms F32 (0), the 7 projections per layer I2_S = 36, no
  output.weight (tied), output_norm.weight last; 121 f32 + 1 f16 + 210 i2_s for 2B-4T;
- an I2_S tensor is ne = [K, M] and n/4 + 32 bytes: codes packed as quantize_i2_s does from float
  weights (microsoft/BitNet src/ggml-bitnet-mad.cpp, ACT_PARALLEL x86 branch: scale = max|w| in
  double, code 1 for |w| < 1e-6, else 2 or 0 by sign; element j of a 128-block in bits
  6-2(j/32) of byte j%32), the fp32 scale at byte n/4, then 28 bytes the reader must ignore;
- data aligned to 32 bytes (GGUF default; ggml_nbytes n/4 + 32 keeps every offset aligned).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from workbench.cli import main
from workbench.formats import ModelFileError
from workbench.formats.gguf_io import save_gguf, tensor_names
from workbench.formats.i2s import I2S_X86
from workbench.formats.model_io import file_formats, load_model
from workbench.reference import forward, get_preset, random_weights

TINY = get_preset("tiny")
ARCH = "bitnet-b1.58"
_PROJ = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "gate": "ffn_gate",
         "up": "ffn_up", "down": "ffn_down"}
_NORM = {"input_norm": "attn_norm", "attn_sub_norm": "attn_sub_norm", "post_attn_norm": "ffn_norm",
         "ffn_sub_norm": "ffn_sub_norm"}

# GGUF value types (gguf spec): uint32 4, int32 5, float32 6, bool 7, string 8, array 9
_U32, _I32, _F32, _BOOL, _STR, _ARR = 4, 5, 6, 7, 8, 9


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, vtype: int, value) -> bytes:
    out = _s(key) + struct.pack("<I", vtype)
    if vtype == _STR:
        return out + _s(value)
    if vtype == _ARR:
        itype, items = value
        out += struct.pack("<IQ", itype, len(items))
        return out + b"".join(_s(x) if itype == _STR else struct.pack({_F32: "<f", _I32: "<i"}[itype], x)
                              for x in items)
    return out + struct.pack({_U32: "<I", _I32: "<i", _F32: "<f", _BOOL: "<?"}[vtype], value)


def quantize_i2_s(w: np.ndarray) -> bytes:
    """The fork's quantize_i2_s (x86 ACT_PARALLEL) on float weights, tail bytes 4..31 junk."""
    flat = w.reshape(-1).astype(np.float64)
    n = flat.size
    scale = np.abs(flat).max()
    q = np.where(np.abs(flat) < 1e-6, 1, np.where(flat * scale > 0, 2, 0)).astype(np.uint8)
    out = np.zeros(n // 4 + 32, dtype=np.uint8)
    for j in range(128):                         # element j of every 128-block
        out[:n // 4].reshape(-1, 32)[:, j % 32] |= q.reshape(-1, 128)[:, j] << (6 - 2 * (j // 32))
    out[n // 4:n // 4 + 4] = np.frombuffer(struct.pack("<f", scale), np.uint8)
    out[n // 4 + 4:] = 0xA5                      # not part of the format: must not be read
    return out.tobytes()


def fork_tensors(weights) -> list[tuple[str, list[int], int, bytes]]:
    """(name, ne, type id, bytes) in the official file's order."""
    out = [("token_embd.weight", [weights.config.hidden_size, weights.config.vocab_size], 1,
            weights.embed.astype("<f2").tobytes())]
    for i, layer in enumerate(weights.layers):
        for key, n in _NORM.items():
            v = getattr(layer, key)
            out.append((f"blk.{i}.{n}.weight", [v.size], 0, v.astype("<f4").tobytes()))
        for p, lin in layer.projections():
            m, k = lin.shape
            w = lin.codes.astype(np.float32) * lin.gamma      # the f32 GGUF llama-quantize reads
            out.append((f"blk.{i}.{_PROJ[p]}.weight", [k, m], 36, quantize_i2_s(w)))
    out.append(("output_norm.weight", [weights.final_norm.size], 0,
                weights.final_norm.astype("<f4").tobytes()))
    return out


def fork_metadata(config) -> list[bytes]:
    a, c = ARCH, config
    toks = [f"<t{i}>" for i in range(c.vocab_size)]
    return [
        _kv("general.architecture", _STR, a), _kv("general.name", _STR, "bitnet2b"),
        _kv(f"{a}.vocab_size", _U32, c.vocab_size), _kv(f"{a}.context_length", _U32, c.max_position),
        _kv(f"{a}.embedding_length", _U32, c.hidden_size), _kv(f"{a}.block_count", _U32, c.num_layers),
        _kv(f"{a}.feed_forward_length", _U32, c.intermediate_size),
        _kv(f"{a}.rope.dimension_count", _U32, c.head_dim),
        _kv(f"{a}.attention.head_count", _U32, c.num_heads),
        _kv(f"{a}.attention.head_count_kv", _U32, c.num_kv_heads),
        _kv("tokenizer.ggml.add_bos_token", _BOOL, True),
        _kv(f"{a}.attention.layer_norm_rms_epsilon", _F32, c.rms_norm_eps),
        _kv(f"{a}.rope.freq_base", _F32, c.rope_theta), _kv("general.file_type", _U32, 40),
        _kv("tokenizer.ggml.model", _STR, "gpt2"), _kv("tokenizer.ggml.tokens", _ARR, (_STR, toks)),
        _kv("tokenizer.ggml.scores", _ARR, (_F32, [0.0] * c.vocab_size)),
        _kv("tokenizer.ggml.token_type", _ARR, (_I32, [1] * c.vocab_size)),
        _kv("tokenizer.ggml.merges", _ARR, (_STR, ["<t1> <t2>"])),
        _kv("tokenizer.ggml.bos_token_id", _U32, c.bos_token_id),
        _kv("tokenizer.ggml.eos_token_id", _U32, c.eos_token_id),
        _kv("tokenizer.ggml.padding_token_id", _U32, c.eos_token_id),
        _kv("tokenizer.chat_template", _STR, "{% for m in messages %}{{ m }}{% endfor %}"),
        _kv("general.quantization_version", _U32, 2),
    ]


def write_fork_gguf(path, weights, *, tensors=None, metadata=None, cut: int | None = None):
    """Serialize a GGUF v3 file: header, metadata, tensor infos, data aligned to 32 bytes."""
    tensors = fork_tensors(weights) if tensors is None else tensors
    kvs = fork_metadata(weights.config) if metadata is None else metadata
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    infos, offset = b"", 0
    for name, ne, tid, data in tensors:
        infos += _s(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        infos += struct.pack("<IQ", tid, offset)
        offset += -(-len(data) // 32) * 32
    blob = head + infos
    blob += b"\0" * (-len(blob) % 32)
    for _name, _ne, _tid, data in tensors:
        blob += data + b"\0" * (-len(data) % 32)
    path.write_bytes(blob[:cut] if cut is not None else blob)
    return path


@pytest.fixture(scope="module")
def tiny():
    return random_weights(TINY, seed=5)


@pytest.fixture(scope="module")
def fork_file(tmp_path_factory, tiny):
    return write_fork_gguf(tmp_path_factory.mktemp("fork") / "ggml-model-i2_s.gguf", tiny)


def test_the_test_writer_packs_as_the_workbench_i2s_x86_format(tiny):
    lin = tiny.layers[1].down
    ours = quantize_i2_s(lin.codes.astype(np.float32) * lin.gamma)
    ref = I2S_X86.pack(lin.codes, gamma=lin.gamma).tobytes()
    n = lin.codes.size
    assert ours[:n // 4 + 4] == ref[:n // 4 + 4]          # codes and the fp32 scale
    assert ours[n // 4 + 4:] != ref[n // 4 + 4:]           # the junk tail differs


def test_fork_file_loads_codes_and_scales_exactly(fork_file, tiny):
    back = load_model(fork_file)
    c = back.config
    assert (c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size) == \
        (TINY.hidden_size, TINY.num_layers, TINY.num_heads, TINY.num_kv_heads, TINY.head_dim,
         TINY.vocab_size)
    assert c.name == "bitnet2b" and c.tie_embeddings and back.lm_head is None
    assert c.rms_norm_eps == float(np.float32(TINY.rms_norm_eps)) and c.rope_theta == TINY.rope_theta
    for la, lb in zip(tiny.layers, back.layers, strict=True):
        for p, lin in la.projections():
            got = lb.projection(p)
            assert np.array_equal(got.codes, lin.codes), p
            assert got.gamma.tobytes() == lin.gamma.tobytes(), p
        for key in _NORM:
            assert np.array_equal(getattr(la, key), getattr(lb, key))
    assert np.array_equal(back.embed, tiny.embed.astype(np.float16).astype(np.float32))
    assert back.meta["weight_types"] == ["i2_s_fork"] and back.meta["architecture"] == ARCH
    assert back.meta["formats"] == {"ternary": "i2s_x86", "embedding": "f16", "lm_head": None}


def test_fork_file_runs_like_the_same_weights(fork_file, tiny):
    """Same codes, gammas and norms, embedding rounded to f16 as the file holds it."""
    back = load_model(fork_file)
    ref = random_weights(TINY, seed=5)
    ref.embed = ref.embed.astype(np.float16).astype(np.float32)
    ids = np.array([1, 7, 300])
    assert np.array_equal(forward(back, ids), forward(ref, ids))


def test_file_formats_of_the_fork_file(fork_file):
    info = file_formats(fork_file)
    assert info["ternary"] == "i2s_x86" and info["embedding"] == "f16" and info["lm_head"] is None
    assert info["config"].projection_shapes() == TINY.projection_shapes()


def test_workbench_run_and_inspect_the_fork_file(fork_file, capsys):
    assert main(["run", "--model-file", str(fork_file), "--prompt-ids", "1,2", "--max-new-tokens", "2"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.split(",")) == 2 and all(0 <= int(t) < TINY.vocab_size for t in out.split(","))
    assert main(["formats", "inspect", str(fork_file)]) == 0
    out = capsys.readouterr().out
    assert f"architecture {ARCH}" in out and "BitNet fork" in out
    m, k = TINY.projection_shape("gate")
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["blk.1.ffn_gate.weight"])
    assert row[:4] == ["blk.1.ffn_gate.weight", "I2_S(36)", f"[{m},", f"{k}]"]
    assert row[4] == f"{m * k // 4 + 32:,}"
    assert "F16" in next(line for line in out.splitlines() if "token_embd.weight" in line)


def test_save_gguf_i2s_fork_writes_the_same_layout(tmp_path, tiny, fork_file):
    """save_gguf(weight_type="i2_s_fork"): same tensor names, types, shapes and data as the
    independent writer's file (its tail bytes 4..31 are zeros, not junk), and the same model keys."""
    from workbench.formats.gguf_reader import ForkAwareReader

    ours = ForkAwareReader(save_gguf(tiny, tmp_path / "ours.gguf", weight_type="i2_s_fork"))
    ref = ForkAwareReader(fork_file)
    assert ours.fork and ref.fork
    assert [(t.name, t.type_id, t.shape, t.n_bytes) for t in ours.tensors] == \
        [(t.name, t.type_id, t.shape, t.n_bytes) for t in ref.tensors]
    for a, b in zip(ours.tensors, ref.tensors, strict=True):
        n = a.n_bytes - 28 if a.type_id == 36 else a.n_bytes     # I2_S: codes and the fp32 scale
        assert bytes(a.raw[:n]) == bytes(b.raw[:n]), a.name
    model_keys = {k for k in ref.fields if k.startswith((ARCH + ".", "general.")) and k != "general.name"}
    assert model_keys <= set(ours.fields)
    for key in model_keys:
        assert ours.fields[key].contents() == ref.fields[key].contents(), key
    assert all(t.data_offset % 32 == 0 for t in ours.tensors)
    assert set(tensor_names(TINY)) == {t.name for t in ours.tensors}


def test_reader_reads_metadata_arrays_as_gguf_py_does(tmp_path, tiny):
    """ForkAwareReader's one-pass array parsing gives gguf-py's fields (a file gguf-py can read:
    the fork's metadata with one F32 tensor)."""
    import gguf

    from workbench.formats.gguf_reader import ForkAwareReader

    path = write_fork_gguf(tmp_path / "meta.gguf", tiny, tensors=[("x", [4], 0, b"\0" * 16)])
    ours, ref = ForkAwareReader(path), gguf.GGUFReader(str(path))
    assert list(ours.fields) == list(ref.fields)
    for key, field in ref.fields.items():
        got = ours.fields[key]
        assert (got.types, got.data, got.contents()) == (field.types, field.data, field.contents()), key
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got.parts, field.parts))
    assert len(ours.fields["tokenizer.ggml.tokens"].contents()) == TINY.vocab_size


def test_untied_fork_file_reads_output_weight(tmp_path):
    import dataclasses

    cfg = dataclasses.replace(TINY, name="untied", tie_embeddings=False, num_layers=1)
    w = random_weights(cfg, seed=3)
    tensors = fork_tensors(w)
    head = w.lm_head.astype("<f2").tobytes()
    tensors.insert(1, ("output.weight", [cfg.hidden_size, cfg.vocab_size], 1, head))
    back = load_model(write_fork_gguf(tmp_path / "u.gguf", w, tensors=tensors))
    assert not back.config.tie_embeddings
    assert np.array_equal(back.lm_head, w.lm_head.astype(np.float16).astype(np.float32))
    assert file_formats(tmp_path / "u.gguf")["lm_head"] == "f16"


# --- corrupt variants: one line naming the file and the problem, exit code 2 -------------------

def _replace(tensors, name, **change):
    out = []
    for t in tensors:
        if t[0] == name:
            n, ne, tid, data = t
            t = (n, change.get("ne", ne), change.get("tid", tid), change.get("data", data))
        out.append(t)
    return out


def _nan_scale(tensors, name):
    t = next(t for t in tensors if t[0] == name)
    data = bytearray(t[3])
    n = len(data) - 32
    data[n:n + 4] = struct.pack("<f", float("nan"))
    return _replace(tensors, name, data=bytes(data))


def _first_byte(tensors, name, value):
    data = next(t for t in tensors if t[0] == name)[3]
    return _replace(tensors, name, data=bytes([value]) + data[1:])


_Q = "blk.1.attn_k.weight"
_M, _K = TINY.projection_shape("k")


@pytest.mark.parametrize("case, make, message", [
    ("truncated", lambda w: dict(cut=-1000), "truncated"),
    ("truncated-header", lambda w: dict(cut=200), "not a readable GGUF file"),
    ("bad-type-id", lambda w: dict(tensors=_replace(fork_tensors(w), _Q, tid=41)),
     f"tensor '{_Q}' has type id 41, unknown in the BitNet fork's type table"),
    ("tl1-type", lambda w: dict(tensors=_replace(fork_tensors(w), _Q, tid=38)),
     f"tensor '{_Q}' has the BitNet fork's type TL1 (id 38)"),
    ("scale-nan", lambda w: dict(tensors=_nan_scale(fork_tensors(w), _Q)), f"tensor '{_Q}' (I2_S"),
    ("wrong-shape", lambda w: dict(tensors=_replace(fork_tensors(w), _Q, ne=[_M, _K])),
     f"tensor '{_Q}' has shape [{_K}, {_M}], expected [{_M}, {_K}]"),
    ("missing-tensor", lambda w: dict(tensors=[t for t in fork_tensors(w) if t[0] != _Q]),
     f"missing tensor '{_Q}'"),
    ("bad-code", lambda w: dict(tensors=_first_byte(fork_tensors(w), _Q, 0xFF)), "code 3"),
    ("bad-arch", lambda w: dict(metadata=[_kv("general.architecture", _STR, "llama")]
                                + fork_metadata(w.config)[1:]), "architecture is 'llama'"),
])
def test_corrupt_fork_files_are_one_line_exit_2(tmp_path, tiny, capsys, case, make, message):
    kwargs = make(tiny)
    if kwargs.get("cut", 0) < 0:
        full = write_fork_gguf(tmp_path / "full.gguf", tiny).stat().st_size
        kwargs["cut"] = full + kwargs["cut"]
    path = write_fork_gguf(tmp_path / f"{case}.gguf", tiny, **kwargs)
    with pytest.raises(ModelFileError) as e:
        load_model(path)
    assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)
    assert main(["run", "--model-file", str(path), "--max-new-tokens", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_scale_nan_message_names_the_scale(tmp_path, tiny):
    path = write_fork_gguf(tmp_path / "nan.gguf", tiny, tensors=_nan_scale(fork_tensors(tiny), _Q))
    with pytest.raises(ModelFileError, match=r"scale at byte \d+ is nan"):
        load_model(path)
