import builtins
import dataclasses
import importlib.util
from collections.abc import Callable

from pivot.adapters.fingerprint import module_table, modules, references

_BUILTINS = frozenset(dir(builtins))


@dataclasses.dataclass(frozen=True, slots=True)
class CodeTarget:
    """A module-level definition (or `Class.name`) in a source file."""

    module: modules.ModuleRef
    qualname: str


@dataclasses.dataclass(frozen=True, slots=True)
class PackageTarget:
    """Installed third-party code, known by its top-level module."""

    module: modules.ModuleRef


Target = CodeTarget | PackageTarget
Resolution = tuple[tuple[Target, ...], tuple[str, ...]]
"""The targets a reference reaches, and problems worth a warning."""


class Resolver:
    """Follows a reference from a module to the definitions it reaches, through imports."""

    def __init__(
        self,
        locator: modules.ModuleLocator,
        table: Callable[[modules.ModuleRef], module_table.Table],
    ) -> None:
        self._locator = locator
        self._table = table
        self._memo: dict[tuple[modules.ModuleRef, references.Ref], Resolution] = {}
        self._located: dict[
            tuple[modules.ModuleRef, references.Ref], frozenset[modules.ModuleRef]
        ] = {}

    def clear(self) -> None:
        self._memo.clear()
        self._located.clear()

    def resolve(self, module: modules.ModuleRef, ref: references.Ref) -> Resolution:
        key = (module, ref)
        found = self._memo.get(key)
        if found is None:
            run = _Run(self._locator, self._table)
            if ref[0] == "g":
                run.name(module, ref[1], ref[2:])
            else:
                run.chain(run.imported(module, ref[1], int(ref[2])), ref[3:])
            found = self._memo[key] = (
                tuple(sorted(set(run.targets), key=_order)),
                tuple(sorted(set(run.problems))),
            )
            self._located[key] = frozenset(run.located)
        return found

    def located(
        self, module: modules.ModuleRef, ref: references.Ref
    ) -> frozenset[modules.ModuleRef]:
        """Modules looked up by name while resolving `ref` (after `resolve`): what it relied on."""
        return self._located.get((module, ref), frozenset())


def _order(target: Target) -> tuple[str, str, str]:
    qualname = target.qualname if isinstance(target, CodeTarget) else ""
    return (target.module.name, qualname, target.module.file or "")


class _Run:
    def __init__(
        self,
        locator: modules.ModuleLocator,
        table: Callable[[modules.ModuleRef], module_table.Table],
    ) -> None:
        self._locator = locator
        self._table = table
        self._seen: set[tuple[str, str]] = set()
        self.targets: list[Target] = []
        self.problems: list[str] = []
        self.located: list[modules.ModuleRef] = []

    def _locate(self, name: str) -> modules.ModuleRef:
        found = self._locator.locate(name)
        self.located.append(found)
        return found

    def name(self, module: modules.ModuleRef, name: str, chain: tuple[str, ...]) -> None:
        if (module.name, name) in self._seen:
            return
        self._seen.add((module.name, name))
        if module.origin is not modules.Origin.USER:
            self._foreign(module)
            return
        table = self._table(module)
        bindings = table.names.get(name, ())
        if not bindings:
            self._undefined(module, table, name, chain)
            return
        if any(b.kind in module_table.LOCAL_KINDS or b.guarded for b in bindings):
            self.targets.append(CodeTarget(module, name))
        for binding in bindings:
            match binding.kind:
                case module_table.BindingKind.IMPORT:
                    self.chain(self._locate(binding.module), chain)
                case module_table.BindingKind.FROM:
                    source = self.imported(module, binding.module, binding.level)
                    if source is not None and source.name == module.name:
                        # `from . import sub` in a package's __init__: the submodule.
                        self.chain(self._locate(f"{module.name}.{binding.attr}"), chain)
                    elif source is not None:
                        self.attr(source, binding.attr, chain)
                case _:
                    pass

    def imported(
        self, module: modules.ModuleRef, name: str, level: int
    ) -> modules.ModuleRef | None:
        if not level:
            return self._locate(name)
        if not module.package:
            self.problems.append(f"relative import of '{name}' in {module.name}, not a package")
            return None
        try:
            absolute = importlib.util.resolve_name("." * level + name, module.package)
        except (ImportError, ValueError) as exc:
            self.problems.append(f"cannot resolve a relative import in {module.name}: {exc}")
            return None
        return self._locate(absolute.rstrip("."))

    def chain(self, module: modules.ModuleRef | None, chain: tuple[str, ...]) -> None:
        if module is None:
            return
        if not chain:
            self._foreign(module)
            return
        self.attr(module, chain[0], chain[1:])

    def attr(self, module: modules.ModuleRef, attr: str, chain: tuple[str, ...]) -> None:
        if module.origin is not modules.Origin.USER:
            self._foreign(module)
            return
        if module.file is not None and attr in self._table(module).names:
            self.name(module, attr, chain)
            return
        sub = self._locate(f"{module.name}.{attr}")
        if sub.origin is not modules.Origin.MISSING:
            self.chain(sub, chain)
            return
        self.name(module, attr, chain)

    def _undefined(
        self,
        module: modules.ModuleRef,
        table: module_table.Table,
        name: str,
        chain: tuple[str, ...],
    ) -> None:
        sources = [self.imported(module, m, level) for m, level in table.stars]
        for source in sources:
            if source is not None and self._provides(source, name, {module.name}):
                self.name(source, name, chain)
                return
        if name in _BUILTINS or (name.startswith("__") and name.endswith("__")):
            return
        installed = [s for s in sources if s is not None and s.origin is not modules.Origin.USER]
        if installed:
            for source in installed:
                self._foreign(source)
            return
        self.problems.append(f"name '{name}' is not defined at module level of {module.name}")

    def _provides(self, module: modules.ModuleRef, name: str, seen: set[str]) -> bool:
        """Whether user module `module` defines `name`, itself or through its star imports."""
        if module.origin is not modules.Origin.USER or module.name in seen:
            return False
        seen.add(module.name)
        table = self._table(module)
        if name in table.names:
            return True
        for star, level in table.stars:
            source = self.imported(module, star, level)
            if source is not None and self._provides(source, name, seen):
                return True
        return False

    def _foreign(self, module: modules.ModuleRef) -> None:
        match module.origin:
            case modules.Origin.THIRD_PARTY:
                self.targets.append(PackageTarget(self._locate(module.top)))
            case modules.Origin.MISSING if module.error:
                self.problems.append(f"cannot find module {module.name}: {module.error}")
            case _:
                pass
