"""Tests, tools, benchmarks, notebooks and the library talk to 127.0.0.1 / ::1 only.

A test that needs a server that refuses, never answers or stalls starts one on loopback
(``tests/loopback.py``). This scan keeps numeric outside addresses from coming back: any URL
(``scheme://HOST``) or ``(host, port)`` literal whose host is a numeric address outside
127.0.0.0/8 and ::1 fails it, private and "unroutable" ranges included. ``0.0.0.0`` is allowed
only as a bind address.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "twostream_lab", "benchmarks", "tools", "notebooks", ".ci")
SCANNED_FILES = ("colab_setup.sh",)
SUFFIXES = {".py", ".sh", ".ipynb", ".md", ".cfg", ".toml", ".txt", ""}

# scheme://host: an IPv6 literal in brackets, or anything up to the port, path or end
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(\[[^\]\s]*\]|[^\s/:'\"?#)\]}>]+)")
# ("host", port) or ("host", PORT_NAME), and host="..." keywords
_PAIR = re.compile(r"""\(\s*(['"])([0-9a-fA-FxX.:]+)\1\s*,\s*(?:\d+|[A-Za-z_][\w.]*)\s*[,)]""")
_HOST_KEYWORD = re.compile(r"""\bhost\s*=\s*(['"])([0-9a-fA-FxX.:]+)\1""")


def _numeric_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells numerically (dotted, shortened, decimal or hex), or None."""
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if not re.fullmatch(r"[0-9a-fA-FxX.]+", host) or not re.search(r"\d", host):
        return None
    try:  # inet_aton also takes the forms a resolver would: 10.1, 167772161, 0xa.0.0.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def outside_addresses(text: str) -> list[tuple[int, str]]:
    """``(line number, host)`` of every numeric host outside loopback that ``text`` names."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        hosts = [(m.group(1), "url") for m in _URL.finditer(line)]
        hosts += [(m.group(2), "pair") for m in (*_PAIR.finditer(line),
                                                 *_HOST_KEYWORD.finditer(line))]
        for host, kind in hosts:
            address = _numeric_address(host)
            if address is None or _is_loopback(address):
                continue
            if address.is_unspecified and kind == "pair" and "bind" in line:
                continue  # 0.0.0.0 / :: as a bind address listens; it sends nothing
            found.append((number, host))
    return found


def _scanned_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        return "\n".join("".join(cell.get("source", "")) for cell in cells
                         if cell.get("cell_type") == "code")
    return path.read_text(encoding="utf-8", errors="replace")


def _scanned_paths() -> list[Path]:
    paths = [ROOT / name for name in SCANNED_FILES]
    for folder in SCANNED:
        paths += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in SUFFIXES
                  and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts]
    return [p for p in paths if p.is_file()]


def test_no_outside_numeric_address_in_the_project():
    paths = _scanned_paths()
    assert any(p.name == "test_pretrained.py" for p in paths)  # the scan really reads tests/
    problems = [f"{path.relative_to(ROOT)}:{line}: {host}"
                for path in paths for line, host in outside_addresses(_scanned_text(path))]
    assert problems == [], ("these name an address outside 127.0.0.0/8 and ::1; start a server "
                            "on 127.0.0.1 instead (tests/loopback.py):\n" + "\n".join(problems))


def _dotted(*parts: int) -> str:
    # Built at run time, so that this file holds no outside address for the scan to find.
    return ".".join(str(part) for part in parts)


@pytest.mark.parametrize("line", [
    f'url = "http://{_dotted(10, 255, 255, 1)}:81/x.zip"',
    f'"https://{_dotted(192, 168, 1, 20)}/clip.mp4"',
    f'"http://{_dotted(172, 16, 0, 1)}"',
    f'"http://{_dotted(8, 8, 8, 8)}/"',
    f'"ftp://{_dotted(10, 1)}/a"',
    f'"http://{10 * 2**24 + 1}/"',  # 10.0.0.1 as one decimal number
    f'"http://[fe80::{1}]:8080/"',
    f'socket.create_connection(("{_dotted(10, 0, 0, 1)}", 80))',
    f'sock.connect(("{_dotted(192, 168, 0, 1)}", port))',
    f'HTTPServer(host="{_dotted(10, 0, 0, 2)}")',
    f'"http://{_dotted(0, 0, 0, 0)}:8000/"',
    f'socket.create_connection(("{_dotted(0, 0, 0, 0)}", 80))',
])
def test_the_scan_finds_outside_addresses(line):
    assert len(outside_addresses(line)) == 1


@pytest.mark.parametrize("line", [
    'f"http://127.0.0.1:{port}/{{id}}.zip"',
    '"http://127.5.5.5/"',
    '"http://[::1]:8000/"',
    'server.bind(("0.0.0.0", 0))',
    'server.bind(("127.0.0.1", 0))',
    '"https://drive.google.com/uc?id=abc"',
    'versions = ("4.14.0.94", "5.0.0.93")',
    'print("Python 3.13.0")',
])
def test_the_scan_allows_loopback_names_and_non_addresses(line):
    assert outside_addresses(line) == []
