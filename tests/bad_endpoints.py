import contextlib
import http.server
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

    with _serving(Handler) as url:
        yield url


@contextlib.contextmanager
def slow_link(bytes_per_second: int) -> Iterator[str]:
    """An HTTP object server on 127.0.0.1 behind a slow link: it takes in an upload's body and
    sends a download's at `bytes_per_second`, answering an upload only once all of it is in (as
    S3 does). Keeps what it is given, by path; yields its endpoint URL."""
    import time

    stored: dict[str, bytes] = {}
    step = max(1, bytes_per_second // 20)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self) -> None:
            left = int(self.headers.get("Content-Length") or 0)
            body = bytearray()
            while left:
                time.sleep(0.05)
                got = self.rfile.read(min(step, left))
                body += got
                left -= len(got)
            stored[self.path] = bytes(body)
            self.send_response(200)
            self.send_header("ETag", '"slow"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            data = stored.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"slow"')
            self.send_header("Last-Modified", "Thu, 03 Dec 2026 00:00:00 GMT")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for start in range(0, len(data), step):
                time.sleep(0.05)
                self.wfile.write(data[start : start + step])

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serving(Handler) as url:
        yield url


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` answering on a free port of 127.0.0.1 in a thread, for the block's duration."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
