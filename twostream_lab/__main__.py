"""``python -m twostream_lab ...`` is the ``twostream-lab`` command."""

import sys

from .cli import main

sys.exit(main())
