"""Hugging Face BitNet checkpoints: config.json + model.safetensors, packed 2-bit projections.

Ground-truth layer. The layout is the one transformers 5.23's BitNet quantizer loads offline
(research/reference.md §1.3-§1.4, §4): projections as uint8 [out/4, in] packed along dim 0 plus
a [1] `weight_scale`, which is fp32(1/gamma) for `linear_class="bitlinear"` (the layer divides)
and gamma for `"autobitlinear"` (it multiplies); float tensors under HF's names.

What round-trips: codes always; `weight_scale` (ws) always, bit for bit, kept per projection in
``ModelWeights.meta["weight_scale"]`` (keys "layers.<i>.<proj>") with ``meta["linear_class"]``,
since the HF forward divides by ws itself. gamma round-trips exactly for our own files (the
safetensors header metadata carries ``workbench.gamma.<tensor>`` as a hex float); for a foreign
bitlinear file gamma = fp32(1/ws), which can differ from the writer's gamma by an ulp.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from workbench.errors import UnknownNameError, UserError
from workbench.formats._common import ModelFileError, check_finite
from workbench.formats.hf2bit import pack_codes, unpack_codes
from workbench.reference.config import PROJECTIONS, ModelConfig
from workbench.reference.weights import LayerWeights, ModelWeights, TernaryLinear

__all__ = ["save_hf_checkpoint", "load_hf_checkpoint", "read_safetensors", "LINEAR_CLASSES",
           "hf_tensor_names"]

LINEAR_CLASSES = ("bitlinear", "autobitlinear")
_PROJ = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
         "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
         "down": "mlp.down_proj"}
_NORMS = {"input_norm": "input_layernorm", "attn_sub_norm": "self_attn.attn_sub_norm",
          "post_attn_norm": "post_attention_layernorm", "ffn_sub_norm": "mlp.ffn_sub_norm"}
_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8"),
           "U8": np.dtype("u1"), "I8": np.dtype("i1"), "I32": np.dtype("<i4"),
           "I64": np.dtype("<i8"), "BF16": np.dtype("<u2")}
_MISSING = object()


def hf_tensor_names(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Float tensor names of a BitNet checkpoint and their shapes (projections excluded)."""
    h = config.hidden_size
    names = {"model.embed_tokens.weight": (config.vocab_size, h), "model.norm.weight": (h,)}
    if not config.tie_embeddings:
        names["lm_head.weight"] = (config.vocab_size, h)
    for i in range(config.num_layers):
        for key, n in _NORMS.items():
            names[f"model.layers.{i}.{n}.weight"] = (config.intermediate_size if key == "ffn_sub_norm" else h,)
    return names


def _config_json(config: ModelConfig, linear_class: str) -> dict:
    return {
        "architectures": ["BitNetForCausalLM"],
        "model_type": "bitnet",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_layers,
        "num_attention_heads": config.num_heads,
        "num_key_value_heads": config.num_kv_heads,
        "head_dim": config.head_dim,
        "max_position_embeddings": config.max_position,
        "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_theta},
        "hidden_act": "relu2",
        "attention_bias": False,
        "tie_word_embeddings": config.tie_embeddings,
        "bos_token_id": config.bos_token_id,
        "eos_token_id": config.eos_token_id,
        "torch_dtype": "float32",
        "quantization_config": {"quant_method": "bitnet", "linear_class": linear_class,
                                "quantization_mode": "offline"},
        "workbench_name": config.name,
    }


