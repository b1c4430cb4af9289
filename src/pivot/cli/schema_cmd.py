import json


def schema() -> int:
    """Print the JSON Schema of pivot.yaml (for editors and validation)."""
    from pivot.adapters.discovery import yaml_model

    print(json.dumps(yaml_model.json_schema(), indent=2, sort_keys=True))
    return 0
