"""The bad-input contract of the whole CLI (workbench.cli): a corpus of bad inputs, each one line
naming the culprit, exit code 2, nothing written; internal errors keep their traceback.

Every case runs `workbench.cli.main` in-process in a fresh directory (also the working directory)
holding its fixtures, generated from the `tiny` preset: GGUF files (I2_S and TQ2_0) and a Hugging
Face checkpoint, then corrupted the way a user's file can be (truncated, NaN weights, a header of
the wrong JSON type, a config value that does not parse). The contract per case: exit code 2;
stderr exactly one line ``workbench <cmd>...: error: ...`` containing the culprit; no
"Traceback"; no stdout; no file created or changed in the case directory. Also unit tests of the
argument checks in `workbench.commands` that the other commands reuse.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from workbench.cli import main
from workbench.commands import check_input_path, check_output_path, nonnegative_int, positive_int
from workbench.errors import UnknownNameError, UserError
from workbench.reference import get_preset, random_weights

TINY = get_preset("tiny")


# --- fixtures: valid tiny model files, built once ------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from workbench.formats.gguf_io import save_gguf
    from workbench.formats.hf_io import save_hf_checkpoint

    root = tmp_path_factory.mktemp("bad_inputs_base")
    weights = random_weights(TINY, seed=0)
    save_gguf(weights, root / "i2s.gguf", weight_type="i2_s")
    save_gguf(weights, root / "tq2.gguf", weight_type="tq2_0")
    save_hf_checkpoint(weights, root / "hf")
    return root


@dataclass
class Env:
    """A case's directory and helpers that write corrupted copies of the base files into it."""

    base: Path
    root: Path

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, name: str, data: bytes | str) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    # GGUF
    def gguf(self, name: str = "model.gguf", kind: str = "i2s") -> Path:
        return self.write(name, (self.base / f"{kind}.gguf").read_bytes())

    def gguf_patch_tensor(self, tensor: str, index: int, value: float, kind: str = "i2s") -> Path:
        """A GGUF whose F32 tensor `tensor` holds `value` at flat `index` (bytes patched in place)."""
        import gguf

        src = self.base / f"{kind}.gguf"
        t = next(t for t in gguf.GGUFReader(str(src)).tensors if t.name == tensor)
        blob = bytearray(src.read_bytes())
        at = int(t.data_offset) + 4 * index
        blob[at:at + 4] = struct.pack("<f", value)
        return self.write("model.gguf", bytes(blob))

    def gguf_replace(self, old: bytes, new: bytes, kind: str = "i2s") -> Path:
        """A GGUF with bytes `old` replaced by `new` of the same length (metadata patch)."""
        assert len(old) == len(new)
        blob = (self.base / f"{kind}.gguf").read_bytes()
        assert blob.count(old) == 1, old
        return self.write("model.gguf", blob.replace(old, new))

    def gguf_llama_keys(self, **override) -> Path:
        """A GGUF with llama.cpp's metadata keys only (no workbench.config), `override` applied
        as strings: the foreign-file path of the loader."""
        import gguf

        c = TINY
        keys = {"bitnet.embedding_length": c.hidden_size, "bitnet.attention.head_count": c.num_heads,
                "bitnet.feed_forward_length": c.intermediate_size, "bitnet.block_count": c.num_layers,
                "bitnet.attention.head_count_kv": c.num_kv_heads, "bitnet.vocab_size": c.vocab_size}
        src = gguf.GGUFReader(str(self.base / "tq2.gguf"))
        out = self.root / "model.gguf"
        w = gguf.GGUFWriter(str(out), "bitnet")
        for key, value in keys.items():
            if key in override:
                w.add_string(key, str(override[key]))
            else:
                w.add_uint32(key, value)
        for t in src.tensors:
            if t.tensor_type == gguf.GGMLQuantizationType.F32:
                w.add_tensor(t.name, np.array(t.data))
            else:
                w.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        return out

    # Hugging Face checkpoint
    def hf(self, name: str = "ckpt") -> Path:
        d = self.root / name
        shutil.copytree(self.base / "hf", d)
        return d

    def hf_config(self, edit: Callable[[dict], object]) -> Path:
        """A checkpoint whose config.json is `edit(cfg)` (edit may mutate cfg and return None)."""
        d = self.hf()
        cfg = json.loads((d / "config.json").read_text())
        new = edit(cfg)
        (d / "config.json").write_text(json.dumps(cfg if new is None else new))
        return d

    def hf_file(self, name: str, data: bytes | str) -> Path:
        """A checkpoint whose file `name` (config.json, model.safetensors) holds `data`."""
        d = self.hf()
        (d / name).write_bytes(data.encode() if isinstance(data, str) else data)
        return d

    def st_parts(self) -> tuple[dict, bytes]:
        blob = (self.base / "hf" / "model.safetensors").read_bytes()
        (n,) = struct.unpack("<Q", blob[:8])
        return json.loads(blob[8:8 + n]), blob[8 + n:]

    def hf_safetensors(self, header, data: bytes) -> Path:
        """A checkpoint whose model.safetensors has this header (any JSON value) and data."""
        d = self.hf()
        head = json.dumps(header).encode()
        (d / "model.safetensors").write_bytes(struct.pack("<Q", len(head)) + head + data)
        return d

    def hf_edit_header(self, edit: Callable[[dict], object]) -> Path:
        header, data = self.st_parts()
        new = edit(header)
        return self.hf_safetensors(header if new is None else new, data)

    def hf_patch_tensor(self, tensor: str, index: int, value: float) -> Path:
        header, data = self.st_parts()
        start = header[tensor]["data_offsets"][0] + 4 * index
        data = bytearray(data)
        data[start:start + 4] = struct.pack("<f", value)
        return self.hf_safetensors(header, bytes(data))


