"""SoC descriptions: the phones, laptops and servers a whole-model projection runs on.

Data layer under `workbench.projection`: one sourced TOML per SoC in ``workbench/soc/socs/``
(schema: workbench/soc/README.md), read by `load_soc` into a `SoC` of CPU `Cluster`s and
`Accelerator`s (each naming a machine file of `isa_models`), its `Dram`, caches, process node
and power figures, plus the published figures measured on it.
"""

from workbench.soc.schema import (DRAM_TYPES, Accelerator, Cluster, Dram, Published, SoC, SoCError, load_soc,
                                  soc_names)

__all__ = ["load_soc", "soc_names", "SoC", "Cluster", "Accelerator", "Dram", "Published", "SoCError",
           "DRAM_TYPES"]
