"""Weight formats: exact packers/unpackers of ternary codes, and model-file I/O.

Ground-truth layer (imports only `workbench.reference`'s containers). `FORMATS` maps a format
name to its `Format` record (pack, unpack, nbytes, bits per weight, layout keys); the model files
live in `gguf_io`, `hf_io` and `model_io` (imported on demand, they pull in gguf/safetensors).
Bad input raises `FormatError` (a packing) or `ModelFileError` (a model file), both
`workbench.errors.UserError`s.
"""

from __future__ import annotations

from workbench.errors import UnknownNameError
from workbench.formats._common import Format, FormatError, ModelFileError
from workbench.formats.hf2bit import HF_2BIT
from workbench.formats.vector_tiles import ROWS128, TMAN
from workbench.formats.i2s import I2S_ARM, I2S_X86
from workbench.formats.rows4 import ROWS4
from workbench.formats.tl1 import TL1
from workbench.formats.tl2 import TL2
from workbench.formats.tmac import TMAC
from workbench.formats.tq import TQ1_0, TQ2_0

__all__ = ["Format", "FormatError", "ModelFileError", "FORMATS", "get_format"]

FORMATS: dict[str, Format] = {f.name: f for f in (I2S_X86, I2S_ARM, TL1, TL2, TQ1_0, TQ2_0,
                                                   HF_2BIT, TMAC, ROWS4, TMAN, ROWS128)}


def get_format(name: str) -> Format:
    """The `Format` called `name`; an unknown name raises UnknownNameError listing the valid ones."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown weight format {name!r}; valid: {', '.join(FORMATS)}") from None
