"""GGUF model files: save and load `ModelWeights`, in our layout or the BitNet fork's.

Ground-truth layer. Metadata uses llama.cpp's `bitnet` architecture keys (plus
`bitnet.hidden_activation = "relu2"`, which upstream llama.cpp reads; without it it falls back to
SiLU, research/reference.md §3.3-§3.4); tensor names are llama.cpp's (`blk.N.attn_q.weight`, ...).
Our files: embedding and norms F32; projections TQ1_0 / TQ2_0 (upstream ggml types 34/35) or
I2_S in a namespace of our own (`WORKBENCH_GGML_TYPES`), since the BitNet fork's ids (I2_S = 36,
...) collide with upstream ids (39 = MXFP4; research/kernels.md §1.6). The fork's own files (the
official `ggml-model-i2_s.gguf`: architecture "bitnet-b1.58", I2_S under id 36, F16 token_embd)
are read through `gguf_reader.ForkAwareReader` and written by ``save_gguf(weight_type="i2_s_fork")``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import gguf

from workbench.errors import UnknownNameError, UserError
from workbench.formats import tq
from workbench.formats._common import ModelFileError, check_finite
from workbench.formats.ggml_types import (FORK_ARCHITECTURES, I2S_FORK_ID, LLAMA_FTYPE_MOSTLY_I2_S,
                                          GgmlType, format_name)
from workbench.formats.gguf_reader import FileTensor, ForkAwareReader
from workbench.formats.i2s import I2S_X86
from workbench.reference.config import PROJECTIONS, ModelConfig
from workbench.reference.weights import LayerWeights, ModelWeights, TernaryLinear

__all__ = ["save_gguf", "load_gguf", "gguf_formats", "WEIGHT_TYPES", "EMBED_TYPES",
           "WORKBENCH_GGML_TYPES", "ARCHITECTURES", "tensor_names"]

WEIGHT_TYPES = ("tq2_0", "tq1_0", "i2_s", "i2_s_fork")
#: Embedding / lm_head types `save_gguf` can write (those gguf-py quantizes; "f16" is what the
#: fork's converter writes for token_embd: utils/convert-hf-to-gguf-bitnet.py, and the official
#: 2B-4T file holds 1 f16 tensor, ikawrakow/ik_llama.cpp issue #365 loader dump).
EMBED_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0")

# Our own tensor-type namespace. A tensor of such a type is written as a 1-D GGML I8 tensor of its
# raw bytes (so any GGUF reader can parse the file) and described by two metadata keys:
#   workbench.tensor.<name>.type  = uint32 id below   ("WB" << 16 | the BitNet fork's id)
#   workbench.tensor.<name>.shape = [M, K]             (numpy order: rows, reduction)
# The id space 0x5742xxxx is ours; nothing in ggml uses it.
WORKBENCH_GGML_TYPES = {"i2_s_x86": 0x5742_0024}

_ARCH = "bitnet"
#: Architectures the loader reads; each is also the prefix of its metadata keys.
ARCHITECTURES = (_ARCH, *FORK_ARCHITECTURES)
_FORK_ARCH = "bitnet-b1.58"          # the official 2B-4T GGUF's (ik_llama.cpp issue #365 dump)
# llama.cpp tensor-name suffix of each projection, and its norm tensors.
_PROJ_NAMES = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
               "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
_NORM_NAMES = {"input_norm": "attn_norm", "attn_sub_norm": "attn_sub_norm",
               "post_attn_norm": "ffn_norm", "ffn_sub_norm": "ffn_sub_norm"}
_NORM_TYPES = ("F32", "F16", "BF16")


def tensor_names(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every weight tensor name of a BitNet GGUF and its logical numpy shape."""
    h, v = config.hidden_size, config.vocab_size
    names = {"token_embd.weight": (v, h), "output_norm.weight": (h,)}
    if not config.tie_embeddings:
        names["output.weight"] = (v, h)
    for i in range(config.num_layers):
        for key, n in _NORM_NAMES.items():
            names[f"blk.{i}.{n}.weight"] = (config.intermediate_size if key == "ffn_sub_norm" else h,)
        for p in PROJECTIONS:
            names[f"blk.{i}.{_PROJ_NAMES[p]}.weight"] = config.projection_shape(p)
    return names


