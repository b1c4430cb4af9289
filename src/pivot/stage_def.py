from pivot.domain import definition
from pivot.domain.definition import StageDefinition as StageDefinition
from pivot.domain.params import StageParams as StageParams

extract_stage_definition = definition.extract
