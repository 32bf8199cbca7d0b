"""A TCP proxy in front of the test server that a test can cut, restore or slow down: the network, as the
offline features meet it.

`NetCut(db_url)` listens on 127.0.0.1 (a free port) and forwards every connection to the server's unix
socket. `url` is a connection string through the proxy. `cut()` drops every open connection and refuses new
ones (the client sees "connection refused"-like failures at once: `ConnectionFailed`), `restore()` lets them
through again, `slow(seconds)` delays every answer from the server by that much.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict


class NetCut:
    """See the module's notes. Use as a context manager, or call `close()`."""

    def __init__(self, db_url: str) -> None:
        params = conninfo_to_dict(db_url)
        host, port = str(params["host"]), str(params.get("port") or "5432")
        self.socket_path = f"{host}/.s.PGSQL.{port}"
        self.dbname = str(params["dbname"])
        self.user = str(params.get("user") or "postgres")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.delay = 0.0
        self._down = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="netcut-accept", daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        """A connection string to the database through the proxy (short connect timeout)."""
        return (f"postgresql://{quote(self.user)}@127.0.0.1:{self.port}/{quote(self.dbname)}"
                "?connect_timeout=3&sslmode=disable")

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._down.set()
        with self._lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def restore(self) -> None:
        """Let connections through again."""
        self._down.clear()

    def slow(self, seconds: float) -> None:
        """Delay every answer from the server by `seconds` (0: no delay)."""
        self.delay = seconds

    def close(self) -> None:
        """Stop the proxy."""
        self._closed.set()
        self.cut()
        with contextlib.suppress(OSError):
            self.listener.close()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> NetCut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                client.close()
                continue
            try:
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.connect(self.socket_path)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            thread = threading.Thread(target=self._pump, args=(client, server), name="netcut-pump", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while not self._down.is_set():
                try:
                    ready, _, _ = select.select(list(peers), [], [], 0.1)
                except (OSError, ValueError):
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server and self.delay:
                        time.sleep(self.delay)
                    if self._down.is_set():
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(server)
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()
