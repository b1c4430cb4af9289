import collections

from pivot.adapters.fingerprint import (
    analysis,
    definitions,
    modules,
    normalize,
    packages,
    resolver,
)
from pivot.domain import manifest

_KINDS = {
    "def": manifest.EntryKind.FUNCTION,
    "class": manifest.EntryKind.CLASS,
    "assign": manifest.EntryKind.CONSTANT,
}

Item = tuple[resolver.Target, tuple[str, ...], manifest.EntryKind | None, tuple[str, ...]]
"""A queued target: what, the call path to its referrer, a forced kind, extra digest parts."""


class Walk:
    """Breadth-first walk from a stage over everything it reaches (shortest call paths)."""

    def __init__(
        self,
        stage_name: str,
        defs: definitions.Definitions,
        locator: modules.ModuleLocator,
        resolve: resolver.Resolver,
        installed: packages.Packages | None,
        *,
        script: str = "",
    ) -> None:
        self._stage_name = stage_name
        self._script = script
        """Source file of a script walked whole: its own definitions get no entries."""
        self._defs = defs
        self._locator = locator
        self._resolver = resolve
        self._packages = installed
        self.queue: collections.deque[Item] = collections.deque()
        self.entries: dict[str, str] = {}
        self.sites: dict[str, manifest.Site] = {}
        self.warnings: set[tuple[str, int, str]] = set()
        """(file, line, message): sorted by position, formatted `file:line: message`."""
        self._visited: set[tuple[str, str]] = set()
        self._modules: set[str] = set()
        self.files: set[str] = set()
        """Source files whose definitions the walk read."""
        self.located: set[modules.ModuleRef] = set()
        """Modules found by name while resolving references: the walk relied on where they are."""
        self.packages: set[str] = set()
        """Top-level modules whose distributions' versions were recorded."""

    def run(self) -> None:
        while self.queue:
            target, parent, kind, extra = self.queue.popleft()
            match target:
                case resolver.PackageTarget():
                    self._package(target, parent)
                case resolver.CodeTarget():
                    self._code(target, parent, kind, extra)

    def _code(
        self,
        target: resolver.CodeTarget,
        parent: tuple[str, ...],
        kind: manifest.EntryKind | None,
        extra: tuple[str, ...],
    ) -> None:
        module, qualname = target.module, target.qualname
        ident = (module.file or module.name, qualname)
        if ident in self._visited:
            return
        self._visited.add(ident)
        if module.file == self._script and kind is not manifest.EntryKind.SCRIPT:
            return
        where = self._locator.display(module.file)
        qualified = where if kind is manifest.EntryKind.SCRIPT else f"{module.name}.{qualname}"
        match kind:
            case manifest.EntryKind.STAGE:
                path = (self._stage_name,)
            case manifest.EntryKind.SCRIPT:
                path = (self._stage_name, where)
            case _:
                path = (*parent, qualname)
        self._defs.stats.walked += 1
        if module.file is not None:
            self.files.add(module.file)
        found = self._defs.analysis(module, qualname)
        if not found.found:
            self.warnings.add(
                ("", 0, f"{qualified}: code not tracked, {self._missing(module, qualname)}")
            )
            if kind is not manifest.EntryKind.LOADER:
                return
        kind = kind or _KINDS[found.kind]
        key = f"{kind}:{qualified}"
        self.entries[key] = normalize.combine(found.digest, *extra) if extra else found.digest
        self.sites[key] = manifest.Site(kind, qualified, where, found.line, path)
        if module.origin is not modules.Origin.USER:
            return
        self._follow(module, found, qualified, where, path)

    def _missing(self, module: modules.ModuleRef, qualname: str) -> str:
        if "<locals>" in qualname:
            return "it is defined inside a function; define it at module level"
        where = self._locator.display(module.file)
        error = self._defs.errors.get(module.file or "")
        if error:
            return f"{where}: {error}"
        return f"no definition in {where}" if where else "its source file is unknown"

    def _side_effects(self, module: modules.ModuleRef, where: str) -> None:
        """Warn about project modules imported by `module` only for what importing them does."""
        if module.file is None or module.file in self._modules:
            return
        self._modules.add(module.file)
        for name, line in self._defs.table(module).unused_imports:
            imported = self._locator.locate(name)
            self.located.add(imported)
            if imported.origin is modules.Origin.USER:
                self.warnings.add(
                    (
                        where,
                        line,
                        f"module '{name}' is imported only for its side effects; "
                        + "changes to it are not tracked",
                    )
                )

    def _follow(
        self,
        module: modules.ModuleRef,
        found: analysis.Analysis,
        qualified: str,
        where: str,
        path: tuple[str, ...],
    ) -> None:
        self._side_effects(module, where)
        for line, message in found.warnings:
            self.warnings.add((where, line, f"{message} (in {qualified})"))
        for ref in found.refs:
            targets, problems = self._resolver.resolve(module, ref)
            self.located.update(self._resolver.located(module, ref))
            for problem in problems:
                self.warnings.add((where, found.line, f"{problem} (in {qualified})"))
            self.queue.extend((t, path, None, ()) for t in targets)

    def _package(self, target: resolver.PackageTarget, parent: tuple[str, ...]) -> None:
        if self._packages is None:
            return
        self.packages.add(target.module.top)
        for dist, version in self._packages.versions(target.module):
            key = f"{manifest.EntryKind.PACKAGE}:{dist}"
            if key in self.entries:
                continue
            self.entries[key] = version
            self.sites[key] = manifest.Site(
                manifest.EntryKind.PACKAGE, dist, "", 0, (*parent, dist)
            )
