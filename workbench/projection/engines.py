"""Timing one op on the units of a SoC: simulated ternary kernels, a roofline for everything else.

Projection layer (`workbench.projection`), between `ops` and `project`. A `Unit` is the cores of
one CPU cluster a run uses (`--threads` fills the biggest clusters first) or one accelerator (HVX,
NPU), each with its machine at the SoC's clock and DRAM share. Ternary projections are timed by
the ISA engines: the kernel's Program for the rows one thread computes (rows split evenly between
threads, as llama.cpp and bitnet.cpp do) goes through `time_program(..., cold=True)` on every
cluster used, and the slowest sets the op's time; results are cached per (machine, kernel, params,
M, K, N), in-process and on disk (the Programs of a whole token with several thread counts take
tens of seconds to simulate). Every other op is a roofline per unit: max(work / compute rate (`rates`), DRAM bytes /
shared bandwidth, on-chip bytes / cache bandwidth). DRAM bandwidth is shared: the lower of the sum
of the used cores' per-core bandwidth and the SoC's sustained bandwidth; one engine runs an op at
a time. A multi-threaded op ends with a thread barrier (`assumptions.toml`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path


from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from workbench.errors import UserError
from workbench.projection.dense_formats import expand_work
from workbench.projection.rates import machine_rates
from workbench.source_digest import source_digest

__all__ = ["Unit", "OpTiming", "KernelChoice", "KernelTime", "cpu_units", "accelerator_unit", "soc_machine",
           "kernel_timing", "rows_per_thread", "time_ternary", "time_roofline", "shared_dram_gbps", "clear_cache",
           "can_run"]


@dataclass(frozen=True)
class Unit:
    """Cores of one CPU cluster used by a run, or one accelerator.

    Attributes
    ----------
    name : the cluster's or accelerator's name in the SoC file.
    plugin : its ISA's `IsaPlugin`; machine : its machine at the SoC's clock and DRAM share.
    count : cores (threads) used on it; an accelerator counts 1 (its contexts are inside its engine).
    dram_gbps : DRAM bandwidth of one core (or of the accelerator), GB/s.
    active_power_w, idle_power_w : per core (or the accelerator), from the SoC file.
    accelerator : True for HVX/NPU units.
    rates : work kind -> `rates.Rate` of one core (an accelerator: all its contexts).
    """

    name: str
    plugin: object
    machine: object
    count: int
    dram_gbps: float
    active_power_w: float
    idle_power_w: float
    accelerator: bool = False
    rates: dict = field(default_factory=dict, compare=False)

    @property
    def clock_ghz(self) -> float:
        return self.machine.clock_ghz

    def describe(self) -> str:
        what = f"{self.count} x {self.machine.name}" if not self.accelerator else self.machine.name
        return f"{self.name} ({what} @ {self.clock_ghz:g} GHz)"

    def to_json(self) -> dict:
        return {"name": self.name, "isa": self.plugin.name, "machine": self.machine.name, "count": self.count,
                "clock_ghz": self.clock_ghz, "dram_gbps": self.dram_gbps, "accelerator": self.accelerator,
                "active_power_w": self.active_power_w, "idle_power_w": self.idle_power_w,
                "rates": {k: r.to_json() for k, r in self.rates.items()}}


@dataclass(frozen=True)
class KernelChoice:
    """A kernel with resolved parameters; `tokens` is N per call of a batched kernel (None: GEMV)."""

    spec: object
    params: dict
    tokens: int | None = None
    why: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def key(self) -> tuple:
        return (self.spec.name, self.spec.isa, tuple(sorted((k, str(v)) for k, v in self.params.items())))

    def spec_tokens_param(self) -> str | None:
        """The kernel's parameter holding N (tokens per call) when it is batched, else None."""
        return getattr(self.spec, "tokens_param", None)


@dataclass
class OpTiming:
    """One instance of an op on its units.

    seconds : wall time of one instance; bound : what binds it, in words; bound_kind : "compute",
    "DRAM", "cache" or "kernel" (the simulated kernel's own binding); units : names of the units it
    ran on; instructions : vector instructions executed (every thread); compute_s, dram_s, cache_s :
    the roofline terms (the kernel's slowest core time as compute_s); detail : JSON-ready extras.
    """

    seconds: float
    bound: str
    bound_kind: str
    units: tuple[str, ...]
    instructions: float
    compute_s: float
    dram_s: float
    cache_s: float = 0.0
    cache_level: str = ""
    detail: dict = field(default_factory=dict)


