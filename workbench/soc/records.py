"""The SoC records: `SoC`, its CPU `Cluster`s, `Accelerator`s, `Dram` and `Published` figures.

Data layer of the projection, filled by `workbench.soc.schema` from a sourced TOML
(workbench/soc/README.md). Immutable values plus the few derived figures the projection reads
(peak and sustained DRAM bandwidth, a cluster's clock and power by busy cores, the machine file
at the SoC's clock) and each value's provenance (`SoC.source_of`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from workbench.errors import UserError

__all__ = ["SoCError", "SoC", "Cluster", "Accelerator", "Dram", "Published", "DRAM_TYPES", "PHASES"]

#: DRAM generations the energy model has per-byte figures for
DRAM_TYPES = ("LPDDR4X", "LPDDR5", "LPDDR5X", "DDR4", "DDR5")

#: what a published tokens/s figure measures
PHASES = ("decode", "prefill")


class SoCError(UserError):
    """A malformed or inconsistent SoC description (one line naming the file, table and key)."""


@dataclass(frozen=True)
class Cluster:
    """A group of identical CPU cores at one clock (and optionally a boost clock).

    Attributes
    ----------
    name : the cluster's name in the file ("prime", "performance", ...).
    isa : the ISA of its machine file (a registered ISA name).
    machine : the machine file's name (``isa_models/machines/<isa>/<machine>.toml``).
    count : cores in the cluster.
    clock_ghz : the cores' clock; it overrides the machine file's clock for the projection.
    active_power_w : power of one core running vector code (W), its share of the cluster's L2 included.
    idle_power_w : power of one idle, clocked core (W).
    dram_gbps_core : one core streaming from DRAM (GB/s): the file's value, else the machine's.
    boost_ghz, boost_cores, boost_power_w : optional (None, 0, None when absent): with at most
        `boost_cores` cores of the cluster busy they run at `boost_ghz` and draw `boost_power_w`
        each (single-core turbo: laptops, servers, the X Elite's 1-2 core boost).
    """

    name: str
    isa: str
    machine: str
    count: int
    clock_ghz: float
    active_power_w: float
    idle_power_w: float
    dram_gbps_core: float
    boost_ghz: float | None = None
    boost_cores: int = 0
    boost_power_w: float | None = None
    _machine: object = field(default=None, repr=False, compare=False)

    def load_machine(self):
        """The machine file as `isa_models.core.machine.load_machine(machine, isa=isa)` reads it."""
        from isa_models.core.machine import load_machine

        return self._machine if self._machine is not None else load_machine(self.machine, isa=self.isa)

    def clock_for(self, busy: int) -> float:
        """The cores' clock (GHz) with `busy` cores of this cluster running: `boost_ghz` up to
        `boost_cores`, else `clock_ghz`."""
        return self.boost_ghz if self.boost_ghz is not None and 1 <= busy <= self.boost_cores else self.clock_ghz

    def power_for(self, busy: int) -> float:
        """Active power of one core (W) with `busy` cores of this cluster running (see `clock_for`)."""
        return self.boost_power_w if self.boost_ghz is not None and 1 <= busy <= self.boost_cores \
            else self.active_power_w

    def machine_at_clock(self, *, busy: int | None = None):
        """The machine at the clock this cluster runs it (`clock_for(busy)`; `clock_ghz` when
        `busy` is None) with the cluster's `dram_gbps_core`: what the projection times with."""
        clock = self.clock_ghz if busy is None else self.clock_for(busy)
        return dataclasses.replace(self.load_machine(), clock_ghz=clock, dram_gbps_core=self.dram_gbps_core)

    def to_json(self) -> dict:
        return {"name": self.name, "isa": self.isa, "machine": self.machine, "count": self.count,
                "clock_ghz": self.clock_ghz, "active_power_w": self.active_power_w,
                "idle_power_w": self.idle_power_w, "dram_gbps_core": self.dram_gbps_core,
                "boost_ghz": self.boost_ghz, "boost_cores": self.boost_cores, "boost_power_w": self.boost_power_w}


@dataclass(frozen=True)
class Accelerator:
    """An engine beside the CPU clusters: a vector DSP's contexts or a MAC array.

    Attributes
    ----------
    name : its name in the file.
    kind : the ISA of its machine file (the engine the projection times it with).
    machine : the machine file's name.
    clock_ghz : its clock; overrides the machine file's clock for the projection.
    active_power_w, idle_power_w : power while computing / idle (W).
    dram_gbps : its share of the DRAM bandwidth when it streams weights (GB/s).
    """

    name: str
    kind: str
    machine: str
    clock_ghz: float
    active_power_w: float
    idle_power_w: float
    dram_gbps: float
    _machine: object = field(default=None, repr=False, compare=False)

    def load_machine(self):
        """The machine file as `isa_models.core.machine.load_machine(machine, isa=kind)` reads it."""
        from isa_models.core.machine import load_machine

        return self._machine if self._machine is not None else load_machine(self.machine, isa=self.kind)

    def machine_at_clock(self):
        """The machine with this accelerator's `clock_ghz` and `dram_gbps` as its DRAM rate."""
        return dataclasses.replace(self.load_machine(), clock_ghz=self.clock_ghz, dram_gbps_core=self.dram_gbps)

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "machine": self.machine, "clock_ghz": self.clock_ghz,
                "active_power_w": self.active_power_w, "idle_power_w": self.idle_power_w,
                "dram_gbps": self.dram_gbps}


