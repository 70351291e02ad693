"""The npu_gemm kernel family: tiled ternary GEMV / GEMM on the MAC array (`gemm` plans and emits the
command stream; `npu` registers it in `kernels.registry`)."""
