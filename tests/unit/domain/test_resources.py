import pytest

from pivot.domain import errors, resources


def test_numbers_and_sizes_become_sorted_amounts() -> None:
    parsed = resources.parse("train", {"memory": "8GiB", "GPU": 1, "disk": "1.5 GB"})

    assert parsed == (("GPU", 1.0), ("disk", 1.5e9), ("memory", 8.0 * 2**30))


def test_no_resources_is_empty() -> None:
    assert resources.parse("train", None) == ()


@pytest.mark.parametrize("value", [0, -1, "lots", True, None, "8 parsecs"])
def test_a_bad_amount_names_the_stage_and_the_resource(value: object) -> None:
    with pytest.raises(errors.StageDefinitionError) as caught:
        resources.parse("train", {"GPU": value})

    assert "stage 'train'" in str(caught.value)
    assert "'GPU'" in str(caught.value)
