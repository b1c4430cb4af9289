import collections
import inspect
import pathlib
import types
from typing import Any

from pivot.adapters.fingerprint import (
    analysis,
    definitions,
    modules,
    normalize,
    packages,
    resolver,
    values,
)
from pivot.domain import manifest, stage
from pivot.ports import state_store

FINGERPRINT_SCHEMA_VERSION = definitions.FINGERPRINT_SCHEMA_VERSION

_KINDS = {
    "def": manifest.EntryKind.FUNCTION,
    "class": manifest.EntryKind.CLASS,
    "assign": manifest.EntryKind.CONSTANT,
}

_Item = tuple[resolver.Target, tuple[str, ...], manifest.EntryKind | None, tuple[str, ...]]
"""A queued target: what, the call path to its referrer, a forced kind, extra digest parts."""


class AstFingerprinter:
    """Code manifests from the normalised syntax trees of the code a stage reaches."""

    def __init__(
        self,
        state: state_store.StateStore,
        project_root: pathlib.Path,
        ignore_package_versions: bool = False,
    ) -> None:
        self._ignore_packages = ignore_package_versions
        self._definitions = definitions.Definitions(state)
        self._locator = modules.ModuleLocator(project_root)
        self._packages = packages.Packages(state)
        self._resolver = resolver.Resolver(self._locator, self._definitions.table)

    @property
    def stats(self) -> definitions.Stats:
        return self._definitions.stats

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        """The stage's code manifest; equal in every process for the same source."""
        if self._definitions.refresh():
            self._locator.clear()
            self._resolver.clear()
            self._packages.clear()
        walk = _Walk(
            st.name,
            self._definitions,
            self._locator,
            self._resolver,
            None if self._ignore_packages else self._packages,
        )
        stage_module, qualname = self._locator.for_function(st.func)
        walk.queue.append(
            (resolver.CodeTarget(stage_module, qualname), (), manifest.EntryKind.STAGE, ())
        )
        walk.queue.extend(self._seeds(st, stage_module))
        walk.run()
        self._definitions.flush()
        return manifest.CodeManifest(
            entries=dict(sorted(walk.entries.items())),
            sites=dict(sorted(walk.sites.items())),
            warnings=tuple(
                f"{where}:{line}: {text}" if where else text
                for where, line, text in sorted(walk.warnings)
            ),
        )

    def _seeds(self, st: stage.Stage, stage_module: modules.ModuleRef) -> list[_Item]:
        """Loader classes of the stage's deps and outs, and its params class."""
        configs: dict[type, set[str]] = collections.defaultdict(set)
        for loader in (*(d.loader for d in st.deps), *(o.loader for o in st.outs)):
            configs[type(loader)].add(values.encode(loader))
        seeds: list[_Item] = []
        for cls, encoded in sorted(configs.items(), key=lambda item: _class_name(item[0])):
            target = self._class_target(cls, st.func, stage_module)
            seeds.append((target, (st.name,), manifest.EntryKind.LOADER, tuple(sorted(encoded))))
            if target.module.origin is modules.Origin.THIRD_PARTY:
                package = resolver.PackageTarget(self._locator.locate(target.module.top))
                seeds.append((package, (st.name,), None, ()))
        if st.params is not None:
            target = self._class_target(type(st.params), st.func, stage_module)
            seeds.append((target, (st.name,), manifest.EntryKind.CLASS, ()))
        return seeds

    def _class_target(
        self, cls: type, func: Any, stage_module: modules.ModuleRef
    ) -> resolver.CodeTarget:
        # A method tells where the class's source is even when its module was run by path.
        if cls.__module__ == inspect.unwrap(func).__globals__.get("__name__"):
            return resolver.CodeTarget(stage_module, cls.__qualname__)
        module = self._locator.locate(cls.__module__)
        if module.origin is modules.Origin.MISSING:
            # A method tells where the source is when the module was run by path.
            method = next(
                (v for v in vars(cls).values() if isinstance(v, types.FunctionType)), None
            )
            if method is not None:
                module, _ = self._locator.for_function(method)
        return resolver.CodeTarget(module, cls.__qualname__)


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Walk:
    """Breadth-first walk from a stage over everything it reaches (shortest call paths)."""

    def __init__(
        self,
        stage_name: str,
        defs: definitions.Definitions,
        locator: modules.ModuleLocator,
        resolve: resolver.Resolver,
        installed: packages.Packages | None,
    ) -> None:
        self._stage_name = stage_name
        self._defs = defs
        self._locator = locator
        self._resolver = resolve
        self._packages = installed
        self.queue: collections.deque[_Item] = collections.deque()
        self.entries: dict[str, str] = {}
        self.sites: dict[str, manifest.Site] = {}
        self.warnings: set[tuple[str, int, str]] = set()
        """(file, line, message): sorted by position, formatted `file:line: message`."""
        self._visited: set[tuple[str, str]] = set()

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
        where = self._locator.display(module.file)
        qualified = f"{module.name}.{qualname}"
        path = (self._stage_name,) if kind is manifest.EntryKind.STAGE else (*parent, qualname)
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

    def _follow(
        self,
        module: modules.ModuleRef,
        found: analysis.Analysis,
        qualified: str,
        where: str,
        path: tuple[str, ...],
    ) -> None:
        for line, message in found.warnings:
            self.warnings.add((where, line, f"{message} (in {qualified})"))
        for ref in found.refs:
            targets, problems = self._resolver.resolve(module, ref)
            for problem in problems:
                self.warnings.add((where, found.line, f"{problem} (in {qualified})"))
            self.queue.extend((t, path, None, ()) for t in targets)

    def _package(self, target: resolver.PackageTarget, parent: tuple[str, ...]) -> None:
        if self._packages is None:
            return
        for dist, version in self._packages.versions(target.module):
            key = f"{manifest.EntryKind.PACKAGE}:{dist}"
            if key in self.entries:
                continue
            self.entries[key] = version
            self.sites[key] = manifest.Site(
                manifest.EntryKind.PACKAGE, dist, "", 0, (*parent, dist)
            )
