"""isa_models package."""
