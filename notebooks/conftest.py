"""nbval runs every notebook in a kernel that inherits this process's environment.

The committed outputs come from the offline demo mode, and ``WEIGHTS = "auto"`` switches to the
pretrained models when they are in the cache. So the kernels get a fresh, empty cache: the result
of ``pytest --nbval notebooks/`` does not depend on what this machine downloaded before. And
``TWOSTREAM_LAB_WEIGHTS=demo`` runs the activity, whose switch says "pretrained", on the demo
models, as its committed outputs say. ``TWOSTREAM_LAB_DATA`` is removed, as when the outputs
were made (``tools/build_notebooks.py``): the notebooks that read a real clip when one is present
then reproduce their committed synthetic stand-in. The pretrained path and the real clips run in
the Colab replica (``tools/colab_replica.py``).

Under pytest-xdist the workers share the folder that the controller made (it loads this file
too, and removes the folder when the run ends), so a notebook finds the flow that a notebook on
the other worker computed: 07 evaluates the same held-out clips as 08.
"""

import atexit
import os
import shutil
import tempfile

import pytest

_RUN_CACHE = "TWOSTREAM_LAB_NBVAL_CACHE"  # the folder of this run, for the xdist workers

if os.environ.get("PYTEST_XDIST_WORKER") and os.path.isdir(os.environ.get(_RUN_CACHE, "")):
    _cache = os.environ[_RUN_CACHE]
else:
    _cache = tempfile.mkdtemp(prefix="twostream-lab-nbval-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ[_RUN_CACHE] = _cache
os.environ["TWOSTREAM_LAB_CACHE"] = _cache
os.environ["TWOSTREAM_LAB_WEIGHTS"] = "demo"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Start each notebook's kernel (in its first cell's setup) without ``TWOSTREAM_LAB_DATA``;
    the library tests in this process keep it."""
    data = os.environ.pop("TWOSTREAM_LAB_DATA", None)
    try:
        yield
    finally:
        if data is not None:
            os.environ["TWOSTREAM_LAB_DATA"] = data
