"""Misbehaving servers on 127.0.0.1 for network tests: they never leave the machine.

Every test that needs a server that refuses, never answers, stalls or trickles starts one of
these instead of pointing at an outside address. Each server stops by itself when its ``with``
block ends, and every wait inside it is bounded.

``closed_port()``
    A port on 127.0.0.1 that was bound and closed again: connecting is refused at once.
``unanswered_server()``
    A listening socket whose backlog is full and never accepted: a new connection attempt gets
    no answer at all (the SYN is dropped), as from a host that is down.
``stalling_server(head=b"", hold=...)``
    Accepts, sends ``head`` (e.g. the start of an HTTP response), then sends nothing more until
    ``hold`` seconds have passed or the block ends: a server that hangs after connecting.
``trickling_server(body, interval=..., headers=...)``
    Answers HTTP with ``body`` one byte every ``interval`` seconds: slow, but never silent.
``file_server(folder)``
    A well-behaved static HTTP server for ``folder`` (a mirror, a sample host) that counts the
    GET requests it answers.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
# How often a server's loop looks whether its block has ended. http.server's default, 0.5 s,
# made every test with a server wait up to half a second at its end (about 10 s in all).
POLL_INTERVAL = 0.02


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was bound, then closed)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def unanswered_server() -> Iterator[int]:
    """Yield a port whose connection attempts are never answered until the block ends."""
    server = socket.socket()
    server.bind((HOST, 0))
    server.listen(0)  # one queued connection fills the backlog
    port = server.getsockname()[1]
    filler = socket.create_connection((HOST, port), timeout=2)
    try:
        yield port
    finally:
        filler.close()
        server.close()


@contextmanager
def _serving(handle) -> Iterator[int]:
    """Accept connections on 127.0.0.1 and run ``handle(conn, stop)`` for each, in threads."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, 0))
    server.listen(8)
    server.settimeout(POLL_INTERVAL)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=_run_handler, args=(handle, conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        server.close()


def _run_handler(handle, conn: socket.socket, stop: threading.Event) -> None:
    with conn:
        try:
            conn.settimeout(2)
            try:
                conn.recv(65536)  # the request; its content does not matter here
            except OSError:
                pass
            handle(conn, stop)
        except OSError:
            pass  # the client gave up: that is what these servers are for


@contextmanager
def stalling_server(head: bytes = b"", *, hold: float = 30.0) -> Iterator[int]:
    """Yield a port whose server sends ``head`` and then nothing for ``hold`` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        if head:
            conn.sendall(head)
        stop.wait(hold)

    with _serving(handle) as port:
        yield port


def http_head(length: int | None, content_type: str = "application/octet-stream",
              status: str = "200 OK") -> bytes:
    """The status line and headers of an HTTP/1.1 response (``length`` None: no length)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@contextmanager
def trickling_server(body: bytes, *, interval: float = 0.5,
                     content_type: str = "application/octet-stream") -> Iterator[int]:
    """Yield a port whose HTTP server sends ``body`` one byte every ``interval`` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(http_head(len(body), content_type))
        for byte in body:
            if stop.wait(interval):
                return
            conn.sendall(bytes([byte]))

    with _serving(handle) as port:
        yield port


@dataclass
class FileServer:
    """What :func:`file_server` yields: the folder served, its URL (ending in ``/``), its port,
    and the number of GET requests answered so far."""

    folder: Path
    url: str
    port: int
    hits: int = 0


@contextmanager
def file_server(folder: str | Path) -> Iterator[FileServer]:
    """Serve ``folder`` over HTTP on 127.0.0.1 until the block ends."""
    served = FileServer(Path(folder), "", 0)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits += 1
            super().do_GET()

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    handler = functools.partial(Handler, directory=str(folder))
    with http.server.ThreadingHTTPServer((HOST, 0), handler) as httpd:
        served.port = httpd.server_address[1]
        served.url = f"http://{HOST}:{served.port}/"
        thread = threading.Thread(target=httpd.serve_forever, args=(POLL_INTERVAL,), daemon=True)
        thread.start()
        try:
            yield served
        finally:
            httpd.shutdown()
            thread.join(timeout=5)