@dataclass(frozen=True)
class Dram:
    """The SoC's main memory.

    Attributes
    ----------
    type : one of `DRAM_TYPES`.
    mt_s : transfer rate (mega-transfers per second).
    bus_bits : total data bus width (bits).
    efficiency : sustained / peak read bandwidth (sourced or an assumption with its reason).
    capacity_gb : RAM of the named device (GB).
    background_power_w : DRAM power while refreshed and clocked, with no traffic (W).
    """

    type: str
    mt_s: float
    bus_bits: int
    efficiency: float
    capacity_gb: float
    background_power_w: float

    @property
    def peak_gbps(self) -> float:
        """Transfer rate x bus width: mt_s * bus_bits / 8 / 1000 GB/s."""
        return self.mt_s * self.bus_bits / 8 / 1000

    @property
    def sustained_gbps(self) -> float:
        """`peak_gbps` x `efficiency`."""
        return self.peak_gbps * self.efficiency

    def to_json(self) -> dict:
        return {"type": self.type, "mt_s": self.mt_s, "bus_bits": self.bus_bits, "efficiency": self.efficiency,
                "peak_gbps": self.peak_gbps, "sustained_gbps": self.sustained_gbps,
                "capacity_gb": self.capacity_gb, "background_power_w": self.background_power_w}


@dataclass(frozen=True)
class Published:
    """A published end-to-end figure measured on this SoC (a device with it).

    Exactly one of `tokens_per_s` and `joules_per_token` is set. `engine` is "cpu" or the kind of
    one of the SoC's accelerators; `threads` the CPU threads (or accelerator contexts) used;
    `phase` "decode" (tokens generated one at a time) or "prefill" (prompt tokens per second);
    `kernel` the workbench kernel standing for the publication's (None: the projection's default);
    `context` the KV positions a decode token attends to on average (None: the projection's default);
    `weight_format` a dense format of the projections (an FP16 baseline), None for ternary weights.
    """

    what: str
    model: str
    tokens_per_s: float | None
    joules_per_token: float | None
    threads: int
    engine: str
    includes: str
    source: str
    phase: str = "decode"
    kernel: str | None = None
    context: int | None = None
    weight_format: str | None = None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SoC:
    """One system on chip (or host) as the projection sees it. Schema: workbench/soc/README.md."""

    name: str
    path: Path
    description: str
    device: str
    process: str
    node_nm: float
    system_cache_bytes: int
    uncore_power_w: float
    clusters: tuple[Cluster, ...]
    accelerators: tuple[Accelerator, ...]
    dram: Dram
    published: tuple[Published, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)

    def source_of(self, key: str) -> str:
        """Provenance of one value by dotted key: ``soc.node_nm``, ``dram.peak_gbps``,
        ``clusters[0].clock_ghz`` or ``clusters.prime.clock_ghz``, ``accelerators.hvx.active_power_w``,
        ``published[0]``: the key's own ``sources`` entry, else its table's ``source``."""
        key = self._indexed(key)
        if key in self.sources:
            return self.sources[key]
        head, _, _ = key.rpartition(".")
        if head in self.sources:
            return self.sources[head]
        raise SoCError(f"SoC {self.name}: no value {key!r}")

    def _indexed(self, key: str) -> str:
        """``clusters.<name>.key`` -> ``clusters[i].key`` (same for accelerators)."""
        for table, units in (("clusters", self.clusters), ("accelerators", self.accelerators)):
            for i, unit in enumerate(units):
                prefix = f"{table}.{unit.name}"
                if key == prefix or key.startswith(prefix + "."):
                    return f"{table}[{i}]" + key[len(prefix):]
        return key

    @property
    def cores(self) -> int:
        """CPU cores over all clusters."""
        return sum(c.count for c in self.clusters)

    def accelerator(self, kind: str) -> Accelerator | None:
        """The first accelerator of `kind` (an ISA name), or None."""
        return next((a for a in self.accelerators if a.kind == kind), None)

    def to_json(self) -> dict:
        return {"name": self.name, "file": str(self.path), "description": self.description, "device": self.device,
                "process": self.process, "node_nm": self.node_nm, "system_cache_bytes": self.system_cache_bytes,
                "uncore_power_w": self.uncore_power_w, "clusters": [c.to_json() for c in self.clusters],
                "accelerators": [a.to_json() for a in self.accelerators], "dram": self.dram.to_json(),
                "published": [p.to_json() for p in self.published], "sources": dict(self.sources)}
