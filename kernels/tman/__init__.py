"""T-MAN kernels (T-MAC's bit-serial LUT method on the Hexagon NPU's HVX), one module per ISA."""
