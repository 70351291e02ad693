"""isa_models/core package."""
