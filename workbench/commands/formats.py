"""`workbench formats`: list the weight packings, pack one projection, inspect model files.

Top of the flow (CLI). `list` prints the registry of `workbench.formats`; `pack` packs one
projection of a preset's deterministic weights and reports sizes and bits per weight; `inspect`
describes a GGUF or safetensors file, or unpacks a raw packed blob given its format and shape.
"""

from __future__ import annotations

import argparse

from workbench.commands import check_input_path, check_output_path, nonnegative_int, positive_int
from workbench.errors import UserError

__all__ = ["register"]


def _layout_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--BM", type=positive_int,
                   help="TL1/TL2 row tile (default: bitnet.cpp preset for the shape)")
    p.add_argument("--BK", type=positive_int,
                   help="TL1/TL2 K block (default: bitnet.cpp preset for the shape)")
    p.add_argument("--bm", type=positive_int,
                   help="TL1/TL2 compute-block rows (TL1: 32 or 64; TL2: 32)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("formats", help="weight packings: list, pack a projection, inspect files",
                       description="Ternary weight packings (I2_S, TL1, TL2, TQ1_0, TQ2_0, HF 2-bit, "
                                   "T-MAC) and model files (GGUF, safetensors).")
    fsub = p.add_subparsers(dest="formats_command", metavar="ACTION")
    fsub.required = True

    pl = fsub.add_parser("list", help="list the weight formats",
                         description="List every registered weight format with its bits per "
                                     "weight, layout parameters and description.")
    pl.set_defaults(handler=run_list)

    pp = fsub.add_parser("pack", help="pack one projection of a preset and print sizes",
                         description="Pack the ternary codes of one projection of a preset's "
                                     "deterministic random weights, check that they unpack "
                                     "exactly, write the bytes, and print sizes and bpw.")
    pp.add_argument("--format", "-f", required=True, help="format name (see `workbench formats list`)")
    pp.add_argument("--model", default="tiny", help="model preset (default: tiny)")
    pp.add_argument("--layer", type=nonnegative_int, default=0, help="layer index (default: 0)")
    pp.add_argument("--proj", default="q", help="projection: q k v o gate up down (default: q)")
    pp.add_argument("--seed", type=nonnegative_int, default=0, help="weight seed (default: 0)")
    pp.add_argument("--out", help="write the packed bytes to this file")
    _layout_args(pp)
    pp.set_defaults(handler=run_pack)

    pi = fsub.add_parser("inspect", help="describe a GGUF / safetensors file or a packed blob",
                         description="GGUF or .safetensors: list tensors with type, shape, bytes and "
                                     "bits per weight. A raw packed blob: give --format, --rows and "
                                     "--cols to unpack it and print code statistics.")
    pi.add_argument("file", help="GGUF, .safetensors, or a raw packed blob (with --format)")
    pi.add_argument("--format", "-f", help="format of a raw packed blob")
    pi.add_argument("--rows", "-M", type=positive_int,
                    help="M (rows / out features) of the packed blob")
    pi.add_argument("--cols", "-K", type=positive_int,
                    help="K (cols / in features) of the packed blob")
    _layout_args(pi)
    pi.set_defaults(handler=run_inspect)


def _layout(fmt, m: int, k: int, args) -> dict:
    if not fmt.layout_keys:
        given = [key for key in ("BM", "BK", "bm") if getattr(args, key, None) is not None]
        if given:
            raise UserError(f"format {fmt.name} takes no layout options, got --{given[0]}")
        return {}
    layout = fmt.default_layout(m, k)
    for key in fmt.layout_keys:
        if getattr(args, key, None) is not None:
            layout[key] = getattr(args, key)
    return layout


def run_list(args: argparse.Namespace) -> int:
    from workbench.formats import FORMATS

    print(f"{'format':<9} {'bpw':>7}  {'layout':<11} description")
    for name, f in FORMATS.items():
        print(f"{name:<9} {f.bits_per_weight:>7.4f}  {','.join(f.layout_keys) or '-':<11} {f.description}")
    return 0


def _code_stats(codes) -> str:
    n = codes.size
    counts = {v: int((codes == v).sum()) for v in (-1, 0, 1)}
    return "codes: " + ", ".join(f"{v:+d}: {c} ({100 * c / n:.1f}%)" for v, c in counts.items())


