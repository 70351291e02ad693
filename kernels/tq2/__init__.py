"""TQ2_0 kernels (ggml's ternary 2-bit block format with int8 activations), one module per ISA."""
