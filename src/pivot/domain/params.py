import pydantic


class StageParams(pydantic.BaseModel):
    """Typed parameters of a stage; defaults may be overridden per registration."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
