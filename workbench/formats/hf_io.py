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
        raise ValueError(f"save_hf_checkpoint: unknown linear_class {linear_class!r}; "
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


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a .safetensors file into numpy (BF16 widened to fp32, F16 kept), plus its metadata.

    A plain reader of the documented format (8-byte header length, JSON header, raw data), so
    bf16 checkpoints load without torch. Problems raise ValueError naming the file.
    """
    path = Path(path)
    blob = path.read_bytes()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes is too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > len(blob) - 8:
        raise ValueError(f"{path}: safetensors header length {hlen} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + hlen])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: safetensors header is not JSON ({exc})") from None
    metadata = header.pop("__metadata__", None) or {}
    data = memoryview(blob)[8 + hlen:]
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {info.get('dtype')!r}")
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end > len(data) or end - start != int(np.prod(shape)) * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r} data [{start}, {end}) does not fit shape "
                             f"{list(shape)} of {info['dtype']} (file holds {len(data)} data bytes)")
        arr = np.frombuffer(data[start:end], dtype=dtype).reshape(shape)
        if info["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = arr
    return tensors, metadata


def _config_from_json(cfg: dict, source: str) -> ModelConfig:
    try:
        rope = cfg.get("rope_theta") or (cfg.get("rope_parameters") or {}).get("rope_theta", 500000.0)
        heads = cfg["num_attention_heads"]
        return ModelConfig(
            name=cfg.get("workbench_name") or cfg.get("_name_or_path") or Path(source).parent.name,
            vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"],
            intermediate_size=cfg["intermediate_size"], num_layers=cfg["num_hidden_layers"],
            num_heads=heads, num_kv_heads=cfg.get("num_key_value_heads", heads),
            head_dim=cfg.get("head_dim") or cfg["hidden_size"] // heads,
            rope_theta=float(rope), rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-5)),
            max_position=cfg.get("max_position_embeddings", 2048),
            tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            bos_token_id=cfg.get("bos_token_id", 128000), eos_token_id=cfg.get("eos_token_id", 128001),
            source=f"HF checkpoint {source}")
    except KeyError as exc:
        raise ValueError(f"{source}: config.json lacks {exc.args[0]!r}") from None


def load_hf_checkpoint(directory) -> ModelWeights:
    """Read a BitNet checkpoint directory (ours or transformers'), packed offline weights only.

    Returns ModelWeights with meta = {"source": "hf", "path", "linear_class", "weight_scale":
    {"layers.<i>.<proj>": np.float32 ws as stored}}. gamma: the exact value from our metadata if
    present, else fp32(1/ws) (bitlinear) or ws (autobitlinear).
    """
    d = Path(directory)
    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(2, "no config.json in checkpoint directory", str(d))
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{cfg_path}: not valid JSON ({exc})") from None
    if cfg.get("model_type") != "bitnet":
        raise ValueError(f"{cfg_path}: model_type is {cfg.get('model_type')!r}, expected 'bitnet'")
    qc = cfg.get("quantization_config") or {}
    linear_class = qc.get("linear_class", "bitlinear")
    if linear_class not in LINEAR_CLASSES:
        raise ValueError(f"{cfg_path}: unknown linear_class {linear_class!r}")
    config = _config_from_json(cfg, str(cfg_path))
    st_path = d / "model.safetensors"
    if not st_path.is_file():
        raise FileNotFoundError(2, "no model.safetensors in checkpoint directory", str(d))
    tensors, metadata = read_safetensors(st_path)

    def get(name, shape=None):
        if name not in tensors:
            raise ValueError(f"{st_path}: missing tensor {name!r}")
        arr = tensors[name]
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise ValueError(f"{st_path}: tensor {name!r} has shape {list(arr.shape)}, "
                             f"expected {list(shape)}")
        return arr

    floats = {n: np.array(get(n, s), dtype=np.float32) for n, s in hf_tensor_names(config).items()}
    layers, scales = [], {}
    for i in range(config.num_layers):
        lins = {}
        for p in PROJECTIONS:
            base = f"model.layers.{i}.{_PROJ[p]}"
            m, k = config.projection_shape(p)
            packed = get(f"{base}.weight")
            if packed.dtype != np.uint8:
                raise ValueError(f"{st_path}: tensor {base}.weight is {packed.dtype}, expected packed "
                                 "uint8 (only offline-quantized checkpoints are supported)")
            get(f"{base}.weight", (m // 4, k))
            try:
                codes = unpack_codes(packed, m)
            except ValueError as exc:
                raise ValueError(f"{st_path}: tensor {base}.weight: {exc}") from None
            ws = np.float32(get(f"{base}.weight_scale").reshape(-1)[0])
            scales[f"layers.{i}.{p}"] = ws
            exact = metadata.get(f"workbench.gamma.{base}")
            if exact is not None:
                gamma = np.float32(float.fromhex(exact))
            else:
                gamma = np.float32(1) / ws if linear_class == "bitlinear" else ws
            lins[p] = TernaryLinear(codes, gamma,
                                   weight_scale=ws if linear_class == "bitlinear" else None)
        norms = {key: floats[f"model.layers.{i}.{n}.weight"] for key, n in _NORMS.items()}
        layers.append(LayerWeights(**norms, **lins))
    lm_head = None if config.tie_embeddings else floats["lm_head.weight"]
    meta = {"source": "hf", "path": str(d), "linear_class": linear_class, "weight_scale": scales}
    return ModelWeights(config=config, embed=floats["model.embed_tokens.weight"], layers=layers,
                        final_norm=floats["model.norm.weight"], lm_head=lm_head, meta=meta)
