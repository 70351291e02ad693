"""ggml type ids (upstream and the BitNet fork's), dense embedding types, and `file_formats`.

Ids and block sizes are checked against gguf-py's own table (upstream) and the fork's
ggml.h numbering (research/kernels.md §1.6: TQ1_0 34, TQ2_0 35, I2_S 36, I8_S 37, TL1 38, TL2 39).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

from workbench.errors import UnknownNameError
from workbench.formats import ModelFileError
from workbench.formats.ggml_types import format_name, resolve
from workbench.formats.gguf_io import load_gguf, save_gguf
from workbench.formats.hf_io import save_hf_checkpoint
from workbench.formats.model_io import file_formats
from workbench.reference import get_preset, random_weights

TINY = get_preset("tiny")


@pytest.fixture(scope="module")
def tiny():
    return random_weights(TINY, seed=9)


@pytest.mark.parametrize("tid, fork, name, fmt", [
    (0, False, "F32", "f32"), (1, True, "F16", "f16"), (30, False, "BF16", "bf16"),
    (8, False, "Q8_0", "q8_0"), (14, False, "Q6_K", "q6_K"), (2, False, "Q4_0", "q4_0"),
    (12, True, "Q4_K", "q4_K"), (35, True, "TQ2_0", "tq2_0"), (34, False, "TQ1_0", "tq1_0"),
    (36, True, "I2_S", "i2s_x86"), (38, True, "TL1", "tl1"), (39, True, "TL2", "tl2"),
    (39, False, "MXFP4", "mxfp4"),
])
def test_type_ids_by_table(tid, fork, name, fmt):
    t = resolve(tid, fork=fork)
    assert (t.id, t.name, format_name(t)) == (tid, name, fmt)
    if not t.fork:
        assert (t.block, t.block_bytes) == GGML_QUANT_SIZES[GGMLQuantizationType(tid)]


def test_unknown_ids_and_fork_sizes():
    assert resolve(36, fork=False) is None and resolve(40, fork=True) is None
    assert resolve(10_000, fork=False) is None
    i2s = resolve(36, fork=True)
    assert i2s.nbytes(256 * 128) == 256 * 128 // 4 + 32
    assert resolve(38, fork=True).nbytes(512) == 512 // 4 + 32
    assert resolve(39, fork=True).nbytes(512) is None          # TL2: size from its kernel tiling
    assert resolve(14, fork=False).nbytes(512) == 2 * 210


@pytest.mark.parametrize("wt, embed_type, ternary", [
    ("i2_s", "f32", "i2s_x86"), ("tq2_0", "q8_0", "tq2_0"), ("tq1_0", "bf16", "tq1_0"),
    ("i2_s_fork", "f16", "i2s_x86"), ("i2_s_fork", "q4_0", "i2s_x86"),
])
def test_file_formats_of_gguf_files(tmp_path, tiny, wt, embed_type, ternary):
    path = save_gguf(tiny, tmp_path / "m.gguf", weight_type=wt, embed_type=embed_type)
    info = file_formats(path)
    assert (info["ternary"], info["embedding"], info["lm_head"]) == (ternary, embed_type, None)
    assert info["config"].projection_shapes() == TINY.projection_shapes()
    back = load_gguf(path)
    assert back.meta["formats"] == {"ternary": ternary, "embedding": embed_type, "lm_head": None}


def test_quantized_embedding_loads_as_the_values_it_encodes(tmp_path, tiny):
    """A q8_0 embedding: the loaded fp32 table is gguf-py's dequantization of the stored blocks,
    within a q8_0 step of the original, and the ternary weights are untouched."""
    import gguf

    path = save_gguf(tiny, tmp_path / "q8.gguf", weight_type="i2_s", embed_type="q8_0")
    back = load_gguf(path)
    expect = gguf.quants.dequantize(gguf.quants.quantize(tiny.embed, GGMLQuantizationType.Q8_0),
                                    GGMLQuantizationType.Q8_0)
    assert np.array_equal(back.embed, expect)
    # q8_0: d = amax/127 stored as fp16 (relative error <= 2^-11), q = round(x/d) in [-127, 127]:
    # |x - fp16(d) q| <= d/2 + 127 |d - fp16(d)|
    step = np.abs(tiny.embed).reshape(-1, 32).max(axis=1) / 127
    err = np.abs(back.embed - tiny.embed).reshape(-1, 32).max(axis=1)
    assert (err <= step * (0.5 + 127 * 2.0**-11) + 1e-7).all()
    assert not np.array_equal(back.embed, tiny.embed)
    assert np.array_equal(back.layers[1].up.codes, tiny.layers[1].up.codes)


def test_untied_lm_head_format(tmp_path):
    cfg = dataclasses.replace(TINY, name="untied", tie_embeddings=False, num_layers=1)
    w = random_weights(cfg, seed=4)
    info = file_formats(save_gguf(w, tmp_path / "u.gguf", weight_type="tq2_0", embed_type="q8_0"))
    assert info["lm_head"] == "q8_0" and not info["config"].tie_embeddings
    hf = file_formats(save_hf_checkpoint(w, tmp_path / "hf"))
    assert (hf["ternary"], hf["embedding"], hf["lm_head"]) == ("hf_2bit", "f32", "f32")


def test_file_formats_of_hf_checkpoints(tmp_path, tiny):
    out = save_hf_checkpoint(tiny, tmp_path / "ckpt")
    for p in (out, out / "config.json", out / "model.safetensors"):
        info = file_formats(p)
        assert (info["ternary"], info["embedding"], info["lm_head"]) == ("hf_2bit", "f32", None)
        assert info["config"] == TINY


def test_hf_bf16_embedding_is_named_from_the_header(tmp_path, tiny):
    """file_formats reads only the safetensors header: a BF16 embedding is reported as bf16."""
    import json
    import struct

    out = save_hf_checkpoint(tiny, tmp_path / "ckpt")
    st = out / "model.safetensors"
    blob = st.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header["model.embed_tokens.weight"]["dtype"] = "BF16"      # only the header is read
    head = json.dumps(header).encode()
    st.write_bytes(struct.pack("<Q", len(head)) + head + blob[8 + n:])
    assert file_formats(out)["embedding"] == "bf16"


def test_file_formats_errors_are_model_file_errors(tmp_path, tiny):
    with pytest.raises(ModelFileError, match="no such file"):
        file_formats(tmp_path / "nope.gguf")
    path = save_gguf(tiny, tmp_path / "m.gguf", weight_type="tq2_0")
    with pytest.raises(ModelFileError, match="not a readable GGUF"):
        (tmp_path / "cut.gguf").write_bytes(path.read_bytes()[:100])
        file_formats(tmp_path / "cut.gguf")
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(ModelFileError, match="no config.json"):
        file_formats(tmp_path / "ckpt")


def test_save_gguf_rejects_unknown_embed_type(tmp_path, tiny):
    with pytest.raises(UnknownNameError, match="unknown embed_type 'q6_K'"):
        save_gguf(tiny, tmp_path / "x.gguf", embed_type="q6_K")
