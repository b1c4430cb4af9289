import dataclasses

from pivot.domain import errors


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class ArtifactIdentity:
    """Names a stage output: `train` (the stage's only output) or `train:model`."""

    producer: str
    key: str | None = None

    def __str__(self) -> str:
        return self.producer if self.key is None else f"{self.producer}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> "ArtifactIdentity":
        """Parse `stage` or `stage:key`; the stage part may itself contain `/` and `@`."""
        producer, sep, key = text.rpartition(":")
        if not sep:
            return cls(text)
        if not producer or not key:
            raise errors.TargetError(
                f"'{text}' is not a valid artifact identity: use 'stage' or 'stage:key'"
            )
        return cls(producer, key)
