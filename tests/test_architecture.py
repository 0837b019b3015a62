"""The package's shape: the import contracts of setup.cfg hold (and would catch a cycle), no
module is too long, and the stages that need no model import no TensorFlow."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "twostream_lab"
MAX_LINES = 650


def _lint_imports(package_parent: Path, config: Path) -> subprocess.CompletedProcess:
    """Run import-linter's contracts on the twostream_lab found in ``package_parent``."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename=sys.argv[2], no_cache=True))")
    return subprocess.run([sys.executable, "-c", code, str(package_parent), str(config)],
                          capture_output=True, text=True, cwd=package_parent)


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    result = _lint_imports(ROOT, ROOT / "setup.cfg")
    assert result.returncode == 0, result.stdout + result.stderr
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    contracts = [s for s in config.sections() if s.startswith("importlinter:contract:")]
    assert len(contracts) >= 4 and "kept, 0 broken" in result.stdout


@pytest.mark.parametrize("importer, imported, contract", [
    ("data/paths.py", "twostream_lab.predict", "No import cycles"),
    ("flow/__init__.py", "twostream_lab.models.two_stream", "Imports run one way"),
    ("fusion.py", "twostream_lab.data.paths", "Fusion imports only numpy"),
    ("notebook/widgets.py", "twostream_lab.models.two_stream", "Widgets only show things"),
])
def test_the_contracts_catch_a_broken_rule(tmp_path, importer, imported, contract):
    pytest.importorskip("importlinter")
    shutil.copytree(PACKAGE, tmp_path / "twostream_lab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.h5"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    path = tmp_path / "twostream_lab" / importer
    path.write_text(path.read_text() + f"\n\ndef _broken():\n    import {imported}  # noqa\n")
    result = _lint_imports(tmp_path, tmp_path / "setup.cfg")
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken, result.stdout


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these into modules of at most {MAX_LINES} lines"


def test_the_library_imports_no_notebook_tool_or_test():
    offending = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                 for line in p.read_text().splitlines()
                 if line.strip().startswith(("import tools", "from tools", "import tests",
                                             "from tests", "import conftest", "from notebooks"))]
    assert offending == []


def test_video_flow_pictures_and_the_weights_choice_import_no_tensorflow():
    code = ("import sys; import twostream_lab.video, twostream_lab.flow, twostream_lab.batching, "
            "twostream_lab.fusion, twostream_lab.pictures, twostream_lab.pictures.plotting, "
            "twostream_lab.pictures.flow_viz, twostream_lab.pictures.render, "
            "twostream_lab.weights.pretrained; from twostream_lab import choose_weights; "
            "print(choose_weights('auto').source, choose_weights('demo').source); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "[]"
