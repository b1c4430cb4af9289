import csv
import math
import pathlib
import random
from typing import Annotated, Any, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class DataParams(StageParams):
    rows: int = 200
    noise: float = 0.3
    seed: int = 7


class TrainParams(StageParams):
    learning_rate: float = 0.05
    epochs: int = 300


class EvalOutputs(TypedDict):
    metrics: Annotated[dict[str, float], outputs.Metric("metrics.json", loaders.JSON())]
    predictions: Annotated[pathlib.Path, outputs.Out("data/predictions.csv", loaders.PathOnly())]


def make_data(
    params: DataParams,
) -> Annotated[pathlib.Path, outputs.Out("data/raw.csv", loaders.PathOnly())]:
    """Synthetic houses: price grows with size and rooms, plus noise."""
    rng = random.Random(params.seed)
    path = pathlib.Path("data/raw.csv")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["size", "rooms", "price"])
        for _ in range(params.rows):
            size = rng.uniform(30, 200)
            rooms = rng.randint(1, 6)
            price = 1.5 * size + 10 * rooms + rng.gauss(0, params.noise * 50)
            writer.writerow([f"{size:.2f}", rooms, f"{price:.2f}"])
    return path


def _standardise(column: list[float]) -> list[float]:
    mean = sum(column) / len(column)
    std = math.sqrt(sum((x - mean) ** 2 for x in column) / len(column)) or 1.0
    return [(x - mean) / std for x in column]


def featurize(
    raw: Annotated[pathlib.Path, outputs.Dep("data/raw.csv", loaders.PathOnly())],
) -> Annotated[dict[str, Any], outputs.Out("data/features.json", loaders.JSON())]:
    with raw.open(newline="") as f:
        rows = list(csv.DictReader(f))
    sizes = _standardise([float(r["size"]) for r in rows])
    rooms = _standardise([float(r["rooms"]) for r in rows])
    return {
        "x": [[s, r] for s, r in zip(sizes, rooms, strict=True)],
        "y": [float(r["price"]) for r in rows],
    }


def _predict(weights: list[float], x: list[float]) -> float:
    return weights[0] + sum(w * v for w, v in zip(weights[1:], x, strict=True))


def train(
    params: TrainParams,
    features: Annotated[dict[str, Any], outputs.Dep("data/features.json", loaders.JSON())],
) -> Annotated[dict[str, Any], outputs.Out("models/model.json", loaders.JSON())]:
    """Linear regression by batch gradient descent."""
    x, y = features["x"], features["y"]
    weights = [0.0] * (len(x[0]) + 1)
    for _ in range(params.epochs):
        grads = [0.0] * len(weights)
        for xi, yi in zip(x, y, strict=True):
            error = _predict(weights, xi) - yi
            grads[0] += error
            for j, v in enumerate(xi, start=1):
                grads[j] += error * v
        weights = [
            w - params.learning_rate * g / len(x) for w, g in zip(weights, grads, strict=True)
        ]
    return {"weights": weights}


def evaluate(
    model: Annotated[dict[str, Any], outputs.Dep("models/model.json", loaders.JSON())],
    features: Annotated[dict[str, Any], outputs.Dep("data/features.json", loaders.JSON())],
) -> EvalOutputs:
    predictions = [_predict(model["weights"], xi) for xi in features["x"]]
    errors = [p - y for p, y in zip(predictions, features["y"], strict=True)]
    rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
    mean_y = sum(features["y"]) / len(features["y"])
    total = sum((y - mean_y) ** 2 for y in features["y"])
    path = pathlib.Path("data/predictions.csv")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["prediction", "actual"])
        writer.writerows(
            [f"{p:.2f}", f"{y:.2f}"] for p, y in zip(predictions, features["y"], strict=True)
        )
    return EvalOutputs(
        metrics={"rmse": round(rmse, 4), "r2": round(1 - sum(e * e for e in errors) / total, 4)},
        predictions=path,
    )
