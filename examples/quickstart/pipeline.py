import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("quickstart")
pipeline.register(stages.make_data)
pipeline.register(stages.featurize)
pipeline.register(stages.train, params={"epochs": 200})
pipeline.register(stages.evaluate)
