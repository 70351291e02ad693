"""Design-space sweeps: many verified kernel simulations or SoC projections, run on Dask.

Sweep layer, above the flow and the projection. `spec` reads a sweep's TOML, `points` expands its
axes into resolved point configs, `kernel_point` / `projection_point` / `equivalence_point`
evaluate one point, `execute.run_points` runs them on a Dask cluster with a content-hashed cache,
`table` writes the Parquet or CSV table and `pareto` finds and plots the non-dominated front.
`workbench sweep` (`workbench.commands.sweep`) and `workbench tune` drive them. Submodules are
imported on demand so a Dask worker only loads what its points need.
"""
