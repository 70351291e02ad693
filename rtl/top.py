"""NpuTop: command decoder + in-order issue controller + DMA / MAC / write-back units.

RTL layer, the accelerator top (docs/npu.md §2-§4). It implements the command set and the cycle
rules of `isa_models.npu.timing` exactly: a command is accepted (cmd.ready) when its unit is free
and no running unit shares a bank with it in a conflicting way; the DMA requests
(addr, beats) on `dma_req` one cycle after issue and writes a word per `w_word_bytes / bus` beats
from `dma_rsp`; the MAC reads one weight and one activation word per cycle (address, SRAM read,
registered adder tree, accumulate: n + 3 cycles); write-back streams R int32 on `wb`.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.accumulator import AccumulatorBanks
from rtl.buffers import WordBuffer
from rtl.mac_array import MacArray

__all__ = ["NpuTop", "command_layout", "OP"]

OP = {"nop": 0, "dmaw": 1, "dmaa": 2, "macc": 3, "maca": 4, "wb": 5, "sync": 6}


def command_layout(params) -> data.StructLayout:
    """The command word as a StructLayout (fields of `params.command_fields()`, LSB first)."""
    return data.StructLayout({name: unsigned(bits) for name, bits in params.command_fields()})


def _log2(n: int) -> int:
    return (n - 1).bit_length()


class NpuTop(wiring.Component):
    """The ternary MAC-array accelerator.

    Members
    -------
    cmd : In(stream.Signature(command_layout(params))) -- command words, accepted in order.
    dma_req : Out(stream.Signature({addr: 32, beats: 16})) -- DRAM read request.
    dma_rsp : In(stream.Signature(unsigned(8 * bus))) -- read data beats, in order.
    wb : Out(stream.Signature({addr: 32, data: 8 * bus})) -- write-back beats.
    busy : Out(1) -- a command issues this cycle or a unit is busy.
    """

    def __init__(self, params):
        self.params = params
        bus_bits = 8 * params.dma_bytes_per_cycle
        super().__init__({
            "cmd": In(stream.Signature(command_layout(params))),
            "dma_req": Out(stream.Signature(data.StructLayout({"addr": unsigned(32), "beats": unsigned(16)}))),
            "dma_rsp": In(stream.Signature(unsigned(bus_bits))),
            "wb": Out(stream.Signature(data.StructLayout({"addr": unsigned(32), "data": unsigned(bus_bits)}))),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        bus = p.dma_bytes_per_cycle
        bus_bits = 8 * bus
        bpw_w, bpw_a = p.w_word_bytes // bus, p.a_word_bytes // bus
        wb_beats = p.acc_bank_bytes // bus
        wlog, alog = _log2(p.w_bank_words), _log2(p.a_bank_words)

        m.submodules.wbuf = wbuf = WordBuffer(word_bits=8 * p.w_word_bytes, depth=p.w_banks * p.w_bank_words)
        m.submodules.abuf = abuf = WordBuffer(word_bits=8 * p.a_word_bytes, depth=p.a_banks * p.a_bank_words)
        m.submodules.array = array = MacArray(p)
        m.submodules.accs = accs = AccumulatorBanks(rows=p.rows, acc_bits=p.acc_bits, banks=p.acc_banks,
                                                   sum_width=array.sum_width)

        head = self.cmd.payload
        sram_bits = len(head.waddr)
        h_wbank = (head.waddr >> wlog)[:4]
        h_abank = (head.aaddr >> alog)[:4]

        # ---- unit state ---------------------------------------------------------------------
        dma_phase = Signal(2)                 # 0 idle, 1 request, 2 data
        dma_is_w = Signal()
        dma_bank = Signal(4)
        dma_word = Signal(sram_bits)
        dma_left = Signal(16)
        dma_idx = Signal(range(max(bpw_w, bpw_a) + 1))
        dma_addr = Signal(32)
        dma_beats = Signal(16)
        stage_n = max(bpw_w, bpw_a) - 1
        staging = Signal(data.ArrayLayout(unsigned(bus_bits), max(1, stage_n)))

        mac_active = Signal()
        mac_left = Signal(len(head.len))
        mac_waddr = Signal(sram_bits)
        mac_aaddr = Signal(sram_bits)
        mac_acc = Signal(4)
        mac_clear = Signal()
        mac_first = Signal()
        mac_wbank = Signal(4)
        mac_abank = Signal(4)
        s1_valid, s1_first = Signal(), Signal()
        s2_valid, s2_first = Signal(), Signal()
        sums_reg = Signal(data.ArrayLayout(signed(array.sum_width), p.rows))

        wb_active = Signal()
        wb_beat = Signal(range(max(2, wb_beats)))
        wb_bank = Signal(4)
        wb_addr = Signal(32)

        dma_busy = dma_phase != 0
        mac_busy = mac_active | s1_valid | s2_valid

        # ---- issue logic (docs/npu.md §4) -------------------------------------------------
        can = Signal()
        with m.Switch(head.op):
            with m.Case(OP["dmaw"]):
                m.d.comb += can.eq(~dma_busy & ~(mac_busy & (mac_wbank == h_wbank)))
            with m.Case(OP["dmaa"]):
                m.d.comb += can.eq(~dma_busy & ~(mac_busy & (mac_abank == h_abank)))
            with m.Case(OP["macc"], OP["maca"]):
                dma_conflict = dma_busy & Mux(dma_is_w, dma_bank == h_wbank, dma_bank == h_abank)
                m.d.comb += can.eq(~mac_busy & ~dma_conflict & ~(wb_active & (wb_bank == head.acc)))
            with m.Case(OP["wb"]):
                m.d.comb += can.eq(~wb_active & ~(mac_busy & (mac_acc == head.acc)))
            with m.Case(OP["sync"]):
                m.d.comb += can.eq(~dma_busy & ~mac_busy & ~wb_active)
            with m.Default():
                m.d.comb += can.eq(1)                      # nop / undefined opcodes are dropped
        issue = Signal()
        m.d.comb += [self.cmd.ready.eq(can), issue.eq(self.cmd.valid & can),
                     self.busy.eq(issue | dma_busy | mac_busy | wb_active)]

        with m.If(issue):
            with m.Switch(head.op):
                with m.Case(OP["dmaw"], OP["dmaa"]):
                    is_w = head.op == OP["dmaw"]
                    m.d.sync += [dma_phase.eq(1), dma_is_w.eq(is_w), dma_addr.eq(head.dram),
                                 dma_word.eq(Mux(is_w, head.waddr, head.aaddr)),
                                 dma_bank.eq(Mux(is_w, h_wbank, h_abank)), dma_idx.eq(0),
                                 dma_beats.eq(head.len * Mux(is_w, bpw_w, bpw_a)),
                                 dma_left.eq(head.len * Mux(is_w, bpw_w, bpw_a))]
                with m.Case(OP["macc"], OP["maca"]):
                    m.d.sync += [mac_active.eq(1), mac_left.eq(head.len), mac_waddr.eq(head.waddr),
                                 mac_aaddr.eq(head.aaddr), mac_acc.eq(head.acc), mac_first.eq(1),
                                 mac_clear.eq(head.op == OP["macc"]), mac_wbank.eq(h_wbank),
                                 mac_abank.eq(h_abank)]
                with m.Case(OP["wb"]):
                    m.d.sync += [wb_active.eq(1), wb_beat.eq(0), wb_bank.eq(head.acc), wb_addr.eq(head.dram)]

        # ---- DMA unit ---------------------------------------------------------------------
        m.d.comb += [self.dma_req.valid.eq(dma_phase == 1), self.dma_req.payload.addr.eq(dma_addr),
                     self.dma_req.payload.beats.eq(dma_beats), self.dma_rsp.ready.eq(dma_phase == 2)]
        with m.If((dma_phase == 1) & self.dma_req.ready):
            m.d.sync += dma_phase.eq(2)
        beat = self.dma_rsp.payload
        w_word = Cat(*[staging[i] for i in range(bpw_w - 1)], beat)
        a_word = Cat(*[staging[i] for i in range(bpw_a - 1)], beat)
        last_in_word = dma_idx == Mux(dma_is_w, bpw_w - 1, bpw_a - 1)
        m.d.comb += [wbuf.w_addr.eq(dma_word), wbuf.w_data.eq(w_word),
                     abuf.w_addr.eq(dma_word), abuf.w_data.eq(a_word)]
        with m.If((dma_phase == 2) & self.dma_rsp.valid):
            m.d.sync += dma_left.eq(dma_left - 1)
            with m.If(dma_left == 1):
                m.d.sync += dma_phase.eq(0)
            with m.If(last_in_word):
                m.d.comb += [wbuf.w_en.eq(dma_is_w), abuf.w_en.eq(~dma_is_w)]
                m.d.sync += [dma_idx.eq(0), dma_word.eq(dma_word + 1)]
            with m.Else():
                if stage_n:
                    m.d.sync += staging.as_value().word_select(dma_idx, bus_bits).eq(beat)
                m.d.sync += dma_idx.eq(dma_idx + 1)

        # ---- MAC unit: address -> SRAM read -> adder tree register -> accumulate ----------
        m.d.comb += [wbuf.r_addr.eq(mac_waddr), abuf.r_addr.eq(mac_aaddr)]
        m.d.sync += [s1_valid.eq(mac_active), s1_first.eq(mac_active & mac_first & mac_clear)]
        with m.If(mac_active):
            m.d.sync += [mac_waddr.eq(mac_waddr + 1), mac_aaddr.eq(mac_aaddr + 1),
                         mac_left.eq(mac_left - 1), mac_first.eq(0)]
            with m.If(mac_left == 1):
                m.d.sync += mac_active.eq(0)
        m.d.comb += [array.w_word.eq(wbuf.r_data), array.acts.eq(abuf.r_data)]
        m.d.sync += [sums_reg.eq(array.sums), s2_valid.eq(s1_valid), s2_first.eq(s1_first)]
        m.d.comb += [accs.en.eq(s2_valid), accs.clear.eq(s2_first), accs.bank.eq(mac_acc),
                     accs.sums.eq(sums_reg)]

        # ---- write-back unit ---------------------------------------------------------------
        m.d.comb += accs.read_bank.eq(wb_bank)
        wide = []
        for r in range(p.rows):
            v = Signal(signed(32), name=f"wb_row{r}")
            m.d.comb += v.eq(accs.read[r])
            wide.append(v)
        flat = Cat(*wide)
        m.d.comb += [self.wb.valid.eq(wb_active), self.wb.payload.data.eq(flat.word_select(wb_beat, bus_bits)),
                     self.wb.payload.addr.eq(wb_addr + wb_beat * bus)]
        with m.If(self.wb.valid & self.wb.ready):
            m.d.sync += wb_beat.eq(wb_beat + 1)
            with m.If(wb_beat == wb_beats - 1):
                m.d.sync += wb_active.eq(0)
        return m
