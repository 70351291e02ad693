"""TL2 kernels (bitnet.cpp's x86 LUT kernel: 3 weights -> 4-bit index + sign), one module per ISA."""
