import ast
import hashlib
from collections.abc import Iterable

# Fields that carry no behaviour: load/store context follows from the tree's shape, `kind` is
# the `u` prefix of a string literal, type comments are comments.
_IGNORED_FIELDS = frozenset({"ctx", "kind", "type_comment"})
_BODY_FIELDS = frozenset({"body", "orelse", "finalbody"})


def digest(nodes: Iterable[ast.AST], salt: str = "") -> str:
    """Digest of the nodes' behaviour: docstrings, comments, formatting and positions ignored."""
    parts: list[str] = [salt]
    for node in nodes:
        _encode(node, parts)
        parts.append(";")
    return hashlib.blake2b("".join(parts).encode(), digest_size=16).hexdigest()


def combine(*parts: str) -> str:
    """One digest for several strings (order matters)."""
    joined = "\0".join(parts)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


def is_string_statement(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _encode(node: ast.AST, out: list[str]) -> None:
    out.append(type(node).__name__)
    out.append("(")
    for field in node._fields:
        if field in _IGNORED_FIELDS:
            continue
        value = getattr(node, field, None)
        if field in _BODY_FIELDS and isinstance(value, list):
            # A bare string statement (a docstring anywhere) does nothing; a body left empty
            # by dropping it means the same as `pass`.
            kept = [stmt for stmt in value if not is_string_statement(stmt)]
            value = kept or ([ast.Pass()] if field == "body" and value else [])
        # Empty and missing fields are skipped so fields added by newer Pythons do not
        # change the digest of code that does not use them.
        if value is None or (isinstance(value, list) and not value):
            continue
        out.append(field)
        out.append("=")
        _encode_value(value, out)
        out.append(",")
    out.append(")")


def _encode_value(value: object, out: list[str]) -> None:
    if isinstance(value, ast.AST):
        _encode(value, out)
    elif isinstance(value, list):
        out.append("[")
        for item in value:
            _encode_value(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(f"{type(value).__name__}:{value!r}")
