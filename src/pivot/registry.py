import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

PathSpecLike = str | Sequence[str]
PathDecl = Sequence[PathSpecLike] | Mapping[str, PathSpecLike]


@dataclasses.dataclass(frozen=True, slots=True)
class StageEntry:
    """A function marked with `@stage`, with the arguments the decorator was given."""

    func: Callable[..., Any]
    name: str | None = None
    deps: PathDecl | None = None
    outs: PathDecl | None = None
    metrics: PathDecl | None = None
    plots: PathDecl | None = None
    params: Any = None
    mutex: tuple[str, ...] = ()


# Keyed by where the function is defined, so re-importing a module replaces its entries.
_ENTRIES: dict[tuple[str, str, str | None], StageEntry] = {}


@overload
def stage(func: F, /) -> F: ...


@overload
def stage(
    func: None = None,
    /,
    *,
    deps: PathDecl | None = None,
    outs: PathDecl | None = None,
    metrics: PathDecl | None = None,
    plots: PathDecl | None = None,
    name: str | None = None,
    params: Any = None,
    mutex: Iterable[str] | None = None,
) -> Callable[[F], F]: ...


def stage(
    func: Callable[..., Any] | None = None,
    /,
    *,
    deps: PathDecl | None = None,
    outs: PathDecl | None = None,
    metrics: PathDecl | None = None,
    plots: PathDecl | None = None,
    name: str | None = None,
    params: Any = None,
    mutex: Iterable[str] | None = None,
) -> Any:
    """Mark a module-level function as a stage; `deps=`/`outs=` override annotated paths.

    Modules listed under `[tool.pivot] modules` in pyproject.toml are imported to find them.
    The function itself is returned unchanged.
    """

    def decorate(f: F) -> F:
        module = getattr(f, "__module__", "") or ""
        qualname = getattr(f, "__qualname__", repr(f))
        _ENTRIES[(module, qualname, name)] = StageEntry(
            func=f,
            name=name,
            deps=deps,
            outs=outs,
            metrics=metrics,
            plots=plots,
            params=params,
            mutex=tuple(mutex or ()),
        )
        return f

    return decorate(func) if func is not None else decorate


def registered() -> list[StageEntry]:
    """Every `@stage` entry recorded so far, in registration order."""
    return list(_ENTRIES.values())
