from pivot.domain.pipeline import Pipeline as Pipeline
