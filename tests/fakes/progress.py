import dataclasses
import threading


@dataclasses.dataclass
class RecordingProgress:
    """A `Progress` that sums what it is told; `done()`: the work announced is the work done.

    Thread-safe, as the port requires (hashing and transfers report from worker threads)."""

    files_total: int = 0
    bytes_total: int = 0
    files: int = 0
    nbytes: int = 0
    _lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.files_total += files
            self.bytes_total += nbytes

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.files += files
            self.nbytes += nbytes

    def done(self) -> bool:
        return (self.files, self.nbytes) == (self.files_total, self.bytes_total)
