import ast
import dataclasses
from typing import Any

from pivot.adapters.fingerprint import module_table, normalize, references


@dataclasses.dataclass(frozen=True, slots=True)
class Analysis:
    """What one definition in one source file contributes, before following its references."""

    kind: str
    """Binding kind of its first definition (`def`, `class`, `assign`); empty when not found."""
    line: int
    digest: str
    refs: tuple[references.Ref, ...] = ()
    warnings: tuple[references.Warning, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "line": self.line,
            "digest": self.digest,
            "refs": [list(ref) for ref in self.refs],
            "warnings": [list(w) for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Analysis":
        return cls(
            data["kind"],
            data["line"],
            data["digest"],
            tuple(tuple(ref) for ref in data["refs"]),
            tuple((line, message) for line, message in data["warnings"]),
        )


NOT_FOUND = Analysis("", 0, "")

SCRIPT = "<script>"
"""Qualified name standing for a whole file run as a script."""


def analyse(tree: ast.Module, qualname: str) -> Analysis:
    """Digest and references of the statements defining `qualname` in `tree` (all of it for
    `SCRIPT`)."""
    if qualname == SCRIPT:
        body = [stmt for stmt in tree.body if not normalize.is_string_statement(stmt)]
        findings = references.collect(body)
        return Analysis("script", 1, normalize.digest(body), findings.refs, findings.warnings)
    found = module_table.statements(tree, qualname)
    if not found:
        return NOT_FOUND
    first = found[0][0]
    name = qualname.rpartition(".")[2]
    match first:
        # A function assigning the name through `global` is part of a constant's definition.
        case ast.FunctionDef() | ast.AsyncFunctionDef() if first.name == name:
            kind = module_table.BindingKind.DEF
        case ast.ClassDef() if first.name == name:
            kind = module_table.BindingKind.CLASS
        case _:
            kind = module_table.BindingKind.ASSIGN
    # Each statement is preceded by the headers deciding whether it runs.
    nodes = [part for node, guards in found for part in (*guards, node)]
    findings = references.collect(nodes)
    return Analysis(
        kind.value, first.lineno, normalize.digest(nodes), findings.refs, findings.warnings
    )
