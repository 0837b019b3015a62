"""Settings for the whole test run, ``tests/`` and ``notebooks/`` alike.

Under pytest-xdist (``-n N``) the N worker processes run at once, so each one gets
``cores // N`` OpenCV threads (at least one) through ``OPENCV_FOR_THREADS_NUM``, unless that is
set already. The processes a worker starts inherit it (notebook kernels, command lines), except
those that set their own count (flow worker processes, the Dask workers of an evaluation). On
small frames OpenCV's threads cost more CPU than they save in time, CPU that the other workers
need: TV-L1 on a 48x48 synthetic pair takes 94 ms on one thread, and 75 ms on two for 149 ms
of CPU (``benchmarks/bench_opencv_threads.py``). The flow is the same, bit for bit, with any
number of threads.
"""

import os

_workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
if _workers:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OPENCV_FOR_THREADS_NUM", str(max(1, (_cores or 1) // int(_workers))))