def save_hf_checkpoint(weights: ModelWeights, directory, *, linear_class: str = "bitlinear") -> Path:
    """Write `weights` as a transformers BitNet checkpoint directory (config.json, model.safetensors).

    Parameters
    ----------
    weights : ModelWeights (every projection's out_features must be a multiple of 4)
    directory : str or Path, created if missing
    linear_class : {"bitlinear", "autobitlinear"}
        bitlinear stores weight_scale = fp32(1/gamma); autobitlinear stores gamma.
    """
    from safetensors.numpy import save_file

    if linear_class not in LINEAR_CLASSES:
        raise UnknownNameError(f"save_hf_checkpoint: unknown linear_class {linear_class!r}; "
                         f"valid: {', '.join(LINEAR_CLASSES)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    cfg = weights.config
    tensors = {"model.embed_tokens.weight": np.ascontiguousarray(weights.embed, np.float32),
               "model.norm.weight": np.ascontiguousarray(weights.final_norm, np.float32)}
    if weights.lm_head is not None:
        tensors["lm_head.weight"] = np.ascontiguousarray(weights.lm_head, np.float32)
    metadata = {"format": "pt", "workbench.linear_class": linear_class}
    for i, layer in enumerate(weights.layers):
        for key, n in _NORMS.items():
            tensors[f"model.layers.{i}.{n}.weight"] = np.ascontiguousarray(getattr(layer, key), np.float32)
        for p, lin in layer.projections():
            base = f"model.layers.{i}.{_PROJ[p]}"
            tensors[f"{base}.weight"] = pack_codes(lin.codes)
            ws = np.float32(1) / lin.gamma if linear_class == "bitlinear" else lin.gamma
            tensors[f"{base}.weight_scale"] = np.array([ws], dtype=np.float32)
            metadata[f"workbench.gamma.{base}"] = float(lin.gamma).hex()
    (out / "config.json").write_text(json.dumps(_config_json(cfg, linear_class), indent=2))
    save_file(tensors, str(out / "model.safetensors"), metadata=metadata)
    return out


def _header_error(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: safetensors header: {problem}")


def _tensor_entry(path: Path, name: str, info, n_data: int) -> tuple[np.dtype, str, tuple, int, int]:
    """Check one header entry; returns (numpy dtype, dtype name, shape, start, end)."""
    if not isinstance(info, dict):
        raise _header_error(path, f"tensor {name!r} must be an object with dtype, shape and "
                                  f"data_offsets, got {type(info).__name__} {info!r:.60}")
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
    if missing:
        raise _header_error(path, f"tensor {name!r} lacks {missing[0]!r}")
    dtype_name = info["dtype"]
    if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
        raise _header_error(path, f"tensor {name!r} has unsupported dtype {dtype_name!r}; "
                                  f"valid: {', '.join(_DTYPES)}")
    shape = info["shape"]
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _header_error(path, f"tensor {name!r} shape must be a list of non-negative integers, "
                                  f"got {shape!r:.60}")
    offsets = info["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise _header_error(path, f"tensor {name!r} data_offsets must be two integers "
                                  f"0 <= begin <= end, got {offsets!r:.60}")
    start, end = offsets
    dtype = _DTYPES[dtype_name]
    n = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if end > n_data:
        raise ModelFileError(f"{path}: tensor {name!r} data [{start}, {end}) lies outside the file's "
                             f"{n_data} data bytes")
    if end - start != n:
        raise ModelFileError(f"{path}: tensor {name!r} data [{start}, {end}) holds {end - start} "
                             f"bytes, shape {shape} of {dtype_name} needs {n}")
    return dtype, dtype_name, tuple(shape), start, end


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a .safetensors file into numpy (BF16 widened to fp32, F16 kept), plus its metadata.

    A plain reader of the documented format (8-byte header length, JSON header, raw data), so
    bf16 checkpoints load without torch. Every field of the header is type-checked: a problem
    raises ModelFileError naming the file and the tensor (never a Python TypeError).
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, expected a .safetensors file")
    blob = path.read_bytes()
    if len(blob) < 8:
        raise ModelFileError(f"{path}: {len(blob)} bytes is too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > len(blob) - 8:
        raise ModelFileError(f"{path}: safetensors header length {hlen} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + hlen])
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{path}: safetensors header is not JSON ({msg})") from None
    if not isinstance(header, dict):
        raise _header_error(path, f"must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _header_error(path, "__metadata__ must be an object of strings, "
                                  f"got {metadata!r:.60}")
    data = memoryview(blob)[8 + hlen:]
    tensors = {}
    for name, info in header.items():
        dtype, dtype_name, shape, start, end = _tensor_entry(path, name, info, len(data))
        arr = np.frombuffer(data[start:end], dtype=dtype).reshape(shape)
        if dtype_name == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = arr
    return tensors, metadata


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _ConfigJson:
    """Typed access to a parsed config.json: every wrong type or missing key names the key and file."""

    def __init__(self, cfg, path: str):
        if not isinstance(cfg, dict):
            raise ModelFileError(f"{path}: must be a JSON object, got {type(cfg).__name__}")
        self.cfg, self.path = cfg, path

    def error(self, key: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: key {key!r} {problem}")

    def get(self, key: str, kind: str, default=_MISSING):
        """`key` as `kind` ("int", "posint", "float", "bool", "str", "object"); `default` if absent
        or null."""
        value = self.cfg.get(key)
        if value is None:
            if default is _MISSING:
                raise ModelFileError(f"{self.path}: missing key {key!r}")
            return default
        return self.check(key, value, kind)

    def check(self, key: str, value, kind: str):
        if kind in ("int", "posint"):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not _is_int(value):
                raise self.error(key, f"must be an integer, got {value!r:.60}")
            if kind == "posint" and value <= 0:
                raise self.error(key, f"must be a positive integer, got {value}")
            return value
        if kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = float(value)
                if np.isfinite(number):
                    return number
            raise self.error(key, f"must be a finite number, got {value!r:.60}")
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise self.error(key, f"must be true or false, got {value!r:.60}")
        if kind == "str":
            if isinstance(value, str):
                return value
            raise self.error(key, f"must be a string, got {value!r:.60}")
        if kind == "object":
            if isinstance(value, dict):
                return _ConfigJson(value, f"{self.path}: {key}")
            raise self.error(key, f"must be an object, got {value!r:.60}")
        raise AssertionError(kind)


def _config_from_json(cj: _ConfigJson) -> ModelConfig:
    rope = cj.get("rope_parameters", "object", None)
    rope_theta = cj.get("rope_theta", "float", None)
    if rope_theta is None:
        rope_theta = rope.get("rope_theta", "float", 500000.0) if rope is not None else 500000.0
    hidden = cj.get("hidden_size", "posint")
    heads = cj.get("num_attention_heads", "posint")
    name = (cj.get("workbench_name", "str", None) or cj.get("_name_or_path", "str", None)
            or Path(cj.path).parent.name or "checkpoint")
    try:
        return ModelConfig(
            name=name, vocab_size=cj.get("vocab_size", "posint"), hidden_size=hidden,
            intermediate_size=cj.get("intermediate_size", "posint"),
            num_layers=cj.get("num_hidden_layers", "posint"), num_heads=heads,
            num_kv_heads=cj.get("num_key_value_heads", "posint", heads),
            head_dim=cj.get("head_dim", "posint", None) or hidden // heads,
            rope_theta=rope_theta, rms_norm_eps=cj.get("rms_norm_eps", "float", 1e-5),
            max_position=cj.get("max_position_embeddings", "posint", 2048),
            tie_embeddings=cj.get("tie_word_embeddings", "bool", False),
            bos_token_id=_token_id(cj, "bos_token_id", 128000),
            eos_token_id=_token_id(cj, "eos_token_id", 128001),
            source=f"HF checkpoint {cj.path}")
    except UserError as exc:
        raise ModelFileError(f"{cj.path}: {exc}") from None


def _token_id(cj: _ConfigJson, key: str, default: int) -> int:
    """A token id; transformers allows a list of ids for eos (the first one is used)."""
    value = cj.cfg.get(key)
    if isinstance(value, list) and value:
        return cj.check(key, value[0], "int")
    return cj.get(key, "int", default)


def load_hf_checkpoint(directory, *, safetensors=None) -> ModelWeights:
    """Read a BitNet checkpoint directory (ours or transformers'), packed offline weights only.

    Parameters
    ----------
    directory : str or Path holding config.json (and model.safetensors)
    safetensors : str or Path, optional; the weights file (default ``directory/model.safetensors``)

    Returns ModelWeights with meta = {"source": "hf", "path", "linear_class", "weight_scale":
    {"layers.<i>.<proj>": np.float32 ws as stored}}. gamma: the exact value from our metadata if
    present, else fp32(1/ws) (bitlinear) or ws (autobitlinear). Every problem (a missing file, a
    value of the wrong JSON type, a wrong shape, a NaN or infinite weight) raises ModelFileError
    naming the file and the key or tensor.
    """
    d = Path(directory)
    if not d.is_dir():
        raise ModelFileError(f"{d}: not a checkpoint directory")
    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise ModelFileError(f"{d}: no config.json in checkpoint directory")
    try:
        cj = _ConfigJson(json.loads(cfg_path.read_text()), str(cfg_path))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{cfg_path}: not valid JSON ({msg})") from None
    model_type = cj.cfg.get("model_type")
    if model_type != "bitnet":
        raise ModelFileError(f"{cfg_path}: model_type is {model_type!r:.60}, expected 'bitnet'")
    qc = cj.get("quantization_config", "object", None)
    linear_class = qc.get("linear_class", "str", "bitlinear") if qc is not None else "bitlinear"
    if linear_class not in LINEAR_CLASSES:
        raise ModelFileError(f"{cfg_path}: unknown linear_class {linear_class!r}; "
                             f"valid: {', '.join(LINEAR_CLASSES)}")
    config = _config_from_json(cj)
    st_path = Path(safetensors) if safetensors is not None else d / "model.safetensors"
    if not st_path.is_file():
        raise ModelFileError(f"{d}: no {st_path.name} in checkpoint directory")
    tensors, metadata = read_safetensors(st_path)

    def get(name, shape=None):
        if name not in tensors:
            raise ModelFileError(f"{st_path}: missing tensor {name!r}")
        arr = tensors[name]
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise ModelFileError(f"{st_path}: tensor {name!r} has shape {list(arr.shape)}, "
                                 f"expected {list(shape)}")
        return arr

    def float_tensor(name, shape):
        arr = get(name, shape)
        if arr.dtype.kind not in "fiu":
            raise ModelFileError(f"{st_path}: tensor {name!r} is {arr.dtype}, expected a float tensor")
        return check_finite(np.array(arr, dtype=np.float32), f"{st_path}: tensor {name!r}")

    floats = {n: float_tensor(n, s) for n, s in hf_tensor_names(config).items()}
    layers, scales = [], {}
    for i in range(config.num_layers):
        lins = {}
        for p in PROJECTIONS:
            base = f"model.layers.{i}.{_PROJ[p]}"
            m, k = config.projection_shape(p)
            packed = get(f"{base}.weight")
            if packed.dtype != np.uint8:
                raise ModelFileError(f"{st_path}: tensor {base}.weight is {packed.dtype}, expected "
                                     "packed uint8 (only offline-quantized checkpoints are supported)")
            get(f"{base}.weight", (m // 4, k))
            try:
                codes = unpack_codes(packed, m)
            except UserError as exc:
                raise ModelFileError(f"{st_path}: tensor {base}.weight: {exc}") from None
            ws_arr = get(f"{base}.weight_scale")
            if ws_arr.size != 1:
                raise ModelFileError(f"{st_path}: tensor {base}.weight_scale has shape "
                                     f"{list(ws_arr.shape)}, expected one value")
            ws = np.float32(ws_arr.reshape(-1)[0])
            exact = metadata.get(f"workbench.gamma.{base}")
            if exact is not None:
                try:
                    gamma = np.float32(float.fromhex(exact))
                except (ValueError, OverflowError):
                    raise ModelFileError(f"{st_path}: metadata workbench.gamma.{base} = {exact!r:.40} "
                                         "is not a hex float") from None
            else:
                with np.errstate(divide="ignore", over="ignore"):
                    gamma = np.float32(1) / ws if linear_class == "bitlinear" else ws
            if not (np.isfinite(ws) and ws > 0 and np.isfinite(gamma) and gamma >= 0):
                raise ModelFileError(f"{st_path}: tensor {base}.weight_scale is {ws} (gamma {gamma}); "
                                     "expected a finite number > 0")
            scales[f"layers.{i}.{p}"] = ws
            lins[p] = TernaryLinear(codes, gamma,
                                   weight_scale=ws if linear_class == "bitlinear" else None)
        norms = {key: floats[f"model.layers.{i}.{n}.weight"] for key, n in _NORMS.items()}
        layers.append(LayerWeights(**norms, **lins))
    lm_head = None if config.tie_embeddings else floats["lm_head.weight"]
    meta = {"source": "hf", "path": str(d), "linear_class": linear_class, "weight_scale": scales}
    return ModelWeights(config=config, embed=floats["model.embed_tokens.weight"], layers=layers,
                        final_norm=floats["model.norm.weight"], lm_head=lm_head, meta=meta)
