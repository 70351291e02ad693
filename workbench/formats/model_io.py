"""`load_model`: open any supported model file or directory as `ModelWeights`.

Ground-truth layer. Dispatches on content, not name: a file starting with the GGUF magic goes to
`gguf_io.load_gguf`; a directory, a config.json or a .safetensors file goes to
`hf_io.load_hf_checkpoint` (of the directory holding it). Every failure is one `ModelFileError`
line (a `workbench.errors.UserError`) naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

from workbench.formats._common import ModelFileError
from workbench.reference.weights import ModelWeights

__all__ = ["load_model", "GGUF_MAGIC", "detect_kind", "ModelFileError"]

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
