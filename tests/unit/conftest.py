"""Fixtures shared by the unit tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="module")
def scheduler():
    """Address of a Dask LocalCluster of two single-threaded worker processes on 127.0.0.1, one per
    test module that asks for it (the sweep tests)."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
