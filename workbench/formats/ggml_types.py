"""ggml tensor types of a GGUF file: upstream ids (gguf-py's table) and the BitNet fork's.

Ground-truth layer, below `gguf_reader` and `gguf_io`. A GGUF tensor names its type by a uint32
id. Upstream ids come from gguf-py (`GGMLQuantizationType`, `GGML_QUANT_SIZES`). The BitNet fork
(microsoft/BitNet's llama.cpp submodule, Eddie-Wang1120/llama.cpp) numbers its own types
TQ1_0 = 34, TQ2_0 = 35, I2_S = 36, I8_S = 37, TL1 = 38, TL2 = 39, which collide with upstream
(39 = MXFP4; research/kernels.md §1.6): `resolve(id, fork=...)` picks the table. `format_name`
gives the workbench's name of a type ("f16", "q6_K", "i2s_x86", "tq2_0").
"""

from __future__ import annotations

from dataclasses import dataclass

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

__all__ = ["GgmlType", "resolve", "format_name", "FORK_TYPE_IDS", "FORK_ARCHITECTURES",
           "FORK_ONLY_IDS", "I2S_FORK_ID", "LLAMA_FTYPE_MOSTLY_I2_S", "FORK_SOURCE"]

FORK_SOURCE = ("microsoft/BitNet 3rdparty/llama.cpp (Eddie-Wang1120/llama.cpp) ggml/include/ggml.h "
               "enum ggml_type; ggml/src/ggml.c type_traits (I2_S: blck_size 1, type_size 1) and "
               "ggml_nbytes (I2_S, TL1: n/4 + 32 bytes); research/kernels.md §1.6")

#: The fork's type ids that differ from upstream's meaning (name, bytes rule).
#: "n/4+32": 2-bit codes of every weight, then a 32-byte tail whose first 4 bytes are the fp32
#: per-tensor scale (BN src/ggml-bitnet-mad.cpp quantize_i2_s; ggml.c ggml_nbytes).
FORK_TYPE_IDS = {34: "TQ1_0", 35: "TQ2_0", 36: "I2_S", 37: "I8_S", 38: "TL1", 39: "TL2"}
I2S_FORK_ID = 36
#: Ids no upstream ggml assigns (36-38 are reserved there): a tensor of one marks a fork file.
FORK_ONLY_IDS = frozenset({36, 37, 38})
#: Architectures written only by the fork's converters: "bitnet-b1.58" (utils/convert-hf-to-gguf-
#: bitnet.py BitnetModel, MODEL_ARCH.BITNET_B158; the official 2B-4T GGUF) and "bitnet-25"
#: (utils/convert-ms-to-gguf-bitnet.py, MODEL_ARCH.BITNET_25).
FORK_ARCHITECTURES = ("bitnet-b1.58", "bitnet-25")
#: general.file_type of an I2_S model (fork include/llama.h LLAMA_FTYPE_MOSTLY_I2_S = 40).
LLAMA_FTYPE_MOSTLY_I2_S = 40


@dataclass(frozen=True)
class GgmlType:
    """One tensor type as a file uses it.

    Attributes
    ----------
    id : the uint32 stored in the tensor-info table.
    name : ggml's name ("F16", "Q6_K", "I2_S").
    fork : True for a type of the BitNet fork's table.
    block, block_bytes : weights per block and bytes per block (0, 0 when the size has no block
        rule, as for the fork's TL2, whose size depends on its kernel tiling).
    """

    id: int
    name: str
    fork: bool
    block: int
    block_bytes: int

    @property
    def upstream(self) -> GGMLQuantizationType | None:
        """gguf-py's enum member for an upstream type, else None."""
        return None if self.fork else GGMLQuantizationType(self.id)

    def nbytes(self, n_elements: int) -> int | None:
        """Bytes of a tensor of `n_elements`; None when the type has no size rule (TL2)."""
        if self.fork and self.name in ("I2_S", "TL1"):
            return n_elements // 4 + 32
        if not self.block:
            return None
        return n_elements // self.block * self.block_bytes


_FORK_SIZES = {"TQ1_0": (256, 54), "TQ2_0": (256, 66), "I2_S": (1, 1), "I8_S": (1, 1), "TL1": (1, 1),
               "TL2": (0, 0)}


def resolve(type_id: int, *, fork: bool) -> GgmlType | None:
    """The type of id `type_id` in a fork file (`fork=True`) or an upstream one; None if unknown.

    In a fork file, 34..39 follow the fork's table and 40 and above are unknown (the fork's enum
    ends at GGML_TYPE_COUNT after TL2); 0..33 mean the same in both.
    """
    tid = int(type_id)
    if fork and tid in FORK_TYPE_IDS:
        name = FORK_TYPE_IDS[tid]
        if name in ("TQ1_0", "TQ2_0"):
            return GgmlType(tid, name, False, *GGML_QUANT_SIZES[GGMLQuantizationType[name]])
        return GgmlType(tid, name, True, *_FORK_SIZES[name])
    if fork and tid > max(FORK_TYPE_IDS):
        return None
    try:
        qt = GGMLQuantizationType(tid)
    except ValueError:
        return None
    block, nbytes = GGML_QUANT_SIZES[qt]
    return GgmlType(tid, qt.name, False, block, nbytes)


def format_name(t: GgmlType) -> str:
    """The workbench's name of a type: dense ones as ggml spells them in lower case with the
    k-quant suffix kept ("f16", "bf16", "q8_0", "q6_K", "q4_K"); ternary ones as the
    `workbench.formats` packing that holds them ("i2s_x86" for the fork's I2_S, "tq2_0", "tl1")."""
    if t.fork and t.name == "I2_S":
        return "i2s_x86"
    name = t.name.lower()
    return name[:-2] + "_K" if name.endswith("_k") else name
