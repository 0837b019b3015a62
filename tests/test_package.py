"""The package's public surface: every exported name resolves, and importing stays light."""

from __future__ import annotations

import subprocess
import sys

import twostream_lab


def test_every_public_name_resolves():
    for name in twostream_lab.__all__:
        assert getattr(twostream_lab, name) is not None, name


def test_import_does_not_load_tensorflow():
    code = (
        "import sys; import twostream_lab; "
        "twostream_lab.Flow; twostream_lab.read_video; twostream_lab.flow_to_rgb; "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
