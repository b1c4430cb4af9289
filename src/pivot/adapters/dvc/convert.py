import dataclasses
import difflib
import itertools
import pathlib
import posixpath
from collections.abc import Mapping
from typing import Any

from pivot.adapters.discovery import declaration, interpolation, tracked_params, yaml_document
from pivot.domain import errors

STAGE_KEYS = (
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "frozen",
    "always_changed",
    "desc",
    "meta",
    "vars",
)
_TOP_KEYS = ("stages", "vars", "metrics", "plots", "params", "artifacts", "datasets")
_OUT_SECTIONS = ("outs", "metrics", "plots")
_KEPT_OUT_OPTIONS = {
    "outs": ("cache", "persist"),
    "metrics": ("cache",),
    "plots": ("cache", "x", "y", "template", "title"),
}
_KNOWN_OUT_OPTIONS = frozenset(
    {"cache", "persist", "push", "desc", "remote", "type", "labels", "meta", "checkpoint"}
    | {"x", "y", "template", "title", "x_label", "y_label", "header"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class Note:
    """Something of the DVC pipeline that the converted pivot.yaml does not express."""

    where: str
    """`dvc.yaml:LINE`."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclasses.dataclass(frozen=True, slots=True)
class DvcStage:
    """One stage of a dvc.yaml after foreach/matrix expansion (DVC's own names: `b@0`)."""

    name: str
    cmd: list[str]
    wdir: str
    deps: list[str]
    params: list[Any]
    outs: dict[str, list[tuple[str, dict[str, Any]]]]
    """Section (outs, metrics, plots) → (path relative to wdir, options)."""
    about: dict[str, Any] = dataclasses.field(default_factory=dict[str, Any])
    """desc and meta, carried over as documentation."""
    rendered: list[str] | None = None
    """The command as DVC runs it (every `${}` filled in), as dvc.lock records it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Conversion:
    pivot_yaml: dict[str, Any]
    stages: list[DvcStage]
    notes: list[Note]


def convert(path: pathlib.Path) -> Conversion:
    """dvc.yaml at `path` → the pivot.yaml data that behaves the same, plus what it cannot say."""
    return _Converter(yaml_document.read(path)).convert()


class _Converter:
    def __init__(self, doc: yaml_document.Document) -> None:
        self._doc = doc
        self._root = doc.path.parent
        self._notes: list[Note] = []
        self._params_files = tracked_params.ParamsFiles(self._root)

    def _where(self, where: declaration.Where) -> str:
        return f"{yaml_document.display(self._doc.path)}:{self._doc.locate(where, at_key=True)[0]}"

    def _note(self, where: declaration.Where, message: str) -> None:
        self._notes.append(Note(self._where(where), message))

    def _fail(self, where: declaration.Where, message: str) -> errors.PipelineDefinitionError:
        return self._doc.error(where, message, at_key=True)

    def convert(self) -> Conversion:
        data = self._doc.data
        if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
            raise self._fail((), "a dvc.yaml must be a mapping with a 'stages:' mapping")
        top: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
        for key in top:
            if key not in _TOP_KEYS:
                raise self._fail((key,), _unknown(key, _TOP_KEYS, "dvc.yaml"))
        variables = self._variables(top)
        self._vars = variables
        stages: list[DvcStage] = []
        for name, body in top["stages"].items():
            stages.extend(self._expand(str(name), body, variables))
        converted = {st.name: self._stage(st) for st in stages}
        self._top_outputs(top, converted)
        pivot: dict[str, Any] = {}
        vars_entries = self._vars_entries(top)
        if vars_entries:
            pivot["vars"] = vars_entries
        pivot["stages"] = converted
        return Conversion(pivot, stages, self._notes)

    # -- vars ---------------------------------------------------------------------------------

    def _vars_entries(self, top: dict[str, Any]) -> list[Any]:
        # DVC reads params.yaml as default vars; pivot.yaml says so explicitly.
        entries: list[Any] = ["params.yaml"] if (self._root / "params.yaml").is_file() else []
        for index, item in enumerate(top.get("vars") or []):
            entry = item
            if isinstance(item, str) and ":" in item:
                self._note(
                    ("vars", index),
                    f"vars entry '{item}' imports selected keys; pivot.yaml reads the whole "
                    + "file (all its keys become variables)",
                )
                entry = item.split(":", 1)[0]
            if entry not in entries:
                entries.append(entry)
        return entries

    def _variables(self, top: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        files: list[tuple[str, declaration.Where]] = (
            [("params.yaml", ())] if (self._root / "params.yaml").is_file() else []
        )
        for index, item in enumerate(top.get("vars") or []):
            if isinstance(item, dict):
                values.update(item)  # pyright: ignore[reportUnknownArgumentType]
            else:
                files.append((str(item).split(":", 1)[0], ("vars", index)))
        for name, where in files:
            target = self._root / name
            if not target.is_file():
                raise self._fail(where, f"vars file '{name}' does not exist next to dvc.yaml")
            loaded = yaml_document.read(target).data
            if isinstance(loaded, dict):
                values = {**loaded, **values} if name == "params.yaml" else {**values, **loaded}
        return values

    # -- foreach / matrix ---------------------------------------------------------------------

    def _expand(self, name: str, body: Any, variables: Mapping[str, Any]) -> list[DvcStage]:
        at: declaration.Where = ("stages", name)
        if not isinstance(body, dict):
            raise self._fail(at, f"stage '{name}' must be a mapping with 'cmd:'")
        spec: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
        if "foreach" in spec:
            if set(spec) - {"foreach", "do"} or "do" not in spec:
                raise self._fail(at, f"stage '{name}': 'foreach:' needs 'do:' and nothing else")
            given = spec["foreach"]
            items = self._resolve_all(given, variables, (*at, "foreach"))
            # Items read from a variable stay references to it, so editing the variable's
            # file re-runs the variant as it does under DVC.
            source = interpolation.whole_reference(given) if isinstance(given, str) else None
            if isinstance(items, dict):
                keys = [(str(k), k) for k in items]  # pyright: ignore[reportUnknownVariableType]
                values = list(items.values())  # pyright: ignore[reportUnknownArgumentType]
            elif isinstance(items, list):
                scalar = all(isinstance(v, str | int | float | bool) for v in items)  # pyright: ignore[reportUnknownVariableType]
                keys = [(str(v) if scalar else str(i), i) for i, v in enumerate(items)]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
                values = list(items)  # pyright: ignore[reportUnknownArgumentType]
            else:
                raise self._fail(
                    (*at, "foreach"),
                    f"stage '{name}': foreach must be a list, a mapping or a ${{var}} naming one",
                )
            result: list[DvcStage] = []
            for (suffix, key), value in zip(keys, values, strict=True):
                local: dict[str, Any] = {"item": value, "key": key}
                if source is not None:
                    local["item"] = _Alias(f"{source}.{key}", value)
                result.append(self._stage_of(f"{name}@{suffix}", spec["do"], local, (*at, "do")))
            return result
        if "matrix" in spec:
            dims: dict[str, Any] = {}
            for dim, values in (spec["matrix"] or {}).items():
                resolved = self._resolve_all(values, variables, (*at, "matrix", dim))
                if not isinstance(resolved, list) or not resolved:
                    raise self._fail(
                        (*at, "matrix", dim), f"stage '{name}': matrix '{dim}' must be a list"
                    )
                dims[str(dim)] = resolved
            rest = {k: v for k, v in spec.items() if k != "matrix"}
            result = []
            for combo in itertools.product(*(list(enumerate(v)) for v in dims.values())):  # pyright: ignore[reportUnknownArgumentType]
                item = {dim: value for dim, (_, value) in zip(dims, combo, strict=True)}
                suffix = "-".join(
                    str(value) if isinstance(value, str | int | float | bool) else f"{dim}{i}"
                    for dim, (i, value) in zip(dims, combo, strict=True)
                )
                result.append(self._stage_of(f"{name}@{suffix}", rest, {"item": item}, at))
            return result
        return [self._stage_of(name, spec, {}, at)]

    def _resolve_all(
        self, value: Any, variables: Mapping[str, Any], where: declaration.Where
    ) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return interpolation.interpolate(value, variables)
        except declaration.DeclarationError as exc:
            raise self._fail(where, str(exc)) from None

    # -- one stage ----------------------------------------------------------------------------

    def _stage_of(
        self, name: str, body: Any, local: dict[str, Any], at: declaration.Where
    ) -> DvcStage:
        if not isinstance(body, dict):
            raise self._fail(at, f"stage '{name}' must be a mapping with 'cmd:'")
        spec: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
        for key in spec:
            if key not in STAGE_KEYS:
                raise self._fail((*at, key), _unknown(str(key), STAGE_KEYS, f"stage '{name}'"))
        if "cmd" not in spec:
            raise self._fail(at, f"stage '{name}': missing required key 'cmd'")
        context = dict(local)
        for item in spec.get("vars") or []:
            if isinstance(item, dict):
                context.update(item)  # pyright: ignore[reportUnknownArgumentType]
            else:
                self._note(
                    (*at, "vars"),
                    f"stage '{name}': stage-level vars file '{item}' is "
                    + "not read; its values must come from top-level vars",
                )
        try:
            filled = _fill(spec, context)
        except declaration.DeclarationError as exc:
            raise self._fail(at, f"stage '{name}': {exc}") from None
        for flag in ("frozen", "always_changed"):
            if filled.get(flag):
                self._note(
                    (*at, flag),
                    f"stage '{name}': '{flag}: true' has no Pivot equivalent; "
                    + (
                        "the stage runs whenever it is stale (leave it out of `pivot run` "
                        + "targets, or `pivot commit` it, to keep it as is)"
                        if flag == "frozen"
                        else "the stage runs only when stale (use `pivot run --force STAGE`)"
                    ),
                )
        cmd = filled["cmd"]
        commands = [str(c) for c in cmd] if isinstance(cmd, list) else [str(cmd)]  # pyright: ignore[reportUnknownVariableType]
        try:
            rendered = [
                str(interpolation.interpolate(c, self._vars, keep_type=False)) for c in commands
            ]
        except declaration.DeclarationError:
            rendered = None
        outs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for section in _OUT_SECTIONS:
            entries: list[tuple[str, dict[str, Any]]] = []
            for index, entry in enumerate(filled.get(section) or []):
                path, options = _entry(entry)
                for option in options:
                    if option not in _KNOWN_OUT_OPTIONS:
                        raise self._fail(
                            (*at, section, index, path, option),
                            _unknown(option, sorted(_KNOWN_OUT_OPTIONS), f"output '{path}'"),
                        )
                    if option not in _KEPT_OUT_OPTIONS[section]:
                        self._note(
                            (*at, section, index),
                            f"stage '{name}': option '{option}: {_yaml_text(options[option])}' of "
                            + f"'{path}' has no Pivot equivalent and is not carried over",
                        )
                kept = {k: v for k, v in options.items() if k in _KEPT_OUT_OPTIONS[section]}
                entries.append((path, kept))
            outs[section] = entries
        return DvcStage(
            name=name,
            cmd=commands,
            wdir=posixpath.normpath(str(filled.get("wdir") or ".")),
            deps=[str(d) for d in filled.get("deps") or []],
            params=list(filled.get("params") or []),
            outs=outs,
            about={k: filled[k] for k in ("desc", "meta") if filled.get(k) is not None},
            rendered=rendered,
        )

    def _stage(self, st: DvcStage) -> dict[str, Any]:
        at: declaration.Where = ("stages", st.name.split("@", 1)[0])
        cmd: list[str] = list(st.cmd)
        if st.wdir != ".":
            cmd[0] = f"cd {st.wdir} && {cmd[0]}"
        out: dict[str, Any] = {"cmd": cmd[0] if len(cmd) == 1 else cmd}
        if st.deps:
            out["deps"] = [self._path(st, d, at) for d in st.deps]
        params = self._params(st)
        if params:
            try:
                self._params_files.values(params)
            except declaration.DeclarationError as exc:
                raise self._fail((*at, "params"), f"stage '{st.name}': {exc}") from None
            out["params"] = params
        for section, entries in st.outs.items():
            if entries:
                out[section] = [
                    {self._path(st, p, at): options} if options else self._path(st, p, at)
                    for p, options in entries
                ]
        out.update(st.about)
        return out

    def _path(self, st: DvcStage, path: str, at: declaration.Where) -> str:
        joined = posixpath.normpath(posixpath.join(st.wdir, path))
        if joined.startswith("../") or posixpath.isabs(joined):
            raise self._fail(
                at,
                f"stage '{st.name}': path '{path}' lies outside the directory of dvc.yaml; "
                + "Pivot keeps a pipeline's paths inside its directory",
            )
        return joined

    def _params(self, st: DvcStage) -> list[Any]:
        default = posixpath.normpath(posixpath.join(st.wdir, "params.yaml"))
        result: list[Any] = []
        for entry in st.params:
            if isinstance(entry, str):
                if default == "params.yaml":
                    result.append(entry)
                else:
                    result.append({default: [entry]})
                continue
            for file, keys in dict(entry).items():  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
                result.append({posixpath.normpath(posixpath.join(st.wdir, str(file))): keys})
        return result

    # -- top-level metrics / plots / params ---------------------------------------------------

    def _top_outputs(self, top: dict[str, Any], converted: dict[str, Any]) -> None:
        declared = {
            section: {
                posixpath.normpath(path): (index, options)
                for index, entry in enumerate(top.get(section) or [])
                for path, options in [_entry(entry)]
            }
            for section in ("metrics", "plots")
        }
        claimed: set[tuple[str, str]] = set()
        for body in converted.values():
            for section in ("metrics", "plots"):
                claimed.update((section, _entry(e)[0]) for e in body.get(section, []))
            kept: list[Any] = []
            for entry in body.get("outs", []):
                path, options = _entry(entry)
                section = next((s for s in ("metrics", "plots") if path in declared[s]), None)
                if section is None or options.get("persist"):
                    kept.append(entry)
                    continue
                # DVC caches an output listed as a top-level metric or plot: keep it cached.
                wanted = {**options, "cache": options.get("cache", True)}
                if section == "plots":
                    given = declared[section][path][1]
                    wanted.update(
                        {k: given[k] for k in ("x", "y", "template", "title") if k in given}
                    )
                body.setdefault(section, []).append({path: wanted})
                claimed.add((section, path))
            if kept:
                body["outs"] = kept
            else:
                body.pop("outs", None)
        for section, entries in declared.items():
            for path, (index, _) in entries.items():
                if (section, path) not in claimed:
                    self._note(
                        (section, index),
                        f"top-level {section} entry '{path}' is not an output of any stage; "
                        + f"Pivot knows {section} only as stage outputs",
                    )
        for index, item in enumerate(top.get("params") or []):
            self._note(
                ("params", index),
                f"top-level params file '{item}' is for `dvc params diff`; Pivot tracks the "
                + "keys each stage lists (its params:)",
            )
        for key in ("artifacts", "datasets"):
            if key in top:
                self._note((key,), f"'{key}:' has no Pivot equivalent and is not carried over")


def _entry(entry: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, dict) and len(entry) == 1:  # pyright: ignore[reportUnknownArgumentType]
        path, options = next(iter(entry.items()))  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        return str(path), dict(options or {})  # pyright: ignore[reportUnknownArgumentType]
    return str(entry), {}


@dataclasses.dataclass(frozen=True, slots=True)
class _Alias:
    """A foreach item read from a variable: `${item.x}` becomes `${<source>.x}`."""

    source: str
    value: Any


def _fill(value: Any, context: Mapping[str, Any]) -> Any:
    """Substitute references to foreach/matrix/stage values; leave the rest for pivot.yaml."""
    if not context:
        return value
    if isinstance(value, str):

        def replace(ref: str) -> str | None:
            top, _, rest = ref.partition(".")
            if top not in context:
                return None
            found = context[top]
            if isinstance(found, _Alias):
                interpolation.lookup({top: found.value}, ref)  # a missing key fails here
                return "${" + ".".join(p for p in (found.source, rest) if p) + "}"
            return interpolation.as_text(interpolation.lookup(context, ref), ref)

        return interpolation.replace_references(value, replace)
    if isinstance(value, dict):
        return {str(_fill(k, context)): _fill(v, context) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_fill(v, context) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _yaml_text(value: Any) -> str:
    try:
        return interpolation.as_text(value, "")
    except declaration.DeclarationError:
        return repr(value)


def _unknown(key: str, allowed: Any, subject: str) -> str:
    options = list(allowed)
    close = difflib.get_close_matches(key, options, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{subject}: unknown key '{key}'; {hint}allowed keys: {', '.join(options)}"
