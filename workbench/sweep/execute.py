"""Run sweep points on Dask, each cached under a content hash of its configuration and the code.

Sweep layer (`workbench.sweep`), between the expanded points (`points.py`, or `workbench tune`)
and the table. `run_points` hashes every point (the evaluate function's qualified name, the point's
canonical JSON and `code_version`, a hash of the project's sources), reads back the points already
in the cache and sends only the rest to a Dask cluster: by default a `distributed.LocalCluster` of
single-threaded worker processes started and closed here, or an existing cluster at
``scheduler``. Each result is written to the cache atomically as it arrives, so a killed sweep
resumes with only the missing points. Results come back in config order, JSON-normalised, so a
cached and a fresh run (and a local and a remote cluster) give identical rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

from workbench.errors import UserError
from workbench.source_digest import source_digest

__all__ = ["run_points", "code_version", "point_key", "cache_path", "read_cached", "RunStats",
           "CONNECT_TIMEOUT_S", "SOURCE_DIRS"]

#: seconds `run_points` waits for an existing scheduler before giving up
CONNECT_TIMEOUT_S = 10.0

#: the source folders whose .py and .toml files make the code version
SOURCE_DIRS = ("workbench", "isa_models", "kernels")

#: environment of local worker processes: one thread each (the workers are the parallelism)
_WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}


def code_version() -> str:
    """The code version of a point: `workbench.source_digest.source_digest` of every .py and .toml
    file under `SOURCE_DIRS` (computed once per process, independent of git)."""
    return source_digest(SOURCE_DIRS, ("*.py", "*.toml"))


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _qualname(evaluate: Callable) -> str:
    return f"{evaluate.__module__}.{evaluate.__qualname__}"


def point_key(evaluate: Callable, config: dict, *, version: str | None = None) -> str:
    """The point's content hash: sha256 of the canonical JSON of (evaluate's qualified name, config,
    code version). A config that is not JSON raises TypeError (points are plain JSON)."""
    try:
        text = _canonical({"evaluate": _qualname(evaluate), "config": config,
                           "code": version if version is not None else code_version()})
    except (TypeError, ValueError) as exc:
        raise TypeError(f"sweep point {config!r} is not plain JSON: {exc}") from None
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(cache_dir: Path, key: str) -> Path:
    """Where point `key` is cached: ``<cache_dir>/<key[:2]>/<key>.json``."""
    return Path(cache_dir) / key[:2] / f"{key}.json"


def read_cached(cache_dir: Path, key: str) -> dict | None:
    """The cached result of point `key`, or None (absent, or unreadable: then it is recomputed)."""
    path = cache_path(cache_dir, key)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    result = record.get("result") if isinstance(record, dict) else None
    return result if isinstance(result, dict) and record.get("key") == key else None


def _write_cached(cache_dir: Path, key: str, evaluate: Callable, config: dict, result: dict) -> None:
    """Write one result atomically (a temporary file in the same folder, then rename)."""
    path = cache_path(cache_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"key": key, "evaluate": _qualname(evaluate), "code_version": code_version(), "config": config,
              "result": result}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(record, allow_nan=True))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _normalise(result) -> dict:
    """`result` through JSON (tuples to lists, ...; key order kept), as the cache returns it; a non-dict or
    non-JSON result is an internal error of the evaluate function."""
    if not isinstance(result, dict):
        raise TypeError(f"evaluate returned {type(result).__name__}, not a dict")
    return json.loads(json.dumps(result, allow_nan=True))


class RunStats:
    """What a `run_points` call did: points, cached (points read from the cache), computed (points
    whose result came from the cluster), evaluations (distinct configs sent: identical points share
    one), the scheduler's address and its worker count."""

    def __init__(self) -> None:
        self.points = self.cached = self.computed = self.evaluations = 0
        self.scheduler = ""
        self.workers = 0


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """Keep distributed's INFO/WARNING chatter (start-up, shutdown) off the user's terminal."""
    loggers = [logging.getLogger(name) for name in ("distributed", "bokeh", "tornado")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int):
    """A distributed Client: to `scheduler`, or to a LocalCluster of `workers` processes (closed after)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UserError(f"--scheduler {scheduler}: cannot connect within {CONNECT_TIMEOUT_S:g} s "
                            f"({detail})") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", silence_logs=logging.ERROR, env=dict(_WORKER_ENV))
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def run_points(configs: list[dict], evaluate: Callable[[dict], dict], *, scheduler: str | None = None,
               workers: int = 2, cache_dir: Path | None = None, progress: bool = True,
               stats: RunStats | None = None) -> list[dict]:
    """Evaluate every config on Dask, reading and writing the per-point cache; results in config order.

    Parameters
    ----------
    configs : plain-JSON point configs (dicts).
    evaluate : a module-level function ``config -> dict`` of JSON scalars (picklable by reference,
        importable on the workers), e.g. `workbench.sweep.kernel_point.evaluate_kernel_point`.
    scheduler : address of an existing Dask scheduler ("tcp://host:port"); None starts a
        LocalCluster of `workers` single-threaded processes and closes it at the end.
    workers : processes of the local cluster (ignored with `scheduler`).
    cache_dir : folder of the per-point cache (None: no cache).
    progress : a progress bar on stderr (points done / total, cached count).
    stats : a `RunStats` filled with what the run did.

    Returns
    -------
    list[dict] : one result per config, in order; identical configs are evaluated once.

    Raises
    ------
    UserError : `workers` below 1; a scheduler that cannot be reached within `CONNECT_TIMEOUT_S`.
    RuntimeError : `evaluate` raised on a worker (an internal error), naming the point's config.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserError(f"--workers {workers}: must be a positive integer")
    configs = list(configs)
    version = code_version()
    keys = [point_key(evaluate, c, version=version) for c in configs]
    results: dict[str, dict] = {}
    if cache_dir is not None:
        for key in dict.fromkeys(keys):
            hit = read_cached(cache_dir, key)
            if hit is not None:
                results[key] = hit
    pending = {key: config for key, config in zip(keys, configs) if key not in results}
    stats = stats if stats is not None else RunStats()
    counts = Counter(keys)
    stats.points, stats.cached = len(configs), sum(k in results for k in keys)
    if pending:
        from distributed import as_completed
        from tqdm import tqdm

        with _quiet_distributed(), _client(scheduler, workers) as client:
            stats.scheduler = client.scheduler.address
            stats.workers = len(client.scheduler_info().get("workers", {}))
            futures = {client.submit(evaluate, config, key=f"sweep-point-{key}", pure=False): key
                       for key, config in pending.items()}
            with tqdm(total=len(configs), initial=stats.cached, file=sys.stderr, disable=not progress,
                      unit="pt", desc="sweep", postfix={"cached": stats.cached}, dynamic_ncols=True) as bar:
                for future in as_completed(futures):
                    key = futures[future]
                    if future.status == "error":
                        exc = future.exception()
                        raise RuntimeError(f"evaluate {_qualname(evaluate)} failed on point "
                                           f"{_canonical(pending[key])}: {type(exc).__name__}: {exc}") from exc
                    result = _normalise(future.result())
                    if cache_dir is not None:
                        _write_cached(cache_dir, key, evaluate, pending[key], result)
                    results[key] = result
                    stats.computed += counts[key]
                    stats.evaluations += 1
                    bar.update(counts[key])
    return [dict(results[key]) for key in keys]
