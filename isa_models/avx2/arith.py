"""AVX2 element-wise integer arithmetic: add/sub (wrapping and saturating), sign, abs, mul, compare.

Semantics layer (`isa_models.avx2`): one small pure function per mnemonic, registered with its
ymm, ymm-with-memory-source (and where kernels need it, xmm) forms by `forms.binary`/`unary`.
Bodies are lane math on the typed views of `lanes`; wrap and saturation come from the helpers.
Reference: Intel SDM vol. 2 (PADDB/PADDSB/PSIGNB/PABSB/PMULLW/PCMPEQB ...).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import binary, unary
from isa_models.core.lanes import lanes, saturate, to_bytes, wrap

__all__ = [
    "vpaddb_ymm", "vpaddw_ymm", "vpaddd_ymm", "vpaddq_ymm", "vpaddsb_ymm", "vpaddsw_ymm",
    "vpaddusb_ymm", "vpaddusw_ymm", "vpsubb_ymm", "vpsubw_ymm", "vpsubd_ymm", "vpsubq_ymm",
    "vpsubsb_ymm", "vpsubsw_ymm", "vpsubusb_ymm", "vpsubusw_ymm", "vpavgb_ymm", "vpavgw_ymm",
    "vpsignb_ymm", "vpsignw_ymm", "vpsignd_ymm", "vpabsb_ymm", "vpabsw_ymm", "vpabsd_ymm",
    "vpmullw_ymm", "vpmulld_ymm", "vpcmpeqb_ymm", "vpcmpeqw_ymm", "vpcmpeqd_ymm", "vpcmpgtb_ymm",
    "vpcmpgtw_ymm", "vpmaxub_ymm", "vpminub_ymm", "vpmaxsb_ymm", "vpminsb_ymm",
]


def _add(a, b, t):
    return wrap(lanes(a, t).astype(np.int64) + lanes(b, t), t)


def _sub(a, b, t):
    return wrap(lanes(a, t).astype(np.int64) - lanes(b, t), t)


def _adds(a, b, t):
    return saturate(lanes(a, t).astype(np.int64) + lanes(b, t), t)


def _subs(a, b, t):
    return saturate(lanes(a, t).astype(np.int64) - lanes(b, t), t)


# wrapping add / sub ----------------------------------------------------------------------------
@binary("add_epi8", xmm="add_epi8")
def vpaddb_ymm(a, b):
    return _add(a, b, np.int8)


@binary("add_epi16", xmm="add_epi16")
def vpaddw_ymm(a, b):
    return _add(a, b, np.int16)


@binary("add_epi32", xmm="add_epi32")
def vpaddd_ymm(a, b):
    return _add(a, b, np.int32)


@binary("add_epi64")
def vpaddq_ymm(a, b):
    return to_bytes(lanes(a, np.uint64) + lanes(b, np.uint64), np.uint64)


@binary("sub_epi8")
def vpsubb_ymm(a, b):
    return _sub(a, b, np.int8)


@binary("sub_epi16")
def vpsubw_ymm(a, b):
    return _sub(a, b, np.int16)


@binary("sub_epi32")
def vpsubd_ymm(a, b):
    return _sub(a, b, np.int32)


@binary("sub_epi64")
def vpsubq_ymm(a, b):
    return to_bytes(lanes(a, np.uint64) - lanes(b, np.uint64), np.uint64)


# saturating add / sub --------------------------------------------------------------------------
@binary("adds_epi8")
def vpaddsb_ymm(a, b):
    return _adds(a, b, np.int8)


@binary("adds_epi16")
def vpaddsw_ymm(a, b):
    return _adds(a, b, np.int16)


@binary("adds_epu8")
def vpaddusb_ymm(a, b):
    return _adds(a, b, np.uint8)


@binary("adds_epu16")
def vpaddusw_ymm(a, b):
    return _adds(a, b, np.uint16)


@binary("subs_epi8")
def vpsubsb_ymm(a, b):
    return _subs(a, b, np.int8)


@binary("subs_epi16")
def vpsubsw_ymm(a, b):
    return _subs(a, b, np.int16)


@binary("subs_epu8")
def vpsubusb_ymm(a, b):
    return _subs(a, b, np.uint8)


@binary("subs_epu16")
def vpsubusw_ymm(a, b):
    return _subs(a, b, np.uint16)


@binary("avg_epu8")
def vpavgb_ymm(a, b):
    return to_bytes((lanes(a, np.uint8).astype(np.int64) + lanes(b, np.uint8) + 1) >> 1, np.uint8)


@binary("avg_epu16")
def vpavgw_ymm(a, b):
    return to_bytes((lanes(a, np.uint16).astype(np.int64) + lanes(b, np.uint16) + 1) >> 1, np.uint16)


# sign and absolute value -----------------------------------------------------------------------
def _sign(a, b, t):
    x, s = lanes(a, t).astype(np.int64), lanes(b, t)
    return wrap(np.where(s < 0, -x, np.where(s == 0, 0, x)), t)


@binary("sign_epi8")
def vpsignb_ymm(a, b):
    """a negated where b < 0, zeroed where b == 0 (-(-128) wraps to -128)."""
    return _sign(a, b, np.int8)


@binary("sign_epi16")
def vpsignw_ymm(a, b):
    return _sign(a, b, np.int16)


@binary("sign_epi32")
def vpsignd_ymm(a, b):
    return _sign(a, b, np.int32)


@unary("abs_epi8")
def vpabsb_ymm(a):
    """|a| as unsigned bytes: |-128| = 0x80."""
    return wrap(np.abs(lanes(a, np.int8).astype(np.int64)), np.int8)


@unary("abs_epi16")
def vpabsw_ymm(a):
    return wrap(np.abs(lanes(a, np.int16).astype(np.int64)), np.int16)


@unary("abs_epi32")
def vpabsd_ymm(a):
    return wrap(np.abs(lanes(a, np.int32).astype(np.int64)), np.int32)


# multiply (low half) ---------------------------------------------------------------------------
@binary("mullo_epi16")
def vpmullw_ymm(a, b):
    return wrap(lanes(a, np.int16).astype(np.int64) * lanes(b, np.int16), np.int16)


@binary("mullo_epi32")
def vpmulld_ymm(a, b):
    return wrap(lanes(a, np.int32).astype(np.int64) * lanes(b, np.int32), np.int32)


# compare and min / max -------------------------------------------------------------------------
def _mask(cond, t):
    return to_bytes(np.where(cond, -1, 0), t)


@binary("cmpeq_epi8")
def vpcmpeqb_ymm(a, b):
    return _mask(lanes(a, np.uint8) == lanes(b, np.uint8), np.int8)


@binary("cmpeq_epi16")
def vpcmpeqw_ymm(a, b):
    return _mask(lanes(a, np.uint16) == lanes(b, np.uint16), np.int16)


@binary("cmpeq_epi32")
def vpcmpeqd_ymm(a, b):
    return _mask(lanes(a, np.uint32) == lanes(b, np.uint32), np.int32)


@binary("cmpgt_epi8")
def vpcmpgtb_ymm(a, b):
    return _mask(lanes(a, np.int8) > lanes(b, np.int8), np.int8)


@binary("cmpgt_epi16")
def vpcmpgtw_ymm(a, b):
    return _mask(lanes(a, np.int16) > lanes(b, np.int16), np.int16)


@binary("max_epu8")
def vpmaxub_ymm(a, b):
    return to_bytes(np.maximum(lanes(a, np.uint8), lanes(b, np.uint8)), np.uint8)


@binary("min_epu8")
def vpminub_ymm(a, b):
    return to_bytes(np.minimum(lanes(a, np.uint8), lanes(b, np.uint8)), np.uint8)


@binary("max_epi8")
def vpmaxsb_ymm(a, b):
    return to_bytes(np.maximum(lanes(a, np.int8), lanes(b, np.int8)), np.int8)


@binary("min_epi8")
def vpminsb_ymm(a, b):
    return to_bytes(np.minimum(lanes(a, np.int8), lanes(b, np.int8)), np.int8)
