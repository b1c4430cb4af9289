from pivot.domain import errors

Where = tuple[str | int, ...]


class DeclarationError(errors.PipelineDefinitionError):
    """A declared value is invalid; `where` locates it relative to the stage's YAML node."""

    def __init__(self, message: str, where: Where = (), *, at_key: bool = False) -> None:
        super().__init__(message)
        self.where: Where = where
        self.at_key = at_key
        """True when the problem is the mapping key at `where`, not its value."""
