"""A tiny service that embeds Pivot's core: every store in memory, stages run in this process.

    python examples/embedding/service.py PROJECT_DIR

prints, as JSON, what a service answering "what is stale, and why?" and "run it" would send:
the status before, the events of the run, the status after and the recorded history. Nothing
is written under PROJECT_DIR/.pivot (no cache objects, lock records, state database or logs);
the stages' own outputs are written as usual.
"""

import json
import pathlib
import sys
from typing import Any

from pivot import api
from pivot.adapters.memory import content_cache, lock_store, state_store
from pivot.domain import events
from pivot.ports import stage_log


def open_project(path: pathlib.Path) -> api.Project:
    return api.Project.open(
        path,
        state=state_store.MemoryStateStore(),
        cache=content_cache.MemoryContentCache(),
        locks=lock_store.MemoryLockStore(),
        executor="inline",
        logs=stage_log.NONE,
    )


def serve_once(project: api.Project) -> dict[str, Any]:
    seen: list[str] = []

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.StageFinished):
            seen.append(f"{event.stage}: {event.status}")

    before = {s.name: {"state": s.state, "reasons": list(s.reasons)} for s in project.status()}
    summary = project.run(on_event=on_event)
    after = {s.name: s.state for s in project.status()}
    runs = [{"id": r["id"], "stages": len(r["stages"])} for r in project.history()]
    return {"before": before, "events": seen, "ok": summary.ok, "after": after, "history": runs}


def main() -> int:
    with open_project(pathlib.Path(sys.argv[1])) as project:
        print(json.dumps(serve_once(project), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