def _write_metadata(w, config: ModelConfig, weight_type: str) -> None:
    w.add_name(config.name)
    w.add_vocab_size(config.vocab_size)
    w.add_context_length(config.max_position)
    w.add_embedding_length(config.hidden_size)
    w.add_block_count(config.num_layers)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(config.num_heads)
    w.add_head_count_kv(config.num_kv_heads)
    w.add_key_length(config.head_dim)
    w.add_value_length(config.head_dim)
    w.add_rope_dimension_count(config.head_dim)
    w.add_rope_freq_base(config.rope_theta)
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    w.add_bos_token_id(config.bos_token_id)
    w.add_eos_token_id(config.eos_token_id)
    w.add_string(f"{_ARCH}.hidden_activation", "relu2")
    # exact config (floats as Python doubles) for a lossless round trip
    w.add_string("workbench.config", json.dumps(config.to_dict()))
    w.add_string("workbench.weight_type", weight_type)


def _write_fork_metadata(w, config: ModelConfig) -> None:
    """The keys of the official 2B-4T GGUF, in its order (ik_llama.cpp issue #365 loader dump:
    24 keys), less the tokenizer's vocabulary (tokens, scores, token types, merges, chat
    template): the workbench runs token ids and has no tokenizer to store. head_dim is
    embedding_length / head_count there (no key_length key), as llama.cpp derives it."""
    if config.head_dim * config.num_heads != config.hidden_size:
        raise UserError(f"save_gguf: model {config.name!r} has head_dim {config.head_dim} != "
                        f"hidden_size / num_heads; the fork's layout cannot state it")
    w.add_name(config.name)
    w.add_vocab_size(config.vocab_size)
    w.add_context_length(config.max_position)
    w.add_embedding_length(config.hidden_size)
    w.add_block_count(config.num_layers)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_rope_dimension_count(config.head_dim)
    w.add_head_count(config.num_heads)
    w.add_head_count_kv(config.num_kv_heads)
    w.add_add_bos_token(True)
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    w.add_rope_freq_base(config.rope_theta)
    w.add_file_type(LLAMA_FTYPE_MOSTLY_I2_S)
    w.add_bos_token_id(config.bos_token_id)
    w.add_eos_token_id(config.eos_token_id)
    w.add_pad_token_id(config.eos_token_id)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _add_ternary(w, name: str, lin: TernaryLinear, weight_type: str) -> None:

    m, k = lin.shape
    base = name[:-len(".weight")]
    if weight_type == "i2_s_fork":
        # The fork's tensor: type id 36, ne = [K, M], n/4 code bytes (x86 128-weight blocks, as
        # quantize_i2_s's ACT_PARALLEL branch writes them) then the 32-byte tail, fp32 gamma first.
        data = I2S_X86.pack(lin.codes, gamma=lin.gamma)
        w.add_tensor(name, data.view(np.int8), raw_shape=(m, k), raw_dtype=I2S_FORK_ID)
        return
    if weight_type == "i2_s":
        data = I2S_X86.pack(lin.codes, gamma=lin.gamma)
        w.add_tensor(name, data.view(np.int8))
        w.add_uint32(f"workbench.tensor.{name}.type", WORKBENCH_GGML_TYPES["i2_s_x86"])
        w.add_array(f"workbench.tensor.{name}.shape", [m, k])
        return
    if k % tq.QK_K:
        raise UserError(f"save_gguf: tensor {name} has K={k}, not a multiple of 256 as "
                         f"{weight_type.upper()} needs; use weight_type='i2_s'")
    data = tq.pack(lin.codes, gamma=lin.gamma, kind=weight_type).reshape(m, -1)
    qtype = gguf.GGMLQuantizationType.TQ1_0 if weight_type == "tq1_0" else gguf.GGMLQuantizationType.TQ2_0
    w.add_tensor(name, data, raw_dtype=qtype)
    # The blocks keep only fp16(gamma): the exact fp32 gamma goes in its own [1] tensor. It is not
    # called `.scale`: llama.cpp multiplies by `<name>.scale` after the matmul, on top of the
    # blocks' d, which would apply gamma twice.
    w.add_tensor(f"{base}.gamma", np.array([lin.gamma], dtype=np.float32))


