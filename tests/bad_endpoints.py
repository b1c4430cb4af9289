import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers; yields its
    endpoint URL. A hung server, a dead proxy or a firewall that swallows packets looks so."""
    with socket.create_server(("127.0.0.1", 0), backlog=256) as server:
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    held.append(server.accept()[0])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.getsockname()[1]}"
        finally:
            stop.set()
            thread.join()
            for conn in held:
                conn.close()


@contextlib.contextmanager
def not_found() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers every request `404 Not Found` (as a gateway in
    front of nothing does); yields its endpoint URL."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def _404(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _404

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
