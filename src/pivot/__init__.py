import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivot import loaders as loaders
    from pivot import outputs as outputs
    from pivot.domain.params import StageParams as StageParams
    from pivot.domain.pipeline import Pipeline as Pipeline

_LAZY = {
    "Pipeline": ("pivot.domain.pipeline", "Pipeline"),
    "StageParams": ("pivot.domain.params", "StageParams"),
    "loaders": ("pivot.loaders", None),
    "outputs": ("pivot.outputs", None),
}


def __getattr__(name: str) -> Any:
    # Lazy so `import pivot` (and `pivot --help`) stays cheap.
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pivot' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)
