import dataclasses
import http.server
import importlib.resources
import json
import threading
import time
import urllib.parse
from typing import Any

from pivot import api
from pivot.domain import errors

_FRESH_SECONDS = 0.3
"""Pages poll every 0.5 s; one status computation serves every request within this window."""


class UiServer(http.server.ThreadingHTTPServer):
    """`pivot ui`: the project's DAG, live run state, explain reasons, history and plots.

    Read-only, built on `pivot.api` only; every asset is in the page (no CDN, no network).
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], project: api.Project) -> None:
        super().__init__(address, _Handler)
        self.project = project
        self._lock = threading.Lock()
        self._state: tuple[float, dict[str, Any]] | None = None
        self._known: list[api.StageInfo] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def state(self) -> dict[str, Any]:
        """Every stage with its place in the graph, live state and reasons."""
        with self._lock:
            now = time.monotonic()
            if self._state is not None and now - self._state[0] < _FRESH_SECONDS:
                return self._state[1]
            try:
                state = self._compute()
            except OSError:
                # A run in another process replaced a file while status read it: the next
                # poll sees it settled; until then the page keeps what it showed.
                if self._state is None:
                    raise
                return self._state[1]
            self._state = (now, state)
            return state

    def _compute(self) -> dict[str, Any]:
        live = self.project.live()
        try:
            stages = self.project.stages()
            reports = {r.name: r for r in self.project.status()}
            self._known = stages
            error = None
        except errors.PivotError as exc:
            stages, reports, error = self._known, {}, str(exc)
        rows: dict[int, int] = {}
        found: list[dict[str, Any]] = []
        for st in stages:
            row = rows.get(st.layer, 0)
            rows[st.layer] = row + 1
            report = reports.get(st.name)
            found.append(
                {
                    **dataclasses.asdict(st),
                    "row": row,
                    "state": _state_of(st.name, report, live),
                    "reasons": list(report.reasons) if report else [],
                    "warnings": list(report.warnings) if report else [],
                    "duration": live.durations.get(st.name),
                }
            )
        return {
            "root": str(self.project.root),
            "error": error,
            "run": {"active": live.active, "running": list(live.running)},
            "stages": found,
        }

    def plots(self) -> list[dict[str, Any]]:
        return [{"title": p.title, "svg": p.svg} for p in self.project.plots() if p.svg]

    def metrics(self) -> list[dict[str, Any]]:
        return [
            {"path": path, "key": key, "value": value}
            for path, values in self.project.metrics().items()
            for key, value in (values or {}).items()
        ]

    def history(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for run in reversed(self.project.history(limit=10)):
            counts: dict[str, int] = {}
            for st in run["stages"]:
                counts[st["status"]] = counts.get(st["status"], 0) + 1
            found.append(
                {
                    "id": run["id"],
                    "started": run["started"],
                    "duration": round(run["ended"] - run["started"], 3),
                    "counts": counts,
                }
            )
        return found


def _state_of(name: str, report: api.StageStatus | None, live: api.LiveRun) -> str:
    if name in live.running:
        return "running"
    if live.finished.get(name) == "failed" and (report is None or report.state != "up_to_date"):
        return "failed"
    return report.state if report is not None else "unknown"


def page() -> bytes:
    return importlib.resources.files("pivot.ui").joinpath("page.html").read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        route = urllib.parse.urlsplit(self.path).path
        server = self.server
        assert isinstance(server, UiServer)
        match route:
            case "/":
                self._send(200, "text/html; charset=utf-8", page())
            case "/api/state":
                self._json(server.state())
            case "/api/plots":
                self._json({"plots": self._guarded(server.plots)})
            case "/api/metrics":
                self._json({"metrics": self._guarded(server.metrics)})
            case "/api/history":
                self._json({"runs": self._guarded(server.history)})
            case _:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

    def _guarded(self, produce: Any) -> Any:
        try:
            return produce()
        except errors.PivotError:
            return []

    def _json(self, body: Any) -> None:
        self._send(200, "application/json", json.dumps(body).encode())

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every poll."""