def run_pack(args: argparse.Namespace) -> int:
    import numpy as np

    from workbench.formats import get_format
    from workbench.reference import get_preset, random_linear

    fmt = get_format(args.format)
    config = get_preset(args.model)
    m, k = config.projection_shape(args.proj)
    if args.layer >= config.num_layers:
        raise UserError(f"--layer {args.layer}: model {config.name!r} has layers "
                        f"0..{config.num_layers - 1}")
    layout = _layout(fmt, m, k, args)
    fmt.nbytes(m, k, **layout)              # shape and layout checks before any work
    if args.out:
        check_output_path(args.out, flag="--out")
    lin = random_linear(config, args.layer, args.proj, seed=args.seed)
    data = fmt.pack(lin.codes, gamma=lin.gamma, **layout)
    codes, scale = fmt.unpack(data, m, k, **layout)
    if not np.array_equal(codes, lin.codes):
        raise RuntimeError(f"{fmt.name}: unpack did not return the packed codes")  # a format bug
    if args.out:
        data.tofile(args.out)
    lay = " ".join(f"{key}={v}" for key, v in layout.items())
    print(f"{fmt.name}: {config.name} layer {args.layer} {args.proj}  M={m} K={k}  {lay}".rstrip())
    print(f"  bytes {data.size:,}  (codes at 2 bpw would be {m * k // 4:,})  "
          f"bpw {8 * data.size / (m * k):.4f} (nominal {fmt.bits_per_weight:.4f})")
    print(f"  gamma {float(lin.gamma):.9g}; round trip exact; " + _code_stats(codes))
    if args.out:
        print(f"  wrote {args.out}")
    return 0


def _inspect_gguf(path) -> None:
    import numpy as np

    from workbench.formats.gguf_io import _GGUFFile

    f = _GGUFFile(path)
    r = f.reader
    arch = f.value("general.architecture", required=False)
    table = "; type ids of the BitNet fork's table (I2_S = 36)" if f.fork else ""
    print(f"{path}: GGUF, architecture {arch}, {len(r.tensors)} tensors, {len(r.fields)} metadata "
          f"keys{table}")
    wb = {}
    for t in r.tensors:
        tid = f.typed(f"workbench.tensor.{t.name}.type", int, None)
        if tid is not None:
            wb[t.name] = (list(f.int_list(f"workbench.tensor.{t.name}.shape")), tid)
    total = 0
    print(f"  {'tensor':<28} {'type':<18} {'shape (numpy)':<16} {'bytes':>12} {'bpw':>8}")
    for t in r.tensors:
        if t.name in wb:
            shape, tid = wb[t.name]
            tname = f"WB_I2_S({tid:#x})"
        else:
            shape = list(t.shape)
            tname = t.type.name if t.type is not None else f"unknown({t.type_id})"
            if t.type is not None and t.type.fork:
                tname = f"{tname}({t.type_id})"
        n = int(np.prod(shape))
        total += int(t.n_bytes)
        bpw = f"{8 * int(t.n_bytes) / n:>8.4f}" if n else f"{'-':>8}"
        print(f"  {t.name:<28} {tname:<18} {str(shape):<16} {int(t.n_bytes):>12,} {bpw}")
    print(f"  total tensor bytes {total:,}")


def _inspect_safetensors(path) -> None:
    import numpy as np  # noqa: F401  (arrays come from read_safetensors)

    from workbench.formats.hf_io import read_safetensors

    tensors, meta = read_safetensors(path)
    print(f"{path}: safetensors, {len(tensors)} tensors, {len(meta)} metadata keys")
    print(f"  {'tensor':<48} {'dtype':<8} {'shape':<14} {'bytes':>12} {'bpw':>8}")
    for name, a in tensors.items():
        packed = a.dtype == np.uint8 and name.endswith("_proj.weight")
        n = a.size * (4 if packed else 1)
        bpw = f"{8 * a.nbytes / n:>8.4f}" if n else f"{'-':>8}"
        print(f"  {name:<48} {str(a.dtype):<8} {str(list(a.shape)):<14} {a.nbytes:>12,} "
              f"{bpw}{'  (2-bit packed along dim 0)' if packed else ''}")


def run_inspect(args: argparse.Namespace) -> int:
    import numpy as np

    from workbench.formats import get_format
    from workbench.formats.model_io import GGUF_MAGIC

    path = check_input_path(args.file, flag="")
    if args.format:
        fmt = get_format(args.format)
        if args.rows is None or args.cols is None:
            raise UserError("inspect --format needs --rows M and --cols K")
        layout = _layout(fmt, args.rows, args.cols, args)
        data = np.fromfile(path, dtype=np.uint8)
        try:
            codes, scale = fmt.unpack(data, args.rows, args.cols, **layout)
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None
        scale = np.asarray(scale)
        lay = " ".join(f"{key}={v}" for key, v in layout.items())
        print(f"{path}: {fmt.name} M={args.rows} K={args.cols} {lay}".rstrip())
        print(f"  bytes {data.size:,}  bpw {8 * data.size / codes.size:.4f}")
        if scale.ndim == 0:
            print(f"  gamma {float(scale):.9g}")
        else:
            print(f"  block scales: {scale.size} (min {scale.min():.6g}, max {scale.max():.6g})")
        print("  " + _code_stats(codes))
        return 0
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == GGUF_MAGIC:
        _inspect_gguf(path)
    elif path.suffix == ".safetensors":
        _inspect_safetensors(path)
    else:
        raise UserError(f"{path}: neither GGUF nor .safetensors; for a packed blob pass --format, "
                        "--rows and --cols")
    return 0
