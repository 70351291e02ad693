"""`load_model`: open any supported model file or directory as `ModelWeights`.

Ground-truth layer. Dispatches on content, not name: a file starting with the GGUF magic goes to
`gguf_io.load_gguf`; a directory, a config.json or a .safetensors file goes to
`hf_io.load_hf_checkpoint` (of the directory holding it). `file_formats` reads only the header
of either kind: the model's config and the storage formats of its tensors (what
`workbench.projection` needs of a real checkpoint). Every failure is one `ModelFileError` line (a
`workbench.errors.UserError`) naming the file and the problem.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from workbench.formats._common import ModelFileError
from workbench.reference.weights import ModelWeights

__all__ = ["load_model", "file_formats", "GGUF_MAGIC", "detect_kind", "ModelFileError"]

GGUF_MAGIC = b"GGUF"


def detect_kind(path) -> str:
    """"gguf" or "hf" for `path`, or raise ModelFileError saying why neither fits."""
    p = Path(path)
    if p.is_dir():
        return "hf"
    if not p.exists():
        raise ModelFileError(f"{p}: no such file or directory")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if head[:4] == GGUF_MAGIC:
        return "gguf"
    if p.name == "config.json" or p.suffix == ".safetensors":
        return "hf"
    if not head:
        raise ModelFileError(f"{p}: empty file, not a model (expected GGUF, or a HF checkpoint "
                             "directory)")
    raise ModelFileError(f"{p}: not a model file: no GGUF magic (starts with {head[:4]!r}), "
                         "not a checkpoint directory, config.json or .safetensors")


def load_model(path) -> ModelWeights:
    """Load a model from a GGUF file or a Hugging Face BitNet checkpoint (directory, its
    config.json, or its .safetensors file, read with the config.json beside it).

    Raises
    ------
    ModelFileError : "<path>: <problem>" (missing, empty, corrupt, wrong JSON types, NaN weights).
    """
    p = Path(path)
    if detect_kind(p) == "gguf":
        from workbench.formats.gguf_io import load_gguf

        return load_gguf(p)
    from workbench.formats.hf_io import load_hf_checkpoint

    if p.is_dir():
        return load_hf_checkpoint(p)
    return load_hf_checkpoint(p.parent, safetensors=p if p.suffix == ".safetensors" else None)


def file_formats(path) -> dict:
    """The config and storage formats of a GGUF file or Hugging Face checkpoint, from headers only.

    Returns
    -------
    dict with keys
        config : ModelConfig
        ternary : the `workbench.formats` packing of the projections ("i2s_x86" for I2_S, "tq1_0",
            "tq2_0", "tl1", "tl2", "hf_2bit" for a packed HF checkpoint)
        embedding : dense format name of the embedding ("f32", "f16", "bf16", "q8_0", "q6_K", ...)
        lm_head : dense format name of the lm_head, None when it is tied to the embedding

    Raises
    ------
    ModelFileError : "<path>: <problem>", as `load_model`.
    """
    p = Path(path)
    if detect_kind(p) == "gguf":
        from workbench.formats.gguf_io import gguf_formats

        return gguf_formats(p)
    d = p if p.is_dir() else p.parent
    st = p if p.suffix == ".safetensors" else d / "model.safetensors"
    return _hf_formats(d, st)


# safetensors dtype -> dense format name
_ST_DENSE = {"F32": "f32", "F16": "f16", "BF16": "bf16"}


def _safetensors_dtypes(path: Path) -> dict[str, tuple[str, list]]:
    """name -> (dtype, shape) from a .safetensors header (the data is not read)."""
    if not path.is_file():
        raise ModelFileError(f"{path.parent}: no {path.name} in checkpoint directory")
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path}: {len(head)} bytes is too short for a safetensors file")
        (hlen,) = struct.unpack("<Q", head)
        if hlen > path.stat().st_size - 8:
            raise ModelFileError(f"{path}: safetensors header length {hlen} exceeds the file size")
        try:
            header = json.loads(fh.read(hlen))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelFileError(f"{path}: safetensors header is not JSON ({msg})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: safetensors header: must be a JSON object")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("dtype"), str) \
                or not isinstance(info.get("shape"), list):
            raise ModelFileError(f"{path}: safetensors header: tensor {name!r} lacks a dtype and shape")
        out[name] = (info["dtype"], info["shape"])
    return out


def _hf_formats(d: Path, st: Path) -> dict:
    from workbench.formats.hf_io import _ConfigJson, _config_from_json

    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise ModelFileError(f"{d}: no config.json in checkpoint directory")
    try:
        cj = _ConfigJson(json.loads(cfg_path.read_text()), str(cfg_path))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{cfg_path}: not valid JSON ({msg})") from None
    config = _config_from_json(cj)
    dtypes = _safetensors_dtypes(st)

    def dense(name):
        if name not in dtypes:
            raise ModelFileError(f"{st}: missing tensor {name!r}")
        dtype = dtypes[name][0]
        if dtype not in _ST_DENSE:
            raise ModelFileError(f"{st}: tensor {name!r} is {dtype}, expected F32, F16 or BF16")
        return _ST_DENSE[dtype]

    proj = "model.layers.0.self_attn.q_proj.weight"
    if proj not in dtypes:
        raise ModelFileError(f"{st}: missing tensor {proj!r}")
    dtype = dtypes[proj][0]        # packed uint8 (offline quantized) or float master weights
    ternary = "hf_2bit" if dtype == "U8" else _ST_DENSE.get(dtype, dtype.lower())
    return {"config": config, "ternary": ternary, "embedding": dense("model.embed_tokens.weight"),
            "lm_head": None if config.tie_embeddings else dense("lm_head.weight")}
