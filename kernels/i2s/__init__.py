"""I2_S kernels (bitnet.cpp's MAD kernel on 2-bit codes), one module per ISA."""
