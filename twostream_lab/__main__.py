"""``python -m twostream_lab ...`` is the ``twostream-lab`` command."""

import sys

from twostream_lab.cli import main

sys.exit(main())