def _set(d: dict, key: str, value) -> None:
    d[key] = value


def _soc_text(edit) -> str:
    """The raspberry-pi-5 SoC file renamed "bad", its text passed through `edit`."""
    from workbench.soc.schema import SOCS_DIR

    text = (SOCS_DIR / "raspberry-pi-5.toml").read_text().replace('name = "raspberry-pi-5"', 'name = "bad"', 1)
    return edit(text)


# --- the corpus -------------------------------------------------------------------------------
# (id, build(env) -> (argv, culprit), marks). The culprit is a substring the one line must hold.

def _case(case_id, build, marks=()):
    return pytest.param(build, id=case_id, marks=list(marks))


CASES = [
    # argparse: one line, not the usage block
    _case("no-command", lambda e: ([], "COMMAND")),
    _case("unknown-command", lambda e: (["nosuch"], "nosuch")),
    _case("unrecognized-flag", lambda e: (["models", "--bogus"], "--bogus")),
    _case("run-max-new-tokens-0", lambda e: (["run", "--max-new-tokens", "0"], "--max-new-tokens")),
    _case("run-max-new-tokens-negative", lambda e: (["run", "--max-new-tokens", "-3"], "-3")),
    _case("run-max-new-tokens-text", lambda e: (["run", "--max-new-tokens", "many"], "'many'")),
    _case("run-seed-negative", lambda e: (["run", "--seed", "-1"], "--seed")),
    _case("run-convention-unknown", lambda e: (["run", "--convention", "fp8"], "'fp8'")),
    _case("run-missing-argument", lambda e: (["run", "--prompt-ids"], "--prompt-ids")),
    # run: names and prompt ids
    _case("run-unknown-preset", lambda e: (["run", "--model", "nosuch"], "'nosuch'")),
    _case("run-prompt-ids-text", lambda e: (["run", "--prompt-ids", "1,two,3"], "'two'")),
    _case("run-prompt-ids-empty-item", lambda e: (["run", "--prompt-ids", "1,,3"], "''")),
    _case("run-prompt-id-out-of-vocab", lambda e: (["run", "--prompt-ids", "1,512"], "512")),
    _case("run-prompt-id-negative", lambda e: (["run", "--prompt-ids", "-1"], "-1")),
    _case("run-prompt-too-long", lambda e: (["run", "--prompt-ids", "1", "--max-new-tokens", "256"],
                                             "256 positions")),
    # run --model-file: paths and file types
    _case("model-file-missing", lambda e: (["run", "--model-file", str(e.path("nope.gguf"))], "nope.gguf")),
    _case("model-file-empty", lambda e: (["run", "--model-file", str(e.write("empty.gguf", b""))],
                                         "empty file")),
    _case("model-file-dev-null", lambda e: (["run", "--model-file", "/dev/null"], "/dev/null")),
    _case("model-file-junk", lambda e: (["run", "--model-file", str(e.write("junk.bin", b"hello"))],
                                        "no GGUF magic")),
    _case("model-file-empty-dir", lambda e: (["run", "--model-file", str(e.write("d/x", b"").parent)],
                                             "no config.json")),
    _case("model-file-under-a-file", lambda e: (["run", "--model-file", str(e.write("f", b"x")) + "/m.gguf"],
                                                "m.gguf")),
    # GGUF content
    _case("gguf-truncated-half", lambda e: (
        ["run", "--model-file", str(e.write("cut.gguf", e.gguf().read_bytes()[:200_000]))], "cut.gguf")),
    _case("gguf-truncated-header", lambda e: (
        ["run", "--model-file", str(e.write("cut.gguf", e.gguf().read_bytes()[:30]))], "cut.gguf")),
    _case("gguf-corrupt-tensor-count", lambda e: (
        ["run", "--model-file", str(e.write("bad.gguf", (lambda b: b[:8] + (2**40).to_bytes(8, "little")
                                                          + b[16:])(e.gguf().read_bytes())))], "bad.gguf")),
    _case("gguf-nan-norm", lambda e: (
        ["run", "--model-file", str(e.gguf_patch_tensor("blk.0.attn_norm.weight", 3, float("nan")))],
        "blk.0.attn_norm.weight")),
    _case("gguf-inf-embedding", lambda e: (
        ["run", "--model-file", str(e.gguf_patch_tensor("token_embd.weight", 100, float("inf")))],
        "token_embd.weight")),
    _case("gguf-nan-final-norm", lambda e: (
        ["run", "--model-file", str(e.gguf_patch_tensor("output_norm.weight", 0, float("-inf")))],
        "output_norm.weight")),
    _case("gguf-nan-gamma", lambda e: (
        ["run", "--model-file", str(e.gguf_patch_tensor("blk.1.ffn_up.gamma", 0, float("nan"), kind="tq2"))],
        "blk.1.ffn_up")),
    _case("gguf-config-string-value", lambda e: (
        ["run", "--model-file", str(e.gguf_replace(b'"vocab_size": 512', b'"vocab_size": "a"'))],
        "vocab_size")),
    _case("gguf-config-not-json", lambda e: (
        ["run", "--model-file", str(e.gguf_replace(b'{"name": "tiny"', b'["name": "tiny"'))],
        "workbench.config")),
    _case("gguf-llama-key-wrong-type", lambda e: (
        ["run", "--model-file", str(e.gguf_llama_keys(**{"bitnet.block_count": "two"}))],
        "bitnet.block_count")),
    # safetensors header of the wrong JSON type
    _case("st-header-list", lambda e: (["run", "--model-file", str(e.hf_safetensors([1, 2], b""))],
                                       "JSON object")),
    _case("st-header-not-json", lambda e: (
        ["run", "--model-file", str(e.hf_file("model.safetensors", struct.pack("<Q", 5) + b"{nope"))],
        "not JSON")),
    _case("st-header-length-beyond-file", lambda e: (
        ["run", "--model-file", str(e.hf_file("model.safetensors", struct.pack("<Q", 10**9) + b"{}"))],
        "exceeds the file size")),
    _case("st-string-offsets", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "data_offsets", ["0", "1024"])))], "model.norm.weight")),
    _case("st-string-shape", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "shape", "256")))], "shape")),
    _case("st-entry-is-a-string", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h, "model.norm.weight", "F32")))], "model.norm.weight")),
    _case("st-metadata-is-a-list", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h, "__metadata__", ["a"])))], "__metadata__")),
    _case("st-offsets-outside-file", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "data_offsets", [10**9, 10**9 + 1024])))], "outside")),
    _case("st-unknown-dtype", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "dtype", "Q4_K")))], "Q4_K")),
    _case("st-dtype-a-list", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "dtype", ["F32"])))], "model.norm.weight")),
    _case("st-nan-norm", lambda e: (["run", "--model-file", str(e.hf_patch_tensor(
        "model.layers.1.mlp.ffn_sub_norm.weight", 7, float("nan")))],
        "model.layers.1.mlp.ffn_sub_norm.weight")),
    _case("st-inf-embedding", lambda e: (["run", "--model-file", str(e.hf_patch_tensor(
        "model.embed_tokens.weight", 0, float("inf")))], "model.embed_tokens.weight")),
    _case("st-nan-weight-scale", lambda e: (["run", "--model-file", str(e.hf_patch_tensor(
        "model.layers.0.self_attn.q_proj.weight_scale", 0, float("nan")))], "q_proj.weight_scale")),
    _case("st-zero-weight-scale", lambda e: (["run", "--model-file", str(e.hf_patch_tensor(
        "model.layers.0.mlp.down_proj.weight_scale", 0, 0.0))], "down_proj.weight_scale")),
    _case("st-truncated", lambda e: (["run", "--model-file", str(e.hf_file(
        "model.safetensors", (e.base / "hf" / "model.safetensors").read_bytes()[:5000]))],
        "model.safetensors")),
    _case("st-wrong-shape", lambda e: (["run", "--model-file", str(e.hf_edit_header(
        lambda h: _set(h["model.norm.weight"], "shape", [128, 2])))], "model.norm.weight")),
    # config.json values of the wrong type / that do not parse
    _case("config-is-a-list", lambda e: (["run", "--model-file", str(e.hf_config(lambda c: [c]))],
                                         "JSON object")),
    _case("config-not-json", lambda e: (["run", "--model-file", str(e.hf_file(
        "config.json", "{'vocab_size': 3}"))], "config.json: not valid JSON")),
    _case("config-eps-text", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "rms_norm_eps", "1e-5x")))], "'rms_norm_eps'")),
    _case("config-hidden-size-string", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "hidden_size", "256")))], "'hidden_size'")),
    _case("config-layers-negative", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "num_hidden_layers", -2)))], "'num_hidden_layers'")),
    _case("config-tie-string", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "tie_word_embeddings", "no")))], "'tie_word_embeddings'")),
    _case("config-quantization-config-string", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "quantization_config", "bitnet")))], "'quantization_config'")),
    _case("config-rope-parameters-list", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: (c.pop("rope_theta"), _set(c, "rope_parameters", [500000.0]))[-1]))],
        "'rope_parameters'")),
    _case("config-rope-theta-text", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "rope_theta", "fast")))], "'rope_theta'")),
    _case("config-missing-vocab", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: c.pop("vocab_size") and None))], "'vocab_size'")),
    _case("config-bos-text", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "bos_token_id", "<s>")))], "'bos_token_id'")),
    _case("config-model-type", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c, "model_type", "llama")))], "model_type")),
    _case("config-linear-class", lambda e: (["run", "--model-file", str(e.hf_config(
        lambda c: _set(c["quantization_config"], "linear_class", "fp16linear")))], "fp16linear")),
    # formats
    _case("formats-unknown-action", lambda e: (["formats", "nosuch"], "'nosuch'")),
    _case("formats-pack-unknown-format", lambda e: (["formats", "pack", "-f", "q4_0"], "'q4_0'")),
    _case("formats-pack-unknown-preset", lambda e: (["formats", "pack", "-f", "tl2", "--model", "big"],
                                                    "'big'")),
    _case("formats-pack-unknown-projection", lambda e: (["formats", "pack", "-f", "tl2", "--proj", "qkv"],
                                                        "'qkv'")),
    _case("formats-pack-layer-out-of-range", lambda e: (["formats", "pack", "-f", "tl2", "--layer", "9"],
                                                        "--layer 9")),
    _case("formats-pack-layer-text", lambda e: (["formats", "pack", "-f", "tl2", "--layer", "one"],
                                                "--layer")),
    _case("formats-pack-bm-zero", lambda e: (["formats", "pack", "-f", "tl1", "--bm", "0"], "--bm")),
    _case("formats-pack-bad-tiling", lambda e: (["formats", "pack", "-f", "tl1", "--bm", "16"], "bm=16")),
    _case("formats-pack-layout-not-taken", lambda e: (["formats", "pack", "-f", "i2s_x86", "--BM", "32"],
                                                      "--BM")),
    _case("formats-pack-out-missing-dir", lambda e: (
        ["formats", "pack", "-f", "tq2_0", "--out", str(e.path("no/such/q.bin"))], "--out")),
    _case("formats-pack-out-is-dir", lambda e: (
        ["formats", "pack", "-f", "tq2_0", "--out", str(e.write("d/keep", b"").parent)], "is a directory")),
    _case("formats-pack-out-under-a-file", lambda e: (
        ["formats", "pack", "-f", "tq2_0", "--out", str(e.write("f", b"x")) + "/q.bin"], "not a directory")),
    _case("formats-pack-k-not-multiple", lambda e: (
        ["formats", "pack", "-f", "tl2", "--BK", "100", "--out", str(e.path("q.bin"))], "BK=100")),
    _case("formats-inspect-missing", lambda e: (["formats", "inspect", str(e.path("x.gguf"))], "x.gguf")),
    _case("formats-inspect-directory", lambda e: (["formats", "inspect", str(e.hf())], "is a directory")),
    _case("formats-inspect-unknown-kind", lambda e: (["formats", "inspect", str(e.write("a.txt", "hi"))],
                                                     "neither GGUF nor .safetensors")),
    _case("formats-inspect-truncated-gguf", lambda e: (
        ["formats", "inspect", str(e.write("cut.gguf", e.gguf().read_bytes()[:100]))], "cut.gguf")),
    _case("formats-inspect-st-header-list", lambda e: (
        ["formats", "inspect", str(e.hf_safetensors([], b"") / "model.safetensors")], "JSON object")),
    _case("formats-inspect-st-string-offsets", lambda e: (["formats", "inspect", str(e.hf_edit_header(
        lambda h: _set(h["model.embed_tokens.weight"], "data_offsets", "0-10")) / "model.safetensors")],
        "model.embed_tokens.weight")),
    _case("formats-inspect-blob-wrong-length", lambda e: (
        ["formats", "inspect", str(e.write("b.bin", b"\0" * 10)), "-f", "i2s_x86", "-M", "4", "-K", "128"],
        "length 10")),
    _case("formats-inspect-blob-needs-shape", lambda e: (
        ["formats", "inspect", str(e.write("b.bin", b"\0" * 10)), "-f", "i2s_x86"], "--rows")),
    _case("formats-inspect-rows-zero", lambda e: (
        ["formats", "inspect", str(e.write("b.bin", b"\0" * 10)), "-f", "i2s_x86", "-M", "0", "-K", "128"],
        "--rows")),
    # rtl (argument and path checks are ours; the NPU machine loader is isa_models')
    _case("rtl-unknown-action", lambda e: (["rtl", "nosuch"], "'nosuch'")),
    _case("rtl-build-out-under-a-file", lambda e: (
        ["rtl", "build", "--config", "tiny", "--out", str(e.write("f", b"x")) + "/v"], "--out")),
    _case("rtl-build-unknown-encoding", lambda e: (
        ["rtl", "build", "--config", "tiny", "--encoding", "base4", "--out", str(e.path("o"))], "base4")),
    _case("rtl-build-unknown-config", lambda e: (
        ["rtl", "build", "--config", "nosuch", "--out", str(e.path("o"))], "nosuch")),
    _case("rtl-build-malformed-config", lambda e: (
        ["rtl", "build", "--config", str(e.write("bad.toml", "rows = [")), "--out", str(e.path("o"))],
        "bad.toml")),
    _case("rtl-sim-unknown-simulator", lambda e: (["rtl", "sim", "--config", "tiny", "--simulator", "vcs"],
                                                  "'vcs'")),
    _case("rtl-sim-random-runs-zero", lambda e: (["rtl", "sim", "--config", "tiny", "--random-runs", "0"],
                                                 "--random-runs")),
    _case("rtl-report-unknown-part", lambda e: (
        ["rtl", "report", "--config", "tiny", "--parts", "alu", "--no-pnr"], "'alu'")),
    _case("rtl-report-json-missing-dir", lambda e: (
        ["rtl", "report", "--config", "tiny", "--json", str(e.path("no/r.json"))], "--json")),
    # the simulate pipeline: names first, then parameters, then paths, all before any work
    _case("simulate-unknown-machine", lambda e: (["simulate", "--isa", "avx2", "--machine", "z80"], "'z80'")),
    _case("simulate-unknown-kernel", lambda e: (["simulate", "--isa", "npu", "--kernel", "tl2"], "'tl2'")),
    _case("simulate-machine-of-other-isa", lambda e: (
        ["simulate", "--isa", "npu", "--machine", "isa_models/machines/avx2/zen4.toml"], "zen4")),
    _case("simulate-extension-missing", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", "alderlake-p", "--kernel", "vnni2", "--layer", "0",
         "--model", "tiny"], "avx512_vnni")),
    _case("simulate-npu-unknown-param", lambda e: (["simulate", "--isa", "npu", "--param", "BM=4"], "'BM'")),
    _case("simulate-param-not-key-value", lambda e: (["simulate", "--isa", "avx2", "--param", "BM"], "'BM'")),
    _case("simulate-native-on-npu", lambda e: (["simulate", "--isa", "npu", "--native"], "native")),
    _case("simulate-unknown-view", lambda e: (["simulate", "--isa", "avx2", "--views", "ports"], "'ports'")),
    _case("simulate-unknown-crosscheck", lambda e: (["simulate", "--isa", "avx2", "--crosscheck", "fpga"],
                                                   "fpga")),
    _case("simulate-layer-out-of-range", lambda e: (["simulate", "--isa", "avx2", "--model", "tiny",
                                                      "--layer", "7"], "--layer")),
    _case("verify-unknown-isa", lambda e: (["verify", "--isa", "z80"], "'z80'")),
    _case("emit-unknown-isa", lambda e: (["emit", "--isa", "z80", "--kernel", "tl2"], "'z80'")),
    _case("simulate-unknown-isa", lambda e: (["simulate", "--isa", "nosuch"], "nosuch")),
    _case("simulate-layer-text", lambda e: (["simulate", "--isa", "avx2", "--machine", "zen4", "--layer", "x"],
                                            "--layer")),
    _case("simulate-malformed-machine-toml", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", str(e.write("bad.toml", "[core\nwidth = ")),
         "--kernel", "i2s", "--model", "tiny", "--layer", "0"], "bad.toml")),
    _case("simulate-missing-machine-file", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", str(e.path("none.toml")), "--kernel", "i2s",
         "--model", "tiny", "--layer", "0"], "none.toml")),
    _case("simulate-unknown-preset", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", "zen4", "--kernel", "i2s", "--model", "huge",
         "--layer", "0"], "'huge'")),
    _case("simulate-workers-zero", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", "zen4", "--kernel", "i2s", "--model", "tiny",
         "--layer", "0", "--workers", "0"], "--workers")),
    _case("simulate-json-missing-dir", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", "zen4", "--kernel", "i2s", "--model", "tiny",
         "--layer", "0", "--json", str(e.path("no/sim.json"))], "--json")),
    _case("simulate-out-is-a-file", lambda e: (
        ["simulate", "--isa", "avx2", "--machine", "zen4", "--kernel", "i2s", "--model", "tiny",
         "--layer", "0", "--out", str(e.write("f", b"x"))], "--out")),
    _case("machines-unknown-isa", lambda e: (["machines", "--isa", "nosuch"], "nosuch")),
    _case("kernels-unknown-isa", lambda e: (["kernels", "--isa", "nosuch"], "nosuch")),
    # socs: names, SoC files, output paths
    _case("socs-unknown-soc", lambda e: (["socs", "nosuch-soc"], "'nosuch-soc'")),
    _case("socs-json-missing-dir", lambda e: (["socs", "--json", str(e.path("no/socs.json"))], "--json")),
    _case("socs-json-bad-suffix", lambda e: (["socs", "--json", str(e.path("socs.txt"))], "--json")),
    _case("socs-malformed-toml", lambda e: (["socs", str(e.write("bad.toml", "[soc\nname = 1\n"))], "bad.toml")),
    _case("socs-missing-machine", lambda e: (["socs", str(e.write("bad.toml", _soc_text(
        lambda t: t.replace('machine = "cortex-a76"', 'machine = "cortex-a99"'))))], "cortex-a99")),
    _case("verify-unknown-kernel", lambda e: (["verify", "--isa", "avx2", "--kernel", "nosuch",
                                               "--model", "tiny"], "nosuch")),
    _case("emit-bad-shape", lambda e: (["emit", "--isa", "avx2", "--kernel", "i2s", "--shape", "12,x"],
                                       "--shape")),
    # project: SoC, model, engine, threads, ranges, kernels, output paths
    _case("project-unknown-soc", lambda e: (["project", "--soc", "nosuch-soc"], "nosuch-soc")),
    _case("project-unknown-model", lambda e: (["project", "--soc", "raspberry-pi-5", "--model", "huge"], "'huge'")),
    _case("project-unknown-engine", lambda e: (["project", "--soc", "raspberry-pi-5", "--engine", "gpu"], "'gpu'")),
    _case("project-engine-the-soc-lacks", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--engine", "hvx"], "no hvx engine")),
    _case("project-threads-beyond-cores", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--threads", "5"], "--threads 5")),
    _case("project-threads-zero", lambda e: (["project", "--soc", "raspberry-pi-5", "--threads", "0"], "--threads")),
    _case("project-context-beyond-model", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--context", "300"], "--context 300")),
    _case("project-unknown-kernel", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--engine", "cpu", "--kernel", "nosuch"],
        "nosuch")),
    _case("project-kernel-cannot-take-shape", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "bitnet-b1.58-3B", "--engine", "cpu", "--threads", "1",
         "--kernel", "tq2"], "tq2")),
    _case("project-unknown-head-format", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--head-format", "q3_X"], "q3_X")),
    _case("project-json-missing-dir", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--json", str(e.path("no/p.json"))], "--json")),
    _case("project-plot-bad-suffix", lambda e: (
        ["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--plot", str(e.path("p.txt"))], "--plot")),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*")}


@pytest.mark.parametrize("build", CASES)
def test_bad_input_is_one_line_exit_2_nothing_written(build, base, tmp_path, monkeypatch, capsys):
    env = Env(base=base, root=tmp_path)
    monkeypatch.chdir(tmp_path)
    argv, culprit = build(env)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    known = argv and argv[0] != "nosuch"
    prefix = f"workbench {argv[0]}" if known else "workbench"
    assert re.match(rf"{prefix}( [a-z]+)?: error: \S", lines[0]), lines[0]
    assert culprit in lines[0], (culprit, lines[0])
    assert code == 2
    assert out == ""
    assert _snapshot(tmp_path) == before          # nothing created, nothing changed


def test_the_corpus_covers_every_class():
    """At least 40 cases, and the issue's classes are all present (by case id)."""
    ids = [c.id for c in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    for needle in ("st-header-list", "st-string-offsets", "st-string-shape", "st-entry-is-a-string",
                   "st-offsets-outside-file", "st-unknown-dtype", "config-eps-text", "gguf-nan-norm",
                   "st-nan-norm", "gguf-truncated-half", "model-file-empty", "model-file-empty-dir",
                   "run-max-new-tokens-0", "run-prompt-ids-text", "run-prompt-id-out-of-vocab",
                   "formats-pack-unknown-format", "run-unknown-preset", "simulate-malformed-machine-toml",
                   "formats-pack-out-missing-dir", "simulate-workers-zero"):
        assert needle in ids, needle


# --- internal errors keep their traceback -------------------------------------------------

@pytest.mark.parametrize("exc", [IndexError("index 9 is out of bounds"), AssertionError("lane 3"),
                                 RuntimeError("kernel bug"), ValueError("deep code"),
                                 KeyError("x"), OSError(28, "No space left on device")])
def test_internal_error_propagates(monkeypatch, capsys, exc):
    import workbench.commands.models as models

    def broken(args):
        raise exc

    monkeypatch.setattr(models, "run", broken)
    with pytest.raises(type(exc)):
        main(["models"])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("exc, line", [
    (UserError("bad thing in x.toml"), "workbench models: error: bad thing in x.toml"),
    (UnknownNameError("unknown ISA 'q'; valid: a, b"),
     "workbench models: error: unknown ISA 'q'; valid: a, b"),
    (FileNotFoundError(2, "No such file or directory", "/x/y.gguf"),
     "workbench models: error: /x/y.gguf: No such file or directory"),
    (IsADirectoryError(21, "Is a directory", "/tmp"), "workbench models: error: /tmp: Is a directory"),
    (PermissionError(13, "Permission denied", "/root/f"),
     "workbench models: error: /root/f: Permission denied"),
    (UserError("first line\nsecond line"), "workbench models: error: first line"),
])
def test_user_errors_are_one_line(monkeypatch, capsys, exc, line):
    import workbench.commands.models as models

    def refuse(args):
        raise exc

    monkeypatch.setattr(models, "run", refuse)
    assert main(["models"]) == 2
    assert capsys.readouterr().err == line + "\n"


def test_cli_user_error_is_the_errors_module_one():
    from workbench import cli

    assert cli.UserError is UserError and issubclass(UserError, ValueError)
    assert issubclass(UnknownNameError, LookupError) and issubclass(UnknownNameError, UserError)


def test_nested_command_errors_name_the_action(capsys):
    assert main(["formats", "pack", "-f", "tl2", "--layer", "x"]) == 2
    assert capsys.readouterr().err == ("workbench formats pack: error: argument --layer: "
                                       "invalid int value: 'x'\n")


# --- the shared argument checks (workbench.commands) ---------------------------------------

def test_positive_and_nonnegative_int():
    assert positive_int("3") == 3 and positive_int(" 7 ") == 7 and nonnegative_int("0") == 0
    for fn, text, message in [(positive_int, "0", "must be a positive integer, got 0"),
                              (positive_int, "-2", "must be a positive integer, got -2"),
                              (positive_int, "2.5", "invalid int value: '2.5'"),
                              (nonnegative_int, "-1", "must be a non-negative integer, got -1"),
                              (nonnegative_int, "x", "invalid int value: 'x'")]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            fn(text)


def test_check_output_path_file(tmp_path):
    assert check_output_path(tmp_path / "a.json", flag="--json") == tmp_path / "a.json"
    (tmp_path / "exists.json").write_text("{}")
    assert check_output_path(tmp_path / "exists.json", flag="--json")      # overwriting is fine
    cases = [(tmp_path / "no" / "a.json", f"--json {tmp_path / 'no' / 'a.json'}: directory "
                                          f"{tmp_path / 'no'} does not exist"),
             (tmp_path, "is a directory, expected a file"),
             (tmp_path / "exists.json" / "a.json", "is not a directory"),
             ("", "--json: empty path")]
    for path, message in cases:
        with pytest.raises(UserError) as e:
            check_output_path(path, flag="--json")
        assert message in str(e.value)
    with pytest.raises(UserError, match=r"unsupported file type '\.jpg'; valid: \.png, \.svg"):
        check_output_path(tmp_path / "p.jpg", flag="--plot", suffixes=(".png", ".svg"))
    assert check_output_path(tmp_path / "p.SVG", flag="--plot", suffixes=(".png", ".svg"))


def test_check_output_path_directory(tmp_path):
    assert check_output_path(tmp_path / "new" / "deeper", flag="--out", directory=True)
    assert check_output_path(tmp_path, flag="--out", directory=True)
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="is a file, expected a directory"):
        check_output_path(tmp_path / "f", flag="--out", directory=True)
    with pytest.raises(UserError, match=f"{tmp_path / 'f'} is a file, not a directory"):
        check_output_path(tmp_path / "f" / "sub", flag="--out", directory=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_check_output_path_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(UserError, match="is not writable"):
            check_output_path(ro / "a.json", flag="--json")
        with pytest.raises(UserError, match="is not writable"):
            check_output_path(ro / "sub", flag="--out", directory=True)
    finally:
        ro.chmod(0o700)


def test_check_input_path(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    assert check_input_path(f, flag="--model-file") == f
    assert check_input_path(tmp_path, flag="--model-file", directory=None) == tmp_path
    for path, directory, message in [(tmp_path / "none", False, "no such file or directory"),
                                     (tmp_path, False, "is a directory, expected a file"),
                                     (f, True, "is a file, expected a directory")]:
        with pytest.raises(UserError, match=message):
            check_input_path(path, flag="--model-file", directory=directory)
    with pytest.raises(UserError, match=f"^{tmp_path / 'none'}: no such file"):
        check_input_path(tmp_path / "none", flag="")
