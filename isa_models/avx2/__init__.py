"""isa_models/avx2 package."""
