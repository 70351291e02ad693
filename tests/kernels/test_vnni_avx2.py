"""vnni AVX2 kernel: exact on every 2B-4T shape (functional executor), on hypothesis-drawn small
shapes with adversarial activations and all +1 / all -1 rows, and natively (conftest.exact_kernel_tests)."""

from __future__ import annotations

from conftest import exact_kernel_tests
from kernels.vnni.avx2 import QK as BLOCK

(test_sweep_2b4t_exact, test_small_shapes_exact,
 test_native_equals_reference) = exact_kernel_tests("vnni", block=BLOCK)
