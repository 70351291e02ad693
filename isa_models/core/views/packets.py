"""Packet listing view: each loop's packets with the cycle each issues, as a VLIW schedule is read.

Engine layer, a listener over `time_program` on an engine that issues packets (the ``vliw``
engine): instructions issued in one cycle of one iteration form one packet. For every loop with
instructions of its own it records one steady-state iteration (the middle simulated one) and
lists, per packet, the issue cycle counted from the iteration's start, the stall cycles before
it with their reason, and per instruction the ports (slots and units) it holds, its text in the
ISA's assembly syntax with the Program's virtual operands (`LoopInfo.asm`, from the form's ``asm``
template: `isa_models.core.asm_text.virtual_asm`) and its Program text. Cycles not explained by a
stall (a nested loop timed apart) show as a gap. `render_text(loop=)` prints one loop (default:
every loop, innermost first) in assembly syntax (``syntax="program"``: the Program text);
`to_json()` gives the same data with both texts.
"""

from __future__ import annotations

from isa_models.core.timing.events import Issued, Listener, Stall

__all__ = ["PacketListingView"]

#: `render_text`'s syntaxes -> the instruction field printed
_SYNTAXES = {"asm": "asm", "program": "text"}


class PacketListingView(Listener):
    """Packets with issue cycles for every loop with instructions of its own (module doc)."""

    #: engine kinds whose runs it renders (`isa_models.core.views.views_for`): those issuing packets
    engines = ("vliw",)
    #: a report prints `headline_text` (the hot loop's packets) without being asked
    headline = True

    def __init__(self):
        self.loops: dict[str, dict] = {}
        self.order: list[str] = []
        self.result = None
        self._cur: dict | None = None

    def on_loop_begin(self, info) -> None:
        rec = {"loop": info.loop, "depth": info.depth, "trip": info.trip, "texts": info.instructions,
               "asm": info.asm or info.instructions,
               "ports": info.ports, "iteration": info.iterations // 2, "simulated": info.iterations,
               "issued": {}, "stalls": []}
        self.loops[info.loop] = rec
        if info.loop not in self.order:
            self.order.append(info.loop)
        self._cur = rec

    def on_event(self, event) -> None:
        rec = self._cur
        if rec is None or event.loop != rec["loop"] or event.iteration != rec["iteration"]:
            return
        if isinstance(event, Issued):
            rec["issued"].setdefault(event.instr, {"cycle": event.cycle, "ports": []})
            ports = rec["issued"][event.instr]["ports"]
            if event.port and event.port not in ports:
                ports.append(event.port)
        elif isinstance(event, Stall):
            rec["stalls"].append((event.cycle, event.cycles, event.reason, event.instr))

    def on_loop_end(self, result) -> None:
        rec = self.loops.get(result.loop)
        if rec is not None:
            rec["cycles_per_iteration"] = result.body_cycles_per_iteration
            rec["binding"] = result.binding
            rec["compute_cycles"] = result.compute_cycles
        self._cur = None

    def on_program_end(self, result) -> None:
        self.result = result

    # ------------------------------------------------------------------------------------------
    def packets(self, loop: str) -> list[dict]:
        """The packets of `loop`'s recorded iteration: cycle (from the iteration's start), stall
        cycles before it and why, gap cycles, and per instruction its index, ports, Program text
        (``text``) and assembly text (``asm``; the Program text where the form has no template)."""
        rec = self._loop(loop)
        by_cycle: dict[int, list[int]] = {}
        for i, got in rec["issued"].items():
            by_cycle.setdefault(got["cycle"], []).append(i)
        if not by_cycle:
            return []
        base = min([*by_cycle, *(c for c, *_ in rec["stalls"])])
        rank = {p: k for k, p in enumerate(rec["ports"])}
        out, prev = [], base - 1
        for cycle in sorted(by_cycle):
            stalls = [(n, why) for c, n, why, _ in rec["stalls"] if prev < c <= cycle and c + n <= cycle]
            stall = sum(n for n, _ in stalls)
            out.append({"cycle": cycle - base, "stall": stall, "stall_reasons": [why for _, why in stalls],
                        "gap": max(0, cycle - prev - 1 - stall),
                        "instructions": [{"index": i, "ports": sorted(rec["issued"][i]["ports"],
                                                                        key=lambda p: rank.get(p, len(rank))),
                                          "text": rec["texts"][i], "asm": rec["asm"][i]}
                                         for i in sorted(by_cycle[cycle])]})
            prev = cycle
        return out

    def loop_names(self) -> list[str]:
        """Loops with packets, innermost first (the inner loop of a kernel is its hot loop), then by
        compute cycles."""
        named = [n for n in self.order if self.loops[n]["issued"]]
        return sorted(named, key=lambda n: (-self.loops[n]["depth"], -self.loops[n].get("compute_cycles", 0.0)))

    def _loop(self, loop: str) -> dict:
        if loop not in self.loops:
            have = ", ".join(self.loop_names()) or "(none)"
            raise ValueError(f"PacketListingView: no packets recorded for loop {loop!r}; loops: {have}")
        return self.loops[loop]

    def render_text(self, loop: str | None = None, *, max_packets: int | None = None,
                    syntax: str = "asm") -> str:
        """Every loop's packets (or `loop`'s), the first `max_packets` of each when given, each
        instruction in assembly syntax (`syntax` "asm") or as Program text ("program")."""
        if syntax not in _SYNTAXES:
            raise ValueError(f"PacketListingView: unknown syntax {syntax!r}; valid: {', '.join(_SYNTAXES)}")
        key = _SYNTAXES[syntax]
        names = [loop] if loop is not None else self.loop_names()
        if not names:
            raise ValueError("PacketListingView: no packets recorded (run time_program with this view on an "
                             "engine that issues packets)")
        blocks = []
        for name in names:
            rec = self._loop(name)
            pk = self.packets(name)
            per = rec.get("cycles_per_iteration", 0.0)
            lines = [f"Packets of loop {name} (trip {rec['trip']}; iteration {rec['iteration']} of "
                     f"{rec['simulated']} simulated): {len(pk)} packets, {per:.2f} cycles per iteration",
                     f"{'cycle':>6}  {'ports':<22}instruction"]
            width = max((len(" ".join(i["ports"])) for p in pk for i in p["instructions"]), default=0)
            width = max(22, width + 2)
            for p in pk[:max_packets]:
                if p["stall"]:
                    lines.append(f"{'':>6}  stall {p['stall']}: {'; '.join(p['stall_reasons'])}")
                if p["gap"]:
                    lines.append(f"{'':>6}  ({p['gap']} cycles in nested loops)")
                for k, ins in enumerate(p["instructions"]):
                    head = f"{p['cycle']:>6}" if k == 0 else f"{'':>6}"
                    brace = "{" if k == 0 else " "
                    close = " }" if k == len(p["instructions"]) - 1 else ""
                    lines.append(f"{head} {brace}{' '.join(ins['ports']):<{width}}{ins[key]}{close}")
            if max_packets is not None and len(pk) > max_packets:
                lines.append(f"{'':>6}  ... {len(pk) - max_packets} more packets (all of them: --views packets)")
            if rec.get("binding"):
                lines.append(f"binding: {rec['binding']}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def headline_text(self, *, max_packets: int = 16, syntax: str = "asm") -> str:
        """The hot loop's first `max_packets` packets (the innermost loop with the most compute
        cycles), with its header and binding bound; the whole listing is `render_text`."""
        names = self.loop_names()
        return self.render_text(names[0], max_packets=max_packets, syntax=syntax) if names else ""

    def to_json(self) -> dict:
        return {"view": "packets",
                "loops": [{"loop": n, "trip": self.loops[n]["trip"], "iteration": self.loops[n]["iteration"],
                           "cycles_per_iteration": self.loops[n].get("cycles_per_iteration"),
                           "binding": self.loops[n].get("binding"), "packets": self.packets(n)}
                          for n in self.loop_names()]}
