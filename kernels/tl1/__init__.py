"""TL1 kernels (bitnet.cpp's ARM LUT kernel: one 4-bit index per weight pair), one module per ISA."""
