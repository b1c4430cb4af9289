from pivot.domain.definition import StageDefinition as StageDefinition
from pivot.domain.definition import extract as extract_stage_definition  # noqa: F401
from pivot.domain.params import StageParams as StageParams
