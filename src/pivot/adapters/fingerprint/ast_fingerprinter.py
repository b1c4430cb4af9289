import collections
import dataclasses
import importlib
import inspect
import os
import pathlib
import types
from typing import Any

from pivot.adapters.fingerprint import (
    analysis,
    definitions,
    manifests,
    modules,
    packages,
    resolver,
    values,
    walk,
)
from pivot.domain import manifest, stage
from pivot.ports import state_store

FINGERPRINT_SCHEMA_VERSION = definitions.FINGERPRINT_SCHEMA_VERSION

_PUBLIC_LOADERS = "pivot.loaders"


class AstFingerprinter:
    """Code manifests from the normalised syntax trees of the code a stage reaches."""

    def __init__(
        self,
        state: state_store.StateStore,
        project_root: pathlib.Path,
        ignore_package_versions: bool = False,
    ) -> None:
        self._ignore_packages = ignore_package_versions
        self._state = state
        self._root = project_root
        self._definitions = definitions.Definitions(state)
        self._locator = modules.ModuleLocator(project_root)
        self._packages = packages.Packages(state)
        self._resolver = resolver.Resolver(self._locator, self._definitions.table)
        self._manifests = manifests.ManifestCache(
            state, self._definitions.stamp, self._locator.locate, self._definitions.stats
        )
        self._class_targets: dict[tuple[type, modules.ModuleRef], resolver.CodeTarget] = {}
        self._script_contexts: dict[str, _Context] = {}

    @property
    def stats(self) -> definitions.Stats:
        return self._definitions.stats

    def inputs(self) -> dict[str, state_store.FileStamp | None]:
        """Every source and package metadata file read or checked so far, with its stamp."""
        return {**self._definitions.stamps(), **self._packages.metadata_stamps()}

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        """The stage's code manifest; equal in every process for the same source.

        Files read by earlier calls are re-checked first: an instance may live across edits.
        """
        if self._definitions.refresh():
            self._locator.clear()
            self._resolver.clear()
            self._packages.clear()
            self._class_targets.clear()
            self._manifests.clear()
            self._script_contexts.clear()
        if st.scripts:
            return _merge([self._script(st, script) for script in st.scripts])
        stage_module, qualname = self._locator.for_function(st.func)
        start: walk.Item = (
            resolver.CodeTarget(stage_module, qualname),
            (),
            manifest.EntryKind.STAGE,
            (),
        )
        seeds = self._seeds(st, stage_module)
        # Everything the walk starts from; the rest it reads is re-checked on lookup.
        key = self._manifests.key(
            "\n".join(
                (
                    str(self._root),
                    str(self._ignore_packages),
                    st.name,
                    *map(_describe, (start, *seeds)),
                )
            )
        )
        return self._walk(
            st.name, key, (start, *seeds), _Context(self._locator, self._resolver, self._manifests)
        )

    def _script(self, st: stage.Stage, script: stage.Script) -> manifest.CodeManifest:
        """The manifest of a Python file a command runs: the whole file, and what it reaches."""
        search = str(script.search)
        context = self._script_contexts.get(search)
        if context is None:
            locator = modules.ModuleLocator(self._root, (search,))
            context = self._script_contexts[search] = _Context(
                locator,
                resolver.Resolver(locator, self._definitions.table),
                manifests.ManifestCache(
                    self._state,
                    self._definitions.stamp,
                    locator.locate,
                    self._definitions.stats,
                ),
            )
        file = os.path.realpath(script.file)
        package = script.module.rpartition(".")[0]
        module = modules.ModuleRef(script.module, modules.Origin.USER, file, package)
        start: walk.Item = (
            resolver.CodeTarget(module, analysis.SCRIPT),
            (),
            manifest.EntryKind.SCRIPT,
            (),
        )
        identity = (str(self._root), str(self._ignore_packages), st.name, search, _describe(start))
        key = context.manifests.key("\n".join(identity))
        return self._walk(st.name, key, (start,), context, script=file)

    def _walk(
        self,
        stage_name: str,
        key: str,
        start: tuple[walk.Item, ...],
        context: "_Context",
        script: str = "",
    ) -> manifest.CodeManifest:
        cached = context.manifests.get(key)
        if cached is not None:
            return cached
        reach = walk.Walk(
            stage_name,
            self._definitions,
            context.locator,
            context.resolver,
            None if self._ignore_packages else self._packages,
            script=script,
        )
        reach.queue.extend(start)
        reach.run()
        self._definitions.flush()
        code = manifest.CodeManifest(
            entries=dict(sorted(reach.entries.items())),
            sites=dict(sorted(reach.sites.items())),
            warnings=tuple(
                f"{where}:{line}: {text}" if where else text
                for where, line, text in sorted(reach.warnings)
            ),
        )
        inputs = self._inputs(reach)
        if inputs is not None:
            context.manifests.put(key, code, inputs)
        return code

    def _inputs(self, reach: walk.Walk) -> manifests.Inputs | None:
        """What the walk read, with stamps taken before reading; None if it cannot be checked."""
        files = {
            *reach.files,
            *(m.file for m in reach.located if m.file and m.origin is modules.Origin.USER),
        }
        stamped = [(path, self._definitions.stamp(path)) for path in files]
        for top in sorted(reach.packages):
            metadata = self._packages.metadata_files(top)
            if metadata is None:
                return None
            stamped.extend(metadata)
        return manifests.inputs(stamped, reach.located)

    def _seeds(self, st: stage.Stage, stage_module: modules.ModuleRef) -> list[walk.Item]:
        """Loader classes of the stage's deps and outs, and its params class."""
        configs: dict[type, set[str]] = collections.defaultdict(set)
        for loader in (*(d.loader for d in st.deps), *(o.loader for o in st.outs)):
            configs[type(loader)].add(values.encode(loader))
        targets = [
            (self._class_target(cls, st.func, stage_module), c) for cls, c in configs.items()
        ]
        seeds: list[walk.Item] = []
        for target, encoded in sorted(targets, key=lambda item: _order(item[0])):
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
        found = self._class_targets.get((cls, stage_module))
        if found is None:
            found = self._class_targets[(cls, stage_module)] = self._locate_class(
                cls, func, stage_module
            )
        return found

    def _locate_class(
        self, cls: type, func: Any, stage_module: modules.ModuleRef
    ) -> resolver.CodeTarget:
        if cls.__module__ == inspect.unwrap(func).__globals__.get("__name__"):
            return resolver.CodeTarget(stage_module, cls.__qualname__)
        module = self._locator.locate(cls.__module__)
        if module.origin is modules.Origin.TOOL:
            # Name Pivot's loaders as users import them, whichever module defines them.
            public = importlib.import_module(_PUBLIC_LOADERS)
            if getattr(public, cls.__name__, None) is cls:
                module = dataclasses.replace(module, name=_PUBLIC_LOADERS)
        if module.origin is modules.Origin.MISSING:
            # A method tells where the source is when the module was run by path.
            method = next(
                (v for v in vars(cls).values() if isinstance(v, types.FunctionType)), None
            )
            if method is not None:
                module, _ = self._locator.for_function(method)
        return resolver.CodeTarget(module, cls.__qualname__)


@dataclasses.dataclass(frozen=True, slots=True)
class _Context:
    """How modules are found for one walk: a script sees its own directory first."""

    locator: modules.ModuleLocator
    resolver: resolver.Resolver
    manifests: manifests.ManifestCache


def _merge(parts: list[manifest.CodeManifest]) -> manifest.CodeManifest:
    entries: dict[str, str] = {}
    sites: dict[str, manifest.Site] = {}
    warnings: dict[str, None] = {}
    for part in parts:
        entries.update(part.entries)
        sites.update(part.sites)
        warnings.update(dict.fromkeys(part.warnings))
    return manifest.CodeManifest(dict(sorted(entries.items())), sites, tuple(warnings))


def _describe(item: walk.Item) -> str:
    target, parent, kind, extra = item
    m = target.module
    qualname = target.qualname if isinstance(target, resolver.CodeTarget) else ""
    return repr((m.name, str(m.origin), m.file, m.package, qualname, str(kind), parent, extra))


def _order(target: resolver.CodeTarget) -> str:
    return f"{target.module.name}.{target.qualname}"