def soc_machine(part, soc, *, dram_gbps: float | None, busy: int | None = None):
    """The machine of a cluster or accelerator `part` at the SoC's clock, its DRAM share and the
    SoC's sustained bandwidth as the chip figure (the SoC's values override the machine file's).
    With `busy` cores of a cluster running, the clock is the cluster's `clock_for(busy)` (its
    boost clock when few cores run, e.g. a one-thread laptop figure)."""
    machine = part.load_machine()
    core = dram_gbps if dram_gbps else machine.dram_gbps_core
    clock = part.clock_for(busy) if busy is not None and hasattr(part, "clock_for") else part.clock_ghz
    return dataclasses.replace(machine, clock_ghz=float(clock), dram_gbps_core=float(core),
                               dram_gbps_chip=float(soc.dram.sustained_gbps))


def _unit(part, soc, *, count: int, dram_gbps, accelerator: bool) -> Unit:
    plugin = get_isa(part.kind if accelerator else part.isa)
    busy = None if accelerator else count
    machine = soc_machine(part, soc, dram_gbps=dram_gbps, busy=busy)
    power = part.power_for(busy) if busy is not None and hasattr(part, "power_for") else part.active_power_w
    return Unit(part.name, plugin, machine, count, float(machine.dram_gbps_core), float(power),
                float(part.idle_power_w), accelerator, machine_rates(machine, plugin))


def cpu_units(soc, threads: int) -> list[Unit]:
    """The CPU cores `threads` threads run on, biggest clusters first (the SoC lists them so)."""
    total = sum(c.count for c in soc.clusters)
    if not 1 <= threads <= total:
        raise UserError(f"--threads {threads}: SoC {soc.name} has {total} CPU cores "
                        f"({', '.join(f'{c.count} x {c.name}' for c in soc.clusters)})")
    units, left = [], threads
    for cluster in soc.clusters:
        if left <= 0:
            break
        n = min(left, cluster.count)
        units.append(_unit(cluster, soc, count=n, dram_gbps=getattr(cluster, "dram_gbps_core", None),
                           accelerator=False))
        left -= n
    return units


def accelerator_unit(soc, kind: str) -> Unit:
    """The SoC's first accelerator of `kind` (an ISA name: its engine); UserError if it has none."""
    for acc in soc.accelerators:
        if acc.kind == kind:
            return _unit(acc, soc, count=1, dram_gbps=acc.dram_gbps, accelerator=True)
    have = ", ".join(sorted({a.kind for a in soc.accelerators})) or "none"
    raise UserError(f"--engine {kind}: SoC {soc.name} has no {kind} engine (its accelerators: {have})")


def shared_dram_gbps(units, soc) -> float:
    """DRAM bandwidth the units share: min(sum of their per-core bandwidth, the SoC's sustained)."""
    return min(sum(u.dram_gbps * u.count for u in units), float(soc.dram.sustained_gbps))


@dataclass(frozen=True)
class KernelTime:
    """What the projection keeps of a kernel's `TimingResult` (cached in-process and on disk)."""

    cycles: float
    compute_cycles: float
    memory_cycles: float
    memory_level: str
    binding: str
    instructions: int
    bytes_moved: int

    @classmethod
    def of(cls, result) -> "KernelTime":
        return cls(float(result.cycles), float(result.compute_cycles), float(result.memory_cycles),
                   str(result.memory_level), str(result.binding), int(result.instructions), int(result.bytes_moved))


_CACHE: dict = {}


def clear_cache() -> None:
    """Forget every kernel timing cached in this process (tests)."""
    _CACHE.clear()


def _disk_path(program, machine) -> Path:
    from workbench.reference.weights import weights_cache_dir

    h = hashlib.sha256()
    for part in (source_digest(("isa_models",)), str(program), json.dumps(machine.to_json(), sort_keys=True, default=str),
                 repr((machine.clock_ghz, machine.dram_gbps_core, machine.dram_gbps_chip))):
        h.update(part.encode())
    return weights_cache_dir() / "projection-timings" / f"{h.hexdigest()[:40]}.json"


