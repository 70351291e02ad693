"""Verilog generation for the NPU top (amaranth.back.verilog, bundled Yosys).

RTL layer, output stage. `generate(params, path)` writes ``npu_top.v`` (ports ``clk``, ``rst``
synchronous active-high, ``cmd__valid/ready/payload``, ``dma_req__*``, ``dma_rsp__*``, ``wb__*``,
``busy``); the cocotb runner (`sims.runner`) and synthesis scripts consume it.
"""

from __future__ import annotations

from pathlib import Path

from amaranth.back import verilog

from rtl.top import NpuTop

__all__ = ["generate", "to_verilog", "TOP_NAME"]

TOP_NAME = "npu_top"


def to_verilog(params, *, name: str = TOP_NAME) -> str:
    """Verilog text of `NpuTop(params)`."""
    return verilog.convert(NpuTop(params), name=name, emit_src=False)


def generate(params, path: str | Path, *, name: str = TOP_NAME) -> Path:
    """Write the Verilog of `NpuTop(params)` to `path` (a file or a directory); returns the file."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        path = path / f"{name}.v"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_verilog(params, name=name))
    return path
