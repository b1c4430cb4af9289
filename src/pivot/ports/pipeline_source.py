import pathlib
from typing import Protocol

from pivot.domain import pipeline


class PipelineSource(Protocol):
    """Finds and loads the pipeline defined in a directory."""

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        """The pipeline definition file this source would load from `directory`, else None."""
        ...

    def load(self, directory: pathlib.Path) -> pipeline.Pipeline:
        """Load the pipeline defined in `directory`; raise PipelineDefinitionError if broken."""
        ...
