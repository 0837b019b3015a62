"""Settings for the whole test run, ``tests/`` and ``notebooks/`` alike.

Under pytest-xdist (``-n N``) the N worker processes run at once, so each one gets
``cores // N`` OpenCV threads (at least one) through ``OPENCV_FOR_THREADS_NUM``, unless that is
set already. The processes a worker starts inherit it (notebook kernels, command lines), except
those that set their own count (flow worker processes, the Dask workers of an evaluation). On
small frames OpenCV's threads cost more CPU than they save in time, CPU that the other workers
need: TV-L1 on a 48x48 synthetic pair takes 94 ms on one thread, and 75 ms on two for 149 ms
of CPU (``benchmarks/bench_opencv_threads.py``). The flow is the same, bit for bit, with any
number of threads.

The slowest modules and notebooks, listed in ``SLOWEST_FIRST``, run first and the rest follow
in collection order; under ``--dist loadscope`` (pytest-xdist 3.8 or later) that is the order
in which they are handed out, so a worker that finishes early picks up short modules instead
of waiting while the other runs a long one last. xdist's own order (most tests first) put
``test_standin_weights.py`` (16 s) last and left one worker idle for 15 s at the end; in runs
measured since, the two finished about 4 s apart.
"""

import os

# Seconds on 2 cores with -n 2, measured in a whole run: a stale or missing entry only changes
# the order, never what runs (tests/test_suite_order.py checks that each names a file).
SLOWEST_FIRST = (
    "tests/test_dataset_eval.py",  # 73
    "tests/test_tvl1_tf.py",  # 50
    "notebooks/08_offline_lab.ipynb",  # 48, before 07, which then finds its flow in the cache
    "notebooks/03_loading_the_models.ipynb",  # 31
    "tests/test_pretrained.py",  # 25
    "tests/test_demo_models.py",  # 20
    "tests/test_legacy.py",  # 18
    "tests/test_standin_weights.py",  # 16
    "tests/test_flow.py",  # 15
    "tests/test_cli.py",  # 14
    "tests/test_docstrings.py",  # 13
    "notebooks/05_predictions_and_fusion.ipynb",  # 13
    "notebooks/06_activity_abseiling.ipynb",  # 11
    "tests/test_diagrams.py",  # 8
    "notebooks/07_fusion_compared.ipynb",  # 7
    "tests/test_predict.py",  # 7
    "notebooks/02_setup.ipynb",  # 7
    "notebooks/04_dataset_and_flow.ipynb",  # 6
    "tests/test_models.py",  # 6
    "tests/test_two_stream.py",  # 6
)

_workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
if _workers:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OPENCV_FOR_THREADS_NUM", str(max(1, (_cores or 1) // int(_workers))))


def _file(nodeid: str) -> str:
    """The test module or notebook of a test id: what ``--dist loadscope`` keeps together."""
    return nodeid.split("::", 1)[0]


def pytest_configure(config):
    if getattr(config.option, "dist", None) == "loadscope":
        config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems gives


def pytest_collection_modifyitems(items):
    rank = {scope: position for position, scope in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(_file(item.nodeid), len(rank)))  # stable
