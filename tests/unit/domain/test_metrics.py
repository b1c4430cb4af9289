import json

import pytest

from pivot.adapters import yaml_text
from pivot.domain import errors, metrics


def _parse(path: str, text: str) -> dict[str, metrics.Value]:
    return metrics.parse(path, text.encode(), yaml_text.load)


def test_json_and_yaml_flatten_to_dotted_keys() -> None:
    raw = {"acc": 0.9, "eval": {"f1": 0.8, "per_class": [0.7, 0.6]}, "model": "net"}
    expected = {"acc": 0.9, "eval.f1": 0.8, "eval.per_class.0": 0.7, "eval.per_class.1": 0.6}
    assert _parse("m.json", json.dumps(raw)) == {**expected, "model": "net"}
    yaml = "acc: 0.9\neval:\n  f1: 0.8\n  per_class: [0.7, 0.6]\nmodel: net\n"
    assert _parse("m.yaml", yaml) == _parse("m.yml", yaml) == {**expected, "model": "net"}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("m.csv", "acc,0.9\nloss,2\n"),
        ("m.csv", "name,value\nacc,0.9\nloss,2\n"),
        ("m.tsv", "acc\t0.9\nloss\t2\n"),
        ("m.csv", "acc,loss\n0.9,2\n"),
        ("m.tsv", "acc\tloss\n0.9\t2\n"),
    ],
)
def test_tables_are_key_value_rows_or_one_row(path: str, text: str) -> None:
    assert _parse(path, text) == {"acc": 0.9, "loss": 2}


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("m.json", '{"a": "x"}', "metric file 'm.json' holds no numbers"),
        ("m.json", "{nope", "metric file 'm.json': invalid JSON"),
        ("m.yaml", "a: [1,\n", "metric file 'm.yaml': invalid YAML at line"),
        ("m.csv", "a,b\n1,2\n3,4\n", "neither `name,number` rows nor a one-row table"),
        ("m.csv", "", "metric file 'm.csv' is empty"),
        ("m.txt", "1", "'m.txt' is not a metric file: use one of .json"),
    ],
)
def test_a_file_that_is_not_numeric_metrics_is_one_clear_error(
    path: str, text: str, message: str
) -> None:
    with pytest.raises(errors.MetricError, match=message.replace("[", r"\[").replace(".", r"\.")):
        _parse(path, text)


def test_binary_data_is_not_a_metric_file() -> None:
    with pytest.raises(errors.MetricError, match="not text"):
        metrics.parse("m.json", b"\xff\xfe\x00", yaml_text.load)


def test_diff_reports_absolute_and_relative_change_and_added_removed_keys() -> None:
    old = {"acc": 0.8, "loss": 0.5, "gone": 1, "same": 3, "zero": 0}
    new = {"acc": 0.9, "loss": 0.25, "new": 2, "same": 3, "zero": 1}
    changes = {c.key: c for c in metrics.diff("m.json", old, new, all=False)}
    assert set(changes) == {"acc", "loss", "gone", "new", "zero"}
    assert changes["acc"].delta == pytest.approx(0.1)
    assert changes["acc"].percent == pytest.approx(12.5)
    assert changes["loss"].percent == pytest.approx(-50.0)
    assert (changes["gone"].old, changes["gone"].new, changes["gone"].delta) == (1, None, None)
    assert (changes["new"].old, changes["new"].new) == (None, 2)
    assert changes["zero"].delta == 1
    assert changes["zero"].percent is None
    every = metrics.diff("m.json", old, new, all=True)
    assert [c.key for c in every if not c.changed] == ["same"]


def test_a_file_absent_on_one_side_lists_every_key() -> None:
    changes = metrics.diff("m.json", None, {"acc": 1.0}, all=False)
    assert [(c.key, c.old, c.new) for c in changes] == [("acc", None, 1.0)]