def _add_dense(w, name: str, arr: np.ndarray, embed_type: str) -> None:
    """A 2-D float tensor (embedding, lm_head) in `embed_type`."""
    a = np.ascontiguousarray(arr, dtype=np.float32)
    if embed_type == "f32":
        w.add_tensor(name, a)
    elif embed_type == "f16":
        w.add_tensor(name, a.astype(np.float16))
    else:
        qtype = gguf.GGMLQuantizationType[embed_type.upper()]
        block = gguf.GGML_QUANT_SIZES[qtype][0]
        if a.shape[-1] % block:
            raise UserError(f"save_gguf: tensor {name} has rows of {a.shape[-1]} weights, not a "
                            f"multiple of the {block}-weight blocks of {embed_type}")
        w.add_tensor(name, gguf.quants.quantize(a, qtype), raw_dtype=qtype)   # bytes [rows, row bytes]


def save_gguf(weights: ModelWeights, path, *, weight_type: str = "tq2_0",
              embed_type: str | None = None) -> Path:
    """Write `weights` as a BitNet GGUF file.

    Parameters
    ----------
    weights : ModelWeights
    path : str or Path
    weight_type : {"tq2_0", "tq1_0", "i2_s", "i2_s_fork"}
        Projection storage. TQ types need every K to be a multiple of 256; I2_S (x86 layout,
        128-weight blocks, exact fp32 gamma in its tail) needs K % 128 == 0. "i2_s" keeps it in
        our own type namespace; "i2_s_fork" writes the BitNet fork's layout: the official
        `ggml-model-i2_s.gguf`'s architecture "bitnet-b1.58", metadata keys, tensor order and
        types (I2_S under id 36, norms F32), without a tokenizer vocabulary.
    embed_type : {"f32", "f16", "bf16", "q8_0", "q4_0"}, optional
        Type of token_embd (and output.weight when untied). Default: "f16" for "i2_s_fork" (as the
        official file), "f32" otherwise (exact).

    Returns
    -------
    Path of the written file.
    """

    if weight_type not in WEIGHT_TYPES:
        raise UnknownNameError(f"save_gguf: unknown weight_type {weight_type!r}; "
                               f"valid: {', '.join(WEIGHT_TYPES)}")
    fork = weight_type == "i2_s_fork"
    embed_type = embed_type or ("f16" if fork else "f32")
    if embed_type not in EMBED_TYPES:
        raise UnknownNameError(f"save_gguf: unknown embed_type {embed_type!r}; "
                               f"valid: {', '.join(EMBED_TYPES)}")
    path = Path(path)
    config = weights.config
    w = gguf.GGUFWriter(os.fspath(path), _FORK_ARCH if fork else _ARCH)
    try:
        if fork:
            _write_fork_metadata(w, config)
        else:
            _write_metadata(w, config, weight_type)
        _add_dense(w, "token_embd.weight", weights.embed, embed_type)
        if not fork:
            w.add_tensor("output_norm.weight", np.ascontiguousarray(weights.final_norm, dtype=np.float32))
        if weights.lm_head is not None:
            _add_dense(w, "output.weight", weights.lm_head, embed_type)
        for i, layer in enumerate(weights.layers):
            for key, n in _NORM_NAMES.items():
                w.add_tensor(f"blk.{i}.{n}.weight", np.ascontiguousarray(getattr(layer, key), np.float32))
            for p, lin in layer.projections():
                _add_ternary(w, f"blk.{i}.{_PROJ_NAMES[p]}.weight", lin, weight_type)
        if fork:    # last in the official file (Willamette docs/I2_S_LAYOUT.md §6)
            w.add_tensor("output_norm.weight", np.ascontiguousarray(weights.final_norm, dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
    finally:
        w.close()
    return path


def _field_value(reader, key: str):
    field = reader.get_field(key)
    if field is None:
        return None
    value = field.contents()
    return value


_NO_DEFAULT = object()


class _GGUFFile:
    """A parsed GGUF file with error messages that name the file (`ModelFileError`).

    ``tensors`` maps names to `gguf_reader.FileTensor`s; ``fork`` is True for a file of the
    BitNet fork's type table; ``formats`` records the workbench format name of each dense tensor
    read (`float_tensor`).
    """

    def __init__(self, path: Path):

        self.path = path
        if path.is_dir():
            raise ModelFileError(f"{path}: is a directory, expected a GGUF file")
        try:
            self.reader = ForkAwareReader(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            raise
        except Exception as exc:  # gguf-py raises ValueError, IndexError, struct/np errors
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelFileError(f"{path}: not a readable GGUF file ({msg})") from None
        self.fork = self.reader.fork
        self.tensors: dict[str, FileTensor] = {t.name: t for t in self.reader.tensors}
        self.formats: dict[str, str] = {}

    def error(self, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {problem}")

    def value(self, key: str, *, required: bool = True):
        try:
            v = _field_value(self.reader, key)
        except Exception as exc:
            raise self.error(f"metadata key {key!r} is unreadable ({exc})") from None
        if v is None and required:
            raise self.error(f"missing metadata key {key!r}")
        return v

    def typed(self, key: str, kind: type, default=_NO_DEFAULT):
        """Metadata `key` as `kind` (int, float or str); `default` when absent (else an error).

        A value of another type (a string where a number belongs, an array, a non-finite float)
        is an error naming the key and the file.
        """
        v = self.value(key, required=default is _NO_DEFAULT)
        if v is None:
            return default
        if kind is str:
            if isinstance(v, str):
                return v
        elif isinstance(v, (bool, np.bool_)):
            pass
        elif kind is int and isinstance(v, (int, np.integer)):
            return int(v)
        elif kind is float and isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v):
            return float(v)
        want = {int: "an integer", float: "a finite number", str: "a string"}[kind]
        raise self.error(f"metadata key {key!r} must be {want}, got {v!r:.60}")

    def int_list(self, key: str) -> tuple[int, ...]:
        """Metadata array `key` of integers (required)."""
        v = self.value(key)
        if not isinstance(v, (list, tuple)) or not all(isinstance(x, (int, np.integer))
                                                      and not isinstance(x, bool) for x in v):
            raise self.error(f"metadata key {key!r} must be an array of integers, got {v!r:.60}")
        return tuple(int(x) for x in v)

    def tensor(self, name: str) -> FileTensor:
        if name not in self.tensors:
            raise self.error(f"missing tensor {name!r}")
        return self.tensors[name]

    def type_of(self, name: str) -> GgmlType:
        """The resolved type of tensor `name`; an id no table knows is an error."""
        t = self.tensor(name)
        if t.type is None:
            table = "the BitNet fork's" if self.fork else "ggml's"
            raise self.error(f"tensor {name!r} has type id {t.type_id}, unknown in {table} type table")
        return t.type

    def check_shape(self, name: str, shape: tuple[int, ...]) -> FileTensor:
        t = self.tensor(name)
        if tuple(t.shape) != tuple(shape):
            raise self.error(f"tensor {name!r} has shape {list(t.shape)}, expected {list(shape)}")
        return t

    def float_tensor(self, name: str, shape: tuple[int, ...], *, dense: bool = False) -> np.ndarray:
        """Tensor `name` as fp32 of `shape`. Norms (``dense=False``) may be F32, F16 or BF16; an
        embedding or lm_head (``dense=True``) any float or quantized upstream type gguf-py
        dequantizes (Q8_0, Q6_K, Q4_K, ...), widened to the fp32 values the type encodes."""
        gtype = self.type_of(name)
        if gtype.fork or not (gtype.name in _NORM_TYPES or dense and gtype.block > 1):
            want = "F32, F16 or BF16" if not dense else "a float or quantized dense type"
            raise self.error(f"tensor {name!r} has type {gtype.name}, expected {want}")
        t = self.check_shape(name, shape)
        raw = t.raw
        if gtype.name == "F32":
            arr = raw.view("<f4")
        elif gtype.name == "F16":
            arr = raw.view("<f2").astype(np.float32)
        elif gtype.name == "BF16":
            arr = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            k = shape[-1]
            if k % gtype.block:
                raise self.error(f"tensor {name!r}: rows of {k} weights are not whole "
                                 f"{gtype.block}-weight blocks of {gtype.name}")
            try:
                rows = np.asarray(raw).reshape(-1, k // gtype.block * gtype.block_bytes)
                arr = gguf.quants.dequantize(rows, gtype.upstream)
            except NotImplementedError:
                raise self.error(f"tensor {name!r} has type {gtype.name}, which gguf-py cannot "
                                 "dequantize") from None
        self.formats[name] = format_name(gtype)
        return check_finite(np.array(arr, dtype=np.float32).reshape(shape),
                            f"{self.path}: tensor {name!r}")

    def ternary(self, name: str, shape: tuple[int, int]) -> tuple[TernaryLinear, str]:

        t = self.tensor(name)
        m, k = shape
        raw = np.asarray(t.raw).reshape(-1)
        wb_type = self.typed(f"workbench.tensor.{name}.type", int, None)
        if wb_type is not None:
            if wb_type != WORKBENCH_GGML_TYPES["i2_s_x86"]:
                raise self.error(f"tensor {name!r} has unknown workbench type id {wb_type:#x}")
            wb_shape = self.int_list(f"workbench.tensor.{name}.shape")
            if wb_shape != shape:
                raise self.error(f"tensor {name!r} has shape {list(wb_shape)}, expected {list(shape)}")
            try:
                codes, gamma = I2S_X86.unpack(raw, m, k)
            except UserError as exc:
                raise self.error(f"tensor {name!r}: {exc}") from None
            return TernaryLinear(codes, gamma), "i2_s"
        gtype = self.type_of(name)
        if gtype.fork and gtype.name == "I2_S":
            self.check_shape(name, shape)
            try:   # the scale is the tail's first 4 bytes; the other 28 are not read
                codes, gamma = I2S_X86.unpack(raw, m, k)
            except UserError as exc:
                raise self.error(f"tensor {name!r} (I2_S, type id {t.type_id}): {exc}") from None
            return TernaryLinear(codes, gamma), "i2_s_fork"
        if gtype.fork:
            raise self.error(f"tensor {name!r} has the BitNet fork's type {gtype.name} (id "
                             f"{t.type_id}), whose layout depends on the kernel tiling it was "
                             "generated for; convert the model to I2_S")
        kinds = {"TQ1_0": "tq1_0", "TQ2_0": "tq2_0"}
        if gtype.name not in kinds:
            raise self.error(f"tensor {name!r} has type {gtype.name}, expected I2_S, TQ1_0, TQ2_0 "
                             "or workbench I2_S")
        self.check_shape(name, shape)
        kind = kinds[gtype.name]
        try:
            codes, d = tq.unpack(raw, m, k, kind=kind)
        except UserError as exc:
            raise self.error(f"tensor {name!r}: {exc}") from None
        gamma = self._tq_gamma(name, codes, d)
        if not np.isfinite(gamma) or gamma < 0:
            raise self.error(f"tensor {name!r}: scale gamma is {gamma}, not a finite number >= 0")
        return TernaryLinear(codes, gamma), kind

    def _tq_gamma(self, name: str, codes: np.ndarray, d: np.ndarray) -> np.float32:
        base = name[:-len(".weight")]
        used = d[(codes.reshape(d.shape[0], d.shape[1], -1) != 0).any(axis=2)]
        if f"{base}.gamma" in self.tensors:
            gamma = np.float32(self.float_tensor(f"{base}.gamma", (1,))[0])
            if used.size and not (used == np.float32(np.float16(gamma))).all():
                raise self.error(f"tensor {name!r}: block scales disagree with {base}.gamma={gamma}")
            return gamma
        # A foreign file (e.g. llama.cpp's converter): every block holds fp16(gamma).
        if used.size and not (used == used[0]).all():
            raise self.error(f"tensor {name!r}: block scales differ ({used.min()}..{used.max()}); "
                             "not one per-tensor scale")
        gamma = np.float32(used[0]) if used.size else np.float32(0)
        if f"{base}.scale" in self.tensors:   # llama.cpp's optional post-matmul scale
            gamma = np.float32(gamma * self.float_tensor(f"{base}.scale", (1,))[0])
        return gamma


def _config_from(f: _GGUFFile) -> ModelConfig:
    arch = f.value("general.architecture")
    if arch not in ARCHITECTURES:
        raise f.error(f"architecture is {arch!r:.60}, expected one of {', '.join(map(repr, ARCHITECTURES))}")
    stored = f.typed("workbench.config", str, None)
    if stored is not None:
        try:
            fields = json.loads(stored)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise f.error(f"metadata workbench.config is not JSON ({exc})") from None
        if not isinstance(fields, dict):
            raise f.error(f"metadata workbench.config must be a JSON object, got {type(fields).__name__}")
        try:
            return ModelConfig(**fields)
        except TypeError as exc:
            raise f.error(f"metadata workbench.config is malformed ({exc})") from None
        except UserError as exc:
            raise f.error(f"metadata workbench.config: {exc}") from None
    a = arch                      # llama.cpp prefixes the model's keys with the architecture
    hidden = f.typed(f"{a}.embedding_length", int)
    heads = f.typed(f"{a}.attention.head_count", int)
    if heads <= 0:
        raise f.error(f"metadata key '{a}.attention.head_count' must be positive, got {heads}")
    head_dim = f.typed(f"{a}.attention.key_length", int, None) or hidden // heads
    rope_dim = f.typed(f"{a}.rope.dimension_count", int, None)
    if rope_dim is not None and rope_dim != head_dim:
        raise f.error(f"metadata key '{a}.rope.dimension_count' is {rope_dim}, not the head size "
                      f"{head_dim}: partial RoPE is not modelled")
    emb = f.tensor("token_embd.weight")
    try:
        return ModelConfig(
            name=f.typed("general.name", str, None) or f.path.stem,
            vocab_size=f.typed(f"{a}.vocab_size", int, None) or int(emb.shape[0]),
            hidden_size=hidden,
            intermediate_size=f.typed(f"{a}.feed_forward_length", int),
            num_layers=f.typed(f"{a}.block_count", int),
            num_heads=heads,
            num_kv_heads=f.typed(f"{a}.attention.head_count_kv", int),
            head_dim=head_dim,
            rope_theta=f.typed(f"{a}.rope.freq_base", float, None) or 500000.0,
            rms_norm_eps=f.typed(f"{a}.attention.layer_norm_rms_epsilon", float, None) or 1e-5,
            max_position=f.typed(f"{a}.context_length", int, None) or 4096,
            tie_embeddings="output.weight" not in f.tensors,
            bos_token_id=f.typed("tokenizer.ggml.bos_token_id", int, 128000),
            eos_token_id=f.typed("tokenizer.ggml.eos_token_id", int, 128001),
            source=f"GGUF {f.path.name}",
        )
    except UserError as exc:
        raise f.error(str(exc)) from None


_TERNARY_ID_NAMES = {"I2_S": "i2s_x86", "TQ1_0": "tq1_0", "TQ2_0": "tq2_0", "TL1": "tl1", "TL2": "tl2"}


def gguf_formats(path) -> dict:
    """Config and storage formats of a BitNet GGUF, from its header alone (no weight is read).

    Returns ``{"config": ModelConfig, "ternary": str, "embedding": str, "lm_head": str | None}``:
    ternary is the `workbench.formats` packing of the projections ("i2s_x86" for the fork's I2_S
    and our own I2_S namespace, "tq1_0", "tq2_0", "tl1", "tl2"); embedding and lm_head the dense
    format names (`ggml_types.format_name`: "f16", "q6_K", ...); lm_head None when tied.
    """
    f = _GGUFFile(Path(path))
    config = _config_from(f)
    shapes = tensor_names(config)
    ternary = set()
    for i in range(config.num_layers):
        for p in PROJECTIONS:
            name = f"blk.{i}.{_PROJ_NAMES[p]}.weight"
            f.tensor(name)
            if f"workbench.tensor.{name}.type" in f.reader.fields:    # our I2_S namespace
                ternary.add("i2s_x86")
                continue
            f.check_shape(name, shapes[name])
            gtype = f.type_of(name)
            if gtype.name not in _TERNARY_ID_NAMES:
                raise f.error(f"tensor {name!r} has type {gtype.name}, not a ternary type")
            ternary.add(_TERNARY_ID_NAMES[gtype.name])
    if len(ternary) != 1:
        raise f.error(f"projections mix formats {sorted(ternary)}")

    def dense(name):
        f.check_shape(name, shapes[name])
        return format_name(f.type_of(name))

    return {"config": config, "ternary": ternary.pop(), "embedding": dense("token_embd.weight"),
            "lm_head": None if config.tie_embeddings else dense("output.weight")}


def load_gguf(path) -> ModelWeights:
    """Read a BitNet GGUF (as written by `save_gguf`, by llama.cpp's converter with TQ1_0 /
    TQ2_0 projections, or by the BitNet fork with I2_S under type id 36, such as the official
    `ggml-model-i2_s.gguf`) into `ModelWeights`.

    gamma: exact from `<name>.gamma` (our files) or the I2_S tail; otherwise the common fp16 block
    scale (times `<name>.scale` if present). An F16/BF16/quantized embedding or lm_head is widened
    to the fp32 values it encodes. Problems (a truncated or corrupt file, metadata of the wrong
    type, an unknown type id, a wrong shape, a NaN or infinite weight or scale) raise
    ModelFileError "<path>: <problem>".
    ``meta`` records the file, each projection's weight type and the dense formats
    (``meta["formats"]``: the `gguf_formats` names).
    """
    path = Path(path)
    f = _GGUFFile(path)
    config = _config_from(f)
    shapes = tensor_names(config)
    embed = f.float_tensor("token_embd.weight", shapes["token_embd.weight"], dense=True)
    final_norm = f.float_tensor("output_norm.weight", shapes["output_norm.weight"])
    lm_head = (None if config.tie_embeddings
               else f.float_tensor("output.weight", shapes["output.weight"], dense=True))
    layers, kinds = [], set()
    for i in range(config.num_layers):
        norms = {key: f.float_tensor(f"blk.{i}.{n}.weight", shapes[f"blk.{i}.{n}.weight"])
                 for key, n in _NORM_NAMES.items()}
        lins = {}
        for p in PROJECTIONS:
            name = f"blk.{i}.{_PROJ_NAMES[p]}.weight"
            lins[p], kind = f.ternary(name, shapes[name])
            kinds.add(kind)
        layers.append(LayerWeights(**norms, **lins))
    formats = {"ternary": sorted({"i2_s": "i2s_x86", "i2_s_fork": "i2s_x86"}.get(k, k) for k in kinds)[0],
               "embedding": f.formats["token_embd.weight"],
               "lm_head": None if lm_head is None else f.formats["output.weight"]}
    meta = {"source": "gguf", "path": str(path), "weight_types": sorted(kinds),
            "architecture": f.value("general.architecture"), "formats": formats}
    return ModelWeights(config=config, embed=embed, layers=layers, final_norm=final_norm,
                        lm_head=lm_head, meta=meta)
