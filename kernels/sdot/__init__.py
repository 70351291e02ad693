"""sdot: the exact int8 dot product on decoded ternary codes (t in {-1, 0, 1} as int8) with sdot.

Kernel family; the NEON kernel is `kernels/sdot/neon.py` (weights in bitnet.cpp's ARM I2_S layout).
"""
