"""A GGUF reader that also knows the BitNet fork's tensor types (I2_S = 36, ...).

Ground-truth layer, used by `gguf_io` (loading, inspecting) and `model_io.file_formats`. gguf-py's
`GGUFReader` parses the header and metadata; its tensor step refuses ids gguf-py does not list
(36 and up in the fork), so `ForkAwareReader` replaces that one step: each tensor becomes a
`FileTensor` with its `GgmlType` (`ggml_types.resolve`, the fork's table when the file is a fork
file), its numpy-order shape and its raw bytes (a view of the memory-mapped file). It also
reads metadata arrays (a tokenizer's 128256 tokens, scores and types, 280147 merges) in one pass
instead of gguf-py's per-element recursion (about 1 s instead of 20 s), with the same fields as a
result. Nothing is patched in gguf-py; a truncated or inconsistent table raises ValueError,
which callers turn into a one-line `ModelFileError`. The I2_S bytes are read as the x86 layout (128-weight blocks),
which the official 2B-4T file uses; nothing in a file tells it from the 64-weight ARM layout that
bitnet.cpp's quantize_i2_s writes on ARM hosts since 2025-11 (research/kernels.md §1.2).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import struct

import numpy as np
from gguf import GGUFReader, GGUFValueType

from workbench.formats.ggml_types import FORK_ARCHITECTURES, FORK_ONLY_IDS, GgmlType, resolve

__all__ = ["ForkAwareReader", "FileTensor", "is_fork_file"]


class FileTensor(NamedTuple):
    """One tensor of a GGUF file.

    type_id is the raw id; ``type`` its resolved `GgmlType` (None for an id neither table has);
    shape is numpy order (rows first: ggml's ne reversed); raw is the tensor's bytes (uint8) or,
    when the type has no size rule, the bytes up to the next tensor.
    """

    name: str
    type_id: int
    type: GgmlType | None
    shape: tuple[int, ...]
    n_elements: int
    n_bytes: int
    data_offset: int
    raw: np.ndarray


def is_fork_file(architecture, type_ids) -> bool:
    """True when a file follows the BitNet fork's type table: its architecture is one only the
    fork writes, or a tensor uses an id only the fork assigns (36-38)."""
    return architecture in FORK_ARCHITECTURES or any(int(t) in FORK_ONLY_IDS for t in type_ids)


class ForkAwareReader(GGUFReader):
    """`gguf.GGUFReader` whose `tensors` are `FileTensor`s and whose types include the fork's.

    ``fork`` tells which table the ids were read with.
    """

    fork: bool = False

    def __init__(self, path):
        super().__init__(os.fspath(path), "r")

    def _get_field_parts(self, orig_offs: int, raw_type: int):
        """gguf-py's field parser, with a one-pass path for a little-endian array of strings or
        numbers that returns the same (size, parts, data indices, types)."""
        if raw_type != GGUFValueType.ARRAY or self.byte_order != "I":
            return super()._get_field_parts(orig_offs, raw_type)
        raw_itype = self._get(orig_offs, np.uint32)
        alen = self._get(orig_offs + 4, np.uint64)
        data = self.data.view(np.ndarray)          # plain views: no memmap object per element
        size = int(data.shape[0])
        offs = orig_offs + 12
        parts: list = [raw_itype, alen]
        itype = int(raw_itype[0])
        try:
            nptype = self.gguf_scalar_to_np.get(GGUFValueType(itype))
        except ValueError:                          # gguf-py's parser names the bad type
            return super()._get_field_parts(orig_offs, raw_type)
        if nptype is not None:                      # an array of numbers: one element per part
            n, width = int(alen[0]), np.dtype(nptype).itemsize
            if offs + n * width > size:
                raise ValueError(f"array at byte {orig_offs} runs past the end of the file")
            elems = data[offs:offs + n * width].view(nptype)
            parts += [elems[i:i + 1] for i in range(n)]
            return 12 + n * width, parts, list(range(2, 2 + n)), [GGUFValueType.ARRAY,
                                                                   GGUFValueType(itype)]
        if itype != GGUFValueType.STRING:
            return super()._get_field_parts(orig_offs, raw_type)
        for _ in range(int(alen[0])):
            if offs + 8 > size:
                raise ValueError(f"string array at byte {orig_offs} runs past the end of the file")
            (n,) = struct.unpack_from("<Q", data, offs)
            if offs + 8 + n > size:
                raise ValueError(f"string array at byte {orig_offs} runs past the end of the file")
            parts.append(data[offs:offs + 8].view(np.uint64))
            parts.append(data[offs + 8:offs + 8 + n])
            offs += 8 + n
        idxs = list(range(3, len(parts), 2))
        return offs - orig_offs, parts, idxs, [GGUFValueType.ARRAY, GGUFValueType.STRING]

    def _build_tensors(self, start_offs: int, fields) -> None:   # gguf-py's one tensor step
        infos = []
        for field in fields:
            _len, name_data, _n_dims, dims, raw_dtype, offset_tensor = field.parts
            name = str(bytes(name_data), encoding="utf-8")
            ne = [int(d) for d in dims]
            infos.append((name, ne, int(raw_dtype[0]), int(start_offs + int(offset_tensor[0]))))
        arch_field = self.fields.get("general.architecture")
        arch = arch_field.contents() if arch_field is not None else None
        self.fork = is_fork_file(arch, (i[2] for i in infos))
        size = int(self.data.shape[0])
        starts = sorted({i[3] for i in infos} | {size})
        names, tensors = set(), []
        for name, ne, tid, offs in infos:
            if name in names:
                raise ValueError(f"duplicated tensor {name!r}")
            names.add(name)
            n_elements = int(np.prod(ne, dtype=object)) if ne else 1
            gtype = resolve(tid, fork=self.fork)
            n_bytes = gtype.nbytes(n_elements) if gtype is not None else None
            if offs > size:
                raise ValueError(f"tensor {name!r} starts at byte {offs}, past the end of the "
                                 f"{size}-byte file (truncated?)")
            if n_bytes is None:                          # unknown size: up to the next tensor
                n_bytes = next(s for s in starts if s > offs) - offs if offs < size else 0
            if offs + n_bytes > size:
                raise ValueError(f"tensor {name!r} needs bytes [{offs}, {offs + n_bytes}) but the "
                                 f"file has {size} bytes (truncated?)")
            raw = self.data[offs:offs + n_bytes]
            tensors.append(FileTensor(name, tid, gtype, tuple(reversed(ne)), n_elements, n_bytes,
                                      offs, raw))
        self.tensors = tensors
