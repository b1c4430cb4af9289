import ast
import dataclasses
from collections.abc import Iterable, Sequence

Ref = tuple[str, ...]
"""A name a piece of code reaches, with the attributes read from it.

`("g", name, *attrs)`: a module-level (global) name of the module holding the code.
`("i", module, level, *attrs)`: a module imported inside a function body, `level` the number of
leading dots of a relative import (as a string, so refs sort).
"""

Warning = tuple[int, str]
"""(line, message) for a pattern whose reach cannot be followed statically."""

_DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "import_module", "__import__"})


@dataclasses.dataclass(frozen=True, slots=True)
class Findings:
    refs: tuple[Ref, ...]
    warnings: tuple[Warning, ...]


@dataclasses.dataclass(slots=True)
class _Scope:
    kind: str
    bound: set[str] = dataclasses.field(default_factory=set[str])
    imports: dict[str, list[Ref]] = dataclasses.field(default_factory=dict[str, list[Ref]])
    declared_global: set[str] = dataclasses.field(default_factory=set[str])


def collect(statements: Sequence[ast.AST]) -> Findings:
    """Names that module-level `statements` (or expressions) reach, and the dynamic lookups
    they make."""
    collector = _Collector()
    for stmt in statements:
        collector.visit(stmt)
    return Findings(tuple(sorted(collector.refs)), tuple(sorted(collector.warnings)))


def _scan(nodes: Iterable[ast.AST]) -> _Scope:
    """Names a function or class body binds, without entering nested scopes."""
    scope = _Scope("function")
    stack = list(nodes)
    while stack:
        node = stack.pop()
        match node:
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                scope.bound.add(node.name)
                continue
            case ast.Lambda():
                continue
            case ast.ListComp() | ast.SetComp() | ast.DictComp() | ast.GeneratorExp():
                # Only an assignment expression inside a comprehension binds out here.
                scope.bound.update(
                    n.target.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)
                )
                continue
            case ast.Import(names=names):
                for alias in names:
                    top = alias.name.partition(".")[0]
                    name = alias.asname or top
                    module = alias.name if alias.asname else top
                    scope.imports.setdefault(name, []).append(("i", module, "0"))
            case ast.ImportFrom(module=module, level=level, names=names):
                for alias in names:
                    ref = ("i", module or "", str(level), alias.name)
                    scope.imports.setdefault(alias.asname or alias.name, []).append(ref)
            case ast.Global(names=names):
                scope.declared_global.update(names)
            case ast.Nonlocal(names=names):
                scope.bound.update(names)
            case ast.Name(ctx=ast.Store() | ast.Del()):
                scope.bound.add(node.id)
            case ast.ExceptHandler(name=str() as name):
                scope.bound.add(name)
            case ast.MatchAs(name=str() as name) | ast.MatchStar(name=str() as name):
                scope.bound.add(name)
            case ast.MatchMapping(rest=str() as name):
                scope.bound.add(name)
            case _:
                pass
        stack.extend(ast.iter_child_nodes(node))
    return scope


def _chain(node: ast.expr) -> tuple[str, ...] | None:
    """`a.b.c` as ("a", "b", "c"); None when the expression does not start at a name."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return (node.id, *reversed(attrs))


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.refs: set[Ref] = set()
        self.warnings: set[Warning] = set()
        self.scopes: list[_Scope] = [_Scope("module")]

    def _lookup(self, name: str) -> list[Ref] | None:
        """Refs a loaded name stands for; None when it is a local variable."""
        current = self.scopes[-1]
        for scope in reversed(self.scopes):
            # A class body's names are invisible to the functions nested in it.
            if scope.kind == "class" and scope is not current:
                continue
            if scope.kind == "module" or name in scope.declared_global:
                return [("g", name)]
            if name in scope.imports:
                return scope.imports[name]
            if name in scope.bound:
                return None
        return [("g", name)]

    def _reach(self, chain: tuple[str, ...]) -> bool:
        found = self._lookup(chain[0])
        if found is None:
            return False
        self.refs.update(ref + chain[1:] for ref in found)
        return True

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._reach((node.id,))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _chain(node)
        if chain is None:
            self.generic_visit(node)
        else:
            self._reach(chain)

    def visit_Call(self, node: ast.Call) -> None:
        name = ".".join(_chain(node.func) or ())
        args = node.args
        match name:
            case "getattr" if len(args) >= 2:
                self._getattr(node, args[0], _literal(args[1]))
            case "globals":
                self.warnings.add(
                    (node.lineno, "globals() lookup; code reached through it is not tracked")
                )
            case "eval" | "exec":
                self.warnings.add(
                    (node.lineno, f"{name}() runs code Pivot cannot see; changes are not tracked")
                )
            case _ if name in _DYNAMIC_IMPORTS:
                module = _literal(args[0]) if args else None
                if module is None:
                    self.warnings.add(
                        (
                            node.lineno,
                            f"{name}() with a computed module name; "
                            + "the module it imports is not tracked",
                        )
                    )
                elif not module.startswith("."):
                    self.refs.add(("i", module, "0"))
            case _:
                pass
        self.generic_visit(node)

    def _getattr(self, node: ast.Call, target: ast.expr, attr: str | None) -> None:
        chain = _chain(target)
        if chain is None:
            return
        if attr is not None:
            self._reach((*chain, attr))
        elif self._lookup(chain[0]) is not None:
            # Only worth a warning when the object is a module-level name (a module, a class,
            # a table); getattr on a local object is the usual duck typing.
            self.warnings.add(
                (
                    node.lineno,
                    f"getattr() with a computed name on '{'.'.join(chain)}'; "
                    + "code reached through it is not tracked",
                )
            )

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_arguments(node.args)
        if node.returns is not None:
            self._visit_annotation(node.returns)
        self._enter(node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_arguments(node.args)
        self._enter(node.args, [node.body])

    def _visit_arguments(self, args: ast.arguments) -> None:
        for default in (*args.defaults, *args.kw_defaults):
            if default is not None:
                self.visit(default)
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self._visit_annotation(arg.annotation)

    def _visit_annotation(self, node: ast.expr) -> None:
        text = _literal(node)
        if text is None:
            self.visit(node)
            return
        # A postponed annotation (`from __future__ import annotations`) still names classes.
        try:
            parsed = ast.parse(text, mode="eval")
        except SyntaxError:
            return
        self.visit(parsed.body)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_annotation(node.annotation)
        self.visit(node.target)
        if node.value is not None:
            self.visit(node.value)

    def _enter(self, args: ast.arguments, body: Sequence[ast.AST]) -> None:
        scope = _scan(body)
        scope.bound.update(
            arg.arg
            for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg)
            if arg is not None
        )
        self.scopes.append(scope)
        for stmt in body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(expr)
        scope = _scan(node.body)
        scope.kind = "class"
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    ) -> None:
        generators = node.generators
        # The first iterable is evaluated in the enclosing scope.
        self.visit(generators[0].iter)
        scope = _Scope("function")
        for gen in generators:
            scope.bound.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
        self.scopes.append(scope)
        for index, gen in enumerate(generators):
            if index:
                self.visit(gen.iter)
            for condition in gen.ifs:
                self.visit(condition)
        elements = (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,)
        for element in elements:
            self.visit(element)
        self.scopes.pop()

    visit_ListComp = _visit_comprehension
    visit_SetComp = _visit_comprehension
    visit_DictComp = _visit_comprehension
    visit_GeneratorExp = _visit_comprehension
