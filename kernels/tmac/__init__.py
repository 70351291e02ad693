"""T-MAC-style kernels (bit-plane LUT lookups with int8-rounded tables), one module per ISA."""
