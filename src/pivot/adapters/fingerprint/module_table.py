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
    guarded: bool = False
    """Inside a module-level `if`/`for`/`while`/`with`/`try`, whose header is part of it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """How each module-level name of a source file gets its value."""

    names: dict[str, tuple[Binding, ...]]
    stars: tuple[tuple[str, int], ...] = ()
    """(module, level) of each `from m import *`."""
    unused_imports: tuple[tuple[str, int], ...] = ()
    """(module, line) of each `import m` whose name the module never reads: a side effect."""

    def to_json(self) -> dict[str, Any]:
        return {
            "names": {
                name: [
                    [b.kind.value, b.line, b.module, b.level, b.attr, b.guarded] for b in bindings
                ]
                for name, bindings in sorted(self.names.items())
            },
            "stars": [list(star) for star in self.stars],
            "unused_imports": [list(item) for item in self.unused_imports],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Table":
        names = {
            name: tuple(
                Binding(BindingKind(k), line, m, level, a, g) for k, line, m, level, a, g in rows
            )
            for name, rows in data["names"].items()
        }
        return cls(
            names,
            tuple((m, level) for m, level in data["stars"]),
            tuple((m, line) for m, line in data["unused_imports"]),
        )


def build(tree: ast.Module) -> Table:
    """The binding table of a parsed module."""
    names: dict[str, list[Binding]] = {}
    stars: list[tuple[str, int]] = []
    plain_imports: list[tuple[str, str, int]] = []
    for name, binding, node, _ in _bindings(tree.body, _has_global(tree)):
        if name == "*" and isinstance(node, ast.ImportFrom):
            stars.append((node.module or "", node.level))
            continue
        names.setdefault(name, []).append(binding)
        if isinstance(node, ast.Import):
            plain_imports.extend(
                (name, alias.name, node.lineno)
                for alias in node.names
                if (alias.asname or alias.name.partition(".")[0]) == name
            )
    unread = _unread(tree, {name for name, _, _ in plain_imports})
    unused = tuple((module, line) for name, module, line in plain_imports if name in unread)
    return Table({name: tuple(b) for name, b in names.items()}, tuple(stars), unused)


Guards = tuple[ast.AST, ...]
"""Headers of the compound statements around a statement (marker, condition, … per level)."""

Statement = tuple[ast.stmt, Guards]


# Top-level name → defining statements, per parsed module: a module with N stage functions
# is looked up N times, and scanning its body each time made fingerprinting quadratic.
_TOP_LEVEL: "weakref.WeakKeyDictionary[ast.Module, dict[str, list[Statement]]]" = (
    weakref.WeakKeyDictionary()
)


# Per parsed module: whether it has a `global` statement at all (without one, no definition
# can assign a module-level name, and walking every function of a module with a thousand stage
# functions for one costs more than everything else the table needs).
_GLOBALS: "weakref.WeakKeyDictionary[ast.Module, bool]" = weakref.WeakKeyDictionary()

_BLOCKS = ("body", "orelse", "finalbody")


def _has_global(tree: ast.Module) -> bool:
    """Whether any statement of the module, at any depth, is `global`: statements only, since
    `global` is one (expressions, most of a module's nodes, are never looked at)."""
    found = _GLOBALS.get(tree)
    if found is None:
        found = False
        stack: list[ast.AST] = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Global):
                found = True
                break
            for field in _BLOCKS:
                block = getattr(node, field, None)
                if isinstance(block, list):
                    stack.extend(block)  # pyright: ignore[reportUnknownArgumentType]
            for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
                stack.extend(part.body)
        _GLOBALS[tree] = found
    return found


def _unread(tree: ast.Module, names: set[str]) -> set[str]:
    """Which of `names` the module never reads (as a plain name). Depth first, and done as
    soon as each was seen read: an import is usually read in the first function using it."""
    left = set(names)
    stack: list[ast.AST] = [tree]
    while left and stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if node.id in left and isinstance(node.ctx, ast.Load):
                left.discard(node.id)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return left


def _local_index(body: Sequence[ast.stmt], has_global: bool) -> dict[str, list[Statement]]:
    index: dict[str, list[Statement]] = {}
    for name, binding, node, guards in _bindings(body, has_global):
        if binding.kind in LOCAL_KINDS or binding.guarded:
            index.setdefault(name, []).append((node, guards))
    return index


def statements(tree: ast.Module, qualname: str) -> list[Statement]:
    """The statements that define `qualname` (`name` or `Class.name`), in source order, each
    with the headers of the module-level `if`/`for`/`with`/`try` blocks it sits in."""
    top = _TOP_LEVEL.get(tree)
    if top is None:
        top = _TOP_LEVEL[tree] = _local_index(tree.body, _has_global(tree))
    first, *rest = qualname.split(".")
    found = list(top.get(first, ()))
    for part in rest:
        body = [stmt for node, _ in found if isinstance(node, ast.ClassDef) for stmt in node.body]
        found = list(_local_index(body, _has_global(tree)).get(part, ()))
    return found