def kernel_timing(kernel: KernelChoice, machine, M: int, K: int, *, tokens: int | None = None) -> KernelTime:
    """`time_program(kernel.build(M, K[, N]), machine, cold=True)` as a `KernelTime`, cached
    in-process per (machine, clock, DRAM share, kernel, params, M, K, N) and on disk under the weight
    cache directory, keyed by a digest of the Program, the machine and the engine layer's source."""
    key = (machine.name, machine.clock_ghz, machine.dram_gbps_core, machine.dram_gbps_chip, kernel.key(), M, K,
           tokens)
    if key not in _CACHE:
        params = dict(kernel.params)
        if tokens is not None and kernel.spec_tokens_param():
            params[kernel.spec_tokens_param()] = tokens
        program = kernel.spec.build(M, K, **params)
        path = _disk_path(program, machine)
        try:
            _CACHE[key] = KernelTime(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            _CACHE[key] = KernelTime.of(time_program(program, machine, cold=True))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(dataclasses.asdict(_CACHE[key])))
                os.replace(tmp, path)
            except OSError:
                pass                                   # a read-only cache only costs time
    return _CACHE[key]


def rows_per_thread(kernel: KernelChoice, M: int, K: int, threads: int, *, tokens: int | None = None) -> int:
    """Rows the busiest of `threads` threads computes: the smallest row count >= ceil(M / threads)
    the kernel accepts for reduction length K (M itself when none smaller does)."""
    extra = {kernel.spec_tokens_param(): tokens} if tokens is not None and kernel.spec_tokens_param() else {}
    for rows in range(math.ceil(M / threads), M):
        if kernel.spec.supports(rows, K, **{**kernel.params, **extra}):
            return rows
    return M


def _barrier(threads: int, assumptions) -> float:
    return assumptions.barrier_seconds(threads)


def time_ternary(op, units: list[Unit], kernel: KernelChoice, *, soc, assumptions, calls: int = 1,
                 tokens: int | None = None) -> OpTiming:
    """One instance of ternary op `op` (shape (M, K)) on `units` with `kernel`.

    Parameters
    ----------
    calls : kernel calls per instance (a prefill of P tokens with a kernel of N tokens per call:
        ceil(P / N); a GEMV kernel in prefill: P); the weights stream from DRAM once per call.
    tokens : N of a batched kernel (None: the GEMV).
    """
    M, K = op.shape
    threads = sum(u.count for u in units)
    rows = rows_per_thread(kernel, M, K, threads, tokens=tokens)
    per_unit = []
    for u in units:
        result = kernel_timing(kernel, u.machine, rows, K, tokens=tokens)
        per_unit.append((result.cycles / (u.clock_ghz * 1e9), u, result))
    slowest_s, slow_unit, slow = max(per_unit, key=lambda t: t[0])
    compute_s = slowest_s * calls
    bw = shared_dram_gbps(units, soc)
    weight_bytes = op.dram_bytes * calls
    dram_s = weight_bytes / (bw * 1e9)
    barrier = _barrier(threads, assumptions) * calls
    instructions = sum(r.instructions * u.count for _, u, r in per_unit) * calls
    detail = {"rows_per_thread": rows, "threads": threads, "calls": calls, "tokens_per_call": tokens or 1,
              "kernel": kernel.name, "shared_dram_gbps": bw,
              "per_unit": [{"unit": u.name, "machine": u.machine.name, "cycles": r.cycles, "seconds": s,
                            "instructions": r.instructions, "memory_level": r.memory_level,
                            "bytes_moved": r.bytes_moved, "binding": r.binding} for s, u, r in per_unit]}
    if dram_s > compute_s:
        bound, kind = f"DRAM ({weight_bytes / 1e6:.2f} MB at {bw:.1f} GB/s shared)", "DRAM"
    # the kernel's own memory bound binds (within 2%: an engine's compute figure of a memory-bound loop
    # can include the stalls it waits for data)
    elif slow.memory_cycles >= 0.98 * slow.cycles and not _is_cache(slow_unit.machine, slow.memory_level):
        bound, kind = (f"DRAM ({slow.memory_level}: {slow_unit.dram_gbps:g} GB/s per "
                       f"{'engine' if slow_unit.accelerator else 'core'} on {slow_unit.machine.name})", "DRAM")
    else:
        bound, kind = f"kernel on {slow_unit.machine.name}: {_short(slow.binding)}", "kernel"
    return OpTiming(max(compute_s, dram_s) + barrier, bound, kind, tuple(u.name for u in units), instructions,
                    compute_s, dram_s, detail=detail)


