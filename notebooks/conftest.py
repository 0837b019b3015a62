"""nbval runs every notebook in a kernel that inherits this process's environment.

The committed outputs come from the offline demo mode, and ``WEIGHTS = "auto"`` switches to the
pretrained models when they are in the cache. So the kernels get a fresh, empty cache: the result
of ``pytest --nbval notebooks/`` does not depend on what this machine downloaded before. And
``TWOSTREAM_LAB_WEIGHTS=demo`` runs the activity, whose switch says "pretrained", on the demo
models, as its committed outputs say. The pretrained path runs in the Colab replica
(``tools/colab_replica.py``).
"""

import atexit
import os
import shutil
import tempfile

_cache = tempfile.mkdtemp(prefix="twostream-lab-nbval-")
atexit.register(shutil.rmtree, _cache, ignore_errors=True)
os.environ["TWOSTREAM_LAB_CACHE"] = _cache
os.environ["TWOSTREAM_LAB_WEIGHTS"] = "demo"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
