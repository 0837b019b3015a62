"""Every example in the package's docstrings runs and shows what it says (``>>>`` lines)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import twostream_lab

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(twostream_lab.__path__, "twostream_lab.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, report=False, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
