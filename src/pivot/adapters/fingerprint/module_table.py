import ast
import dataclasses
import enum
import weakref
from collections.abc import Iterator, Sequence
from typing import Any


class BindingKind(enum.StrEnum):
    DEF = "def"
    CLASS = "class"
    ASSIGN = "assign"
    IMPORT = "import"
    FROM = "from"


LOCAL_KINDS = frozenset({BindingKind.DEF, BindingKind.CLASS, BindingKind.ASSIGN})

_COMPOUND = (
    ast.If,
    ast.Try,
    ast.TryStar,
    ast.With,
    ast.AsyncWith,
    ast.For,
    ast.AsyncFor,
    ast.While,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Binding:
    """One statement that gives a module-level name its value."""

    kind: BindingKind
    line: int
    module: str = ""
    """For imports: the module named in the statement (without the leading dots)."""
    level: int = 0
    attr: str = ""
    """For `from m import attr`: the imported name."""


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """How each module-level name of a source file gets its value."""

    names: dict[str, tuple[Binding, ...]]
    stars: tuple[tuple[str, int], ...] = ()
    """(module, level) of each `from m import *`."""

    def to_json(self) -> dict[str, Any]:
        return {
            "names": {
                name: [[b.kind.value, b.line, b.module, b.level, b.attr] for b in bindings]
                for name, bindings in sorted(self.names.items())
            },
            "stars": [list(star) for star in self.stars],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Table":
        names = {
            name: tuple(Binding(BindingKind(k), line, m, level, a) for k, line, m, level, a in rows)
            for name, rows in data["names"].items()
        }
        return cls(names, tuple((m, level) for m, level in data["stars"]))


def build(tree: ast.Module) -> Table:
    """The binding table of a parsed module."""
    names: dict[str, list[Binding]] = {}
    stars: list[tuple[str, int]] = []
    for name, binding, node in _bindings(tree.body):
        if name == "*" and isinstance(node, ast.ImportFrom):
            stars.append((node.module or "", node.level))
            continue
        names.setdefault(name, []).append(binding)
    return Table({name: tuple(b) for name, b in names.items()}, tuple(stars))


# Top-level name → defining statements, per parsed module: a module with N stage functions
# is looked up N times, and scanning its body each time made fingerprinting quadratic.
_TOP_LEVEL: "weakref.WeakKeyDictionary[ast.Module, dict[str, list[ast.stmt]]]" = (
    weakref.WeakKeyDictionary()
)


def _local_index(body: Sequence[ast.stmt]) -> dict[str, list[ast.stmt]]:
    index: dict[str, list[ast.stmt]] = {}
    for name, binding, node in _bindings(body):
        if binding.kind in LOCAL_KINDS:
            index.setdefault(name, []).append(node)
    return index


def statements(tree: ast.Module, qualname: str) -> list[ast.stmt]:
    """The statements that define `qualname` (`name` or `Class.name`), in source order."""
    top = _TOP_LEVEL.get(tree)
    if top is None:
        top = _TOP_LEVEL[tree] = _local_index(tree.body)
    first, *rest = qualname.split(".")
    found = list(top.get(first, ()))
    for part in rest:
        body = [stmt for node in found if isinstance(node, ast.ClassDef) for stmt in node.body]
        found = list(_local_index(body).get(part, ()))
    return found


def _bindings(body: Sequence[ast.stmt]) -> Iterator[tuple[str, Binding, ast.stmt]]:
    assigned: set[str] = set()
    mutations: list[tuple[str, ast.stmt]] = []
    for node in _flatten(body):
        line = node.lineno
        match node:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                yield name, Binding(BindingKind.DEF, line), node
            case ast.ClassDef(name=name):
                yield name, Binding(BindingKind.CLASS, line), node
            case ast.Import(names=aliases):
                for alias in aliases:
                    top = alias.name.partition(".")[0]
                    module = alias.name if alias.asname else top
                    yield alias.asname or top, Binding(BindingKind.IMPORT, line, module), node
            case ast.ImportFrom(module=module, level=level, names=aliases):
                for alias in aliases:
                    binding = Binding(BindingKind.FROM, line, module or "", level, alias.name)
                    yield alias.asname or alias.name, binding, node
            case ast.Assign(targets=targets):
                yield from _assigned(targets, node, line, assigned, mutations)
            case ast.AnnAssign(target=target) | ast.AugAssign(target=target):
                yield from _assigned([target], node, line, assigned, mutations)
            case ast.For(target=target) | ast.AsyncFor(target=target):
                yield from _assigned([target], node, line, assigned, mutations)
            case ast.With(items=items) | ast.AsyncWith(items=items):
                targets = [i.optional_vars for i in items if i.optional_vars is not None]
                yield from _assigned(targets, node, line, assigned, mutations)
            case ast.Expr(value=ast.Call(func=ast.Attribute() as func)):
                # `TABLE.append(f)`, `REGISTRY.update(...)`: building a table in place.
                root = _root_name(func)
                if root is not None:
                    mutations.append((root, node))
            case _:
                pass
    for name, node in mutations:
        if name in assigned:
            yield name, Binding(BindingKind.ASSIGN, node.lineno), node


def _assigned(
    targets: Sequence[ast.expr],
    node: ast.stmt,
    line: int,
    assigned: set[str],
    mutations: list[tuple[str, ast.stmt]],
) -> Iterator[tuple[str, Binding, ast.stmt]]:
    for target in targets:
        if isinstance(target, ast.Attribute | ast.Subscript):
            # `TABLE["k"] = f` changes TABLE: part of its definition.
            root = _root_name(target)
            if root is not None:
                mutations.append((root, node))
            continue
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                assigned.add(sub.id)
                yield sub.id, Binding(BindingKind.ASSIGN, line), node


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _flatten(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, entering if/try/with/loop blocks but not functions or classes."""
    for node in body:
        yield node
        if not isinstance(node, _COMPOUND):
            continue
        blocks: list[list[ast.stmt]] = [node.body, getattr(node, "orelse", [])]
        if isinstance(node, ast.Try | ast.TryStar):
            blocks += [node.finalbody, *(h.body for h in node.handlers)]
        for block in blocks:
            yield from _flatten(block)
