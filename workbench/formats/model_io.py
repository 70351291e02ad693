"""`load_model`: open any supported model file or directory as `ModelWeights`.

Ground-truth layer. Dispatches on content, not name: a file starting with the GGUF magic goes to
`gguf_io.load_gguf`; a directory, a config.json or a .safetensors file goes to
`hf_io.load_hf_checkpoint` (of the directory holding it). Every failure is one ValueError /
OSError line naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

from workbench.reference.weights import ModelWeights

__all__ = ["load_model", "GGUF_MAGIC", "detect_kind"]

GGUF_MAGIC = b"GGUF"


def detect_kind(path) -> str:
    """"gguf" or "hf" for `path`, or raise ValueError / OSError saying why neither fits."""
    p = Path(path)
    if p.is_dir():
        return "hf"
    if not p.exists():
        raise FileNotFoundError(2, "no such file or directory", str(p))
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head[:4] == GGUF_MAGIC:
        return "gguf"
    if p.name == "config.json" or p.suffix == ".safetensors":
        return "hf"
    if not head:
        raise ValueError(f"{p}: empty file, not a model (expected GGUF, or a HF checkpoint directory)")
    raise ValueError(f"{p}: not a model file: no GGUF magic (starts with {head[:4]!r}), "
                     "not a checkpoint directory, config.json or .safetensors")


def load_model(path) -> ModelWeights:
    """Load a model from a GGUF file or a Hugging Face BitNet checkpoint (dir / config.json /
    model.safetensors). Raises ValueError or OSError with "<path>: <problem>"."""
    p = Path(path)
    if detect_kind(p) == "gguf":
        from workbench.formats.gguf_io import load_gguf

        return load_gguf(p)
    from workbench.formats.hf_io import load_hf_checkpoint

    return load_hf_checkpoint(p if p.is_dir() else p.parent)
