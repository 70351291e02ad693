"""isa_models/npu package."""
