import pathlib
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def isolated_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test's throwaway project modules leave sys.path and sys.modules as they were."""
    base = tmp_path_factory.getbasetemp().resolve()
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        module = sys.modules[name]
        locations = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
        if any(loc and pathlib.Path(loc).resolve().is_relative_to(base) for loc in locations):
            del sys.modules[name]
