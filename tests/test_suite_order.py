"""The order the root ``conftest.py`` gives the suite: its list of slow scopes names real files."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _slowest_first() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "conftest.py").read_text())
    (value,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                and [target.id for target in node.targets] == ["SLOWEST_FIRST"]]
    return ast.literal_eval(value)


def test_the_slow_scopes_are_files_of_the_suite_listed_once():
    scopes = _slowest_first()
    assert len(scopes) == len(set(scopes)) >= 10
    missing = [scope for scope in scopes if not (ROOT / scope).is_file()]
    assert missing == [], f"conftest.SLOWEST_FIRST names files that do not exist: {missing}"
    assert all(scope.startswith(("tests/test_", "notebooks/")) for scope in scopes)
