"""`workbench sweep --scheduler` on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes started here on 127.0.0.1 (and every process group killed afterwards) give the same
table as the default local cluster, and a sweep resumed after losing cache entries recomputes only
those on the remote workers."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.sweep.execute import cache_path, point_key
from workbench.sweep.kernel_point import evaluate_kernel_point
from workbench.sweep.points import expand
from workbench.sweep.spec import load_spec
from workbench.sweep.table import read_table

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"

SPEC = """
[sweep]
name = "cluster-test"
[axes]
isa = ["avx2", "neon", "hvx"]
kernel = ["vnni", "tq2", "rowdot", "fieldmask"]
machine = ["zen4", "zen3", "cortex-a55", "snapdragon-8-gen-3"]
shape = ["256x512", "tiny:gate"]
param.chains = [1, 2]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def remote():
    """tcp address of a `dask scheduler` with two single-threaded `dask worker` processes."""
    if not DASK.is_file():
        pytest.skip(f"no dask command at {DASK}")
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    common = dict(cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **common)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                           "--no-dashboard"], **common))
        deadline = time.monotonic() + 60
        client = None
        while client is None:
            try:
                client = Client(address, timeout=2)
            except OSError:
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError("dask scheduler did not start") from None
                time.sleep(0.2)
        try:
            while len(client.scheduler_info()["workers"]) < 2:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("two dask workers did not connect")
                time.sleep(0.2)
        finally:
            client.close()
        yield address
    finally:
        _stop(procs)


@pytest.mark.slow
def test_remote_cluster_and_local_cluster_write_identical_tables(remote, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    common = ["--no-cache", "--no-progress", "--plot", str(tmp_path / "p.png")]
    assert main(["sweep", str(spec), "--scheduler", remote, "--out", str(tmp_path / "remote.parquet"), *common]) == 0
    remote_text = capsys.readouterr().out
    assert main(["sweep", str(spec), "--workers", "2", "--out", str(tmp_path / "local.parquet"), *common]) == 0
    capsys.readouterr()
    assert "on 2 workers" in remote_text
    remote_rows, local_rows = read_table(tmp_path / "remote.parquet"), read_table(tmp_path / "local.parquet")
    assert len(remote_rows) == 20 and remote_rows == local_rows
    assert {r["verdict"] for r in remote_rows} == {"VERIFIED", "UNSUPPORTED"}
    assert (tmp_path / "remote.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()


def test_a_resumed_sweep_recomputes_only_the_lost_points(remote, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    argv = ["sweep", str(spec), "--scheduler", remote, "--cache-dir", str(cache), "--no-progress",
            "--plot", str(tmp_path / "p.png")]
    assert main([*argv, "--out", str(tmp_path / "first.csv")]) == 0
    assert "computed 20, cached 0" in capsys.readouterr().out
    configs = expand(load_spec(spec)).configs
    for config in configs[3:6]:
        cache_path(cache, point_key(evaluate_kernel_point, config)).unlink()
    assert main([*argv, "--out", str(tmp_path / "second.csv")]) == 0
    text = capsys.readouterr().out
    assert re.search(r"computed 3, cached 17; wall [0-9.]+ s on 2 workers", text)
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "second.csv").read_bytes()