def _is_cache(machine, level: str) -> bool:
    """Whether a timing's memory level is one of the machine's on-chip levels (else it is DRAM,
    whatever the engine calls it: "DRAM", "DDR via l2fetch", ...)."""
    return level in {lv.name for lv in machine.memory} or level.upper() in ("VTCM", "L1", "L2", "L3")


def _short(binding: str) -> str:
    parts = binding.split("inner loop ")
    return f"loop {parts[-1]}" if len(parts) > 1 else binding


def _cache_level(machine, nbytes: float):
    """(name, bytes per cycle) of the smallest memory level holding `nbytes`, or None."""
    for level in machine.memory:
        if nbytes <= level.size_bytes:
            return level.name, level.bytes_per_cycle
    return None


def time_roofline(op, units: list[Unit], *, soc, assumptions, threads_share: bool = True) -> OpTiming:
    """One instance of a non-simulated op on `units`: the work split evenly over their cores;
    per unit max(sum over kinds of work / rate, on-chip bytes / cache bandwidth); the slowest unit,
    against the DRAM bytes at the shared bandwidth; plus the barrier of a multi-threaded op.

    Raises UserError when a unit has no rate for a work kind of the op (callers place such ops
    on units that have one).
    """
    threads = sum(u.count for u in units)
    worst = (0.0, None, "", 0.0, 0.0, "")
    instructions = 0.0
    for u in units:
        share = u.count / threads
        compute, top_kind, top_s = 0.0, "", 0.0
        for kind, amount in expand_work(op.work, u.rates).items():
            if not amount:
                continue
            rate = u.rates.get(kind)
            if rate is None:
                raise UserError(f"op {op.name}: {u.name} ({u.machine.name}) has no rate for {kind}")
            s = amount * share / u.count / rate.ops_per_s
            compute += s
            instructions += amount * share / rate.lanes
            if s > top_s:
                top_kind, top_s = kind, s
        per_core_bytes = op.onchip_bytes * share / u.count
        level = _cache_level(u.machine, per_core_bytes)
        cache_s = per_core_bytes / (level[1] * u.clock_ghz * 1e9) if level and level[1] else 0.0
        t = max(compute, cache_s)
        if t >= worst[0]:
            worst = (t, u, top_kind, compute, cache_s, level[0] if level else "")
    unit_s, slow_unit, top_kind, compute_s, cache_s, level_name = worst
    bw = shared_dram_gbps(units, soc)
    dram_s = op.dram_bytes / (bw * 1e9)
    barrier = _barrier(threads, assumptions)
    if dram_s >= unit_s and op.dram_bytes:
        bound, kind = f"DRAM ({op.dram_bytes / 1e6:.3f} MB at {bw:.1f} GB/s)", "DRAM"
    elif cache_s > compute_s:
        bound, kind = f"cache ({level_name} of {slow_unit.machine.name})", "cache"
    else:
        rate = slow_unit.rates[top_kind] if top_kind else None
        what = f"{top_kind} ({rate.sched_class})" if rate else "no work"
        bound, kind = f"compute: {what} on {slow_unit.machine.name}", "compute"
    return OpTiming(max(unit_s, dram_s) + barrier, bound, kind, tuple(u.name for u in units), instructions,
                    compute_s, dram_s, cache_s, level_name,
                    detail={"threads": threads, "shared_dram_gbps": bw, "barrier_s": barrier})


def can_run(op, unit: Unit) -> bool:
    """Whether `unit` has a rate for every work kind `op` does."""
    return all(kind in unit.rates for kind, amount in expand_work(op.work, unit.rates).items() if amount)