def _bindings(
    body: Sequence[ast.stmt], has_global: bool
) -> Iterator[tuple[str, Binding, ast.stmt, Guards]]:
    """`has_global`: the module has a `global` statement somewhere (see `_has_global`)."""
    assigned: set[str] = set()
    mutations: list[tuple[str, ast.stmt, Guards]] = []
    for node, guards in _flatten(body, ()):
        line = node.lineno
        guarded = bool(guards)
        found: list[tuple[str, Binding]] = []
        match node:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                found.append((name, Binding(BindingKind.DEF, line, guarded=guarded)))
                if has_global:
                    found.extend(_globals_set(node, line, guarded))
            case ast.ClassDef(name=name):
                found.append((name, Binding(BindingKind.CLASS, line, guarded=guarded)))
                if has_global:
                    found.extend(_globals_set(node, line, guarded))
            case ast.Import(names=aliases):
                for alias in aliases:
                    top = alias.name.partition(".")[0]
                    module = alias.name if alias.asname else top
                    binding = Binding(BindingKind.IMPORT, line, module, guarded=guarded)
                    found.append((alias.asname or top, binding))
            case ast.ImportFrom(module=module, level=level, names=aliases):
                for alias in aliases:
                    binding = Binding(
                        BindingKind.FROM, line, module or "", level, alias.name, guarded
                    )
                    found.append((alias.asname or alias.name, binding))
            case ast.Assign(targets=targets):
                found.extend(_assigned(targets, node, guards, assigned, mutations))
            case ast.AnnAssign(target=target) | ast.AugAssign(target=target):
                found.extend(_assigned([target], node, guards, assigned, mutations))
            case ast.For(target=target) | ast.AsyncFor(target=target):
                found.extend(_assigned([target], node, guards, assigned, mutations))
            case ast.With(items=items) | ast.AsyncWith(items=items):
                targets = [i.optional_vars for i in items if i.optional_vars is not None]
                found.extend(_assigned(targets, node, guards, assigned, mutations))
            case ast.Expr(value=ast.Call(func=ast.Attribute() as func)):
                # `TABLE.append(f)`, `REGISTRY.update(...)`: building a table in place.
                root = _root_name(func)
                if root is not None:
                    mutations.append((root, node, guards))
            case _:
                pass
        for name, binding in found:
            yield name, binding, node, guards
    for name, node, guards in mutations:
        if name in assigned:
            yield name, Binding(BindingKind.ASSIGN, node.lineno, guarded=bool(guards)), node, guards


def _globals_set(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, line: int, guarded: bool
) -> Iterator[tuple[str, Binding]]:
    """Module-level names the definition assigns through `global`: it is part of theirs."""
    declared: set[str] = set()
    stored: set[str] = set()
    for sub in ast.walk(node):
        match sub:
            case ast.Global(names=names):
                declared.update(names)
            case ast.Name(id=name, ctx=ast.Store() | ast.Del()):
                stored.add(name)
            case _:
                pass
    for name in sorted(declared & stored):
        yield name, Binding(BindingKind.ASSIGN, line, guarded=guarded)


def _assigned(
    targets: Sequence[ast.expr],
    node: ast.stmt,
    guards: Guards,
    assigned: set[str],
    mutations: list[tuple[str, ast.stmt, Guards]],
) -> Iterator[tuple[str, Binding]]:
    for target in targets:
        if isinstance(target, ast.Attribute | ast.Subscript):
            # `TABLE["k"] = f` changes TABLE: part of its definition.
            root = _root_name(target)
            if root is not None:
                mutations.append((root, node, guards))
            continue
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                assigned.add(sub.id)
                yield sub.id, Binding(BindingKind.ASSIGN, node.lineno, guarded=bool(guards))


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _flatten(body: Sequence[ast.stmt], guards: Guards) -> Iterator[Statement]:
    """Module-level statements with their guards, entering if/try/with/loop blocks but not
    functions or classes."""
    for node in body:
        yield node, guards
        if not isinstance(node, _COMPOUND):
            continue
        for block, header in _blocks(node):
            yield from _flatten(block, (*guards, *header))


def _blocks(node: ast.stmt) -> Iterator[tuple[list[ast.stmt], list[ast.AST]]]:
    """Each block of a compound statement, with what decides whether (and how) it runs."""
    kind = type(node).__name__
    match node:
        case ast.If(test=test) | ast.While(test=test):
            yield node.body, [ast.Constant(f"{kind}.body"), test]
            yield node.orelse, [ast.Constant(f"{kind}.orelse"), test]
        case ast.For(target=target, iter=iterable) | ast.AsyncFor(target=target, iter=iterable):
            yield node.body, [ast.Constant(f"{kind}.body"), target, iterable]
            yield node.orelse, [ast.Constant(f"{kind}.orelse"), target, iterable]
        case ast.With(items=items) | ast.AsyncWith(items=items):
            yield node.body, [ast.Constant(kind), *items]
        case ast.Try() | ast.TryStar():
            caught: list[ast.AST] = [h.type for h in node.handlers if h.type is not None]
            yield node.body, [ast.Constant(f"{kind}.body"), *caught]
            for index, handler in enumerate(node.handlers):
                yield handler.body, [ast.Constant(f"{kind}.handler{index}"), *caught]
            yield node.orelse, [ast.Constant(f"{kind}.orelse"), *caught]
            yield node.finalbody, [ast.Constant(f"{kind}.finalbody")]
        case _:
            pass
