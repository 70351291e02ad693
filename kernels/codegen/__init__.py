"""kernels/codegen package."""
