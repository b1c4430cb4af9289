from typing import Any


def load(text: str) -> Any:
    """Safe-load YAML text; a syntax error is a ValueError naming the line."""
    from ruamel import yaml

    try:
        return yaml.YAML(typ="safe").load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"invalid YAML{where}") from None
