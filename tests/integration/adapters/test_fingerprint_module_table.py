import ast
import textwrap

import pytest

from pivot.adapters.fingerprint import module_table


def _sets_x(indent: int) -> str:
    pad = " " * indent
    return f"{pad}global X\n{pad}X = 1\n"


# `global X` may sit in any block of any statement: each case assigns X only from there.
NESTED_GLOBALS = {
    "function": "def f():\n" + _sets_x(4),
    "if-else": "def f(c):\n    if c:\n        pass\n    else:\n" + _sets_x(8),
    "for-else": "def f():\n    for _ in ():\n        pass\n    else:\n" + _sets_x(8),
    "while": "def f():\n    while True:\n" + _sets_x(8) + "        break\n",
    "with": "def f(m):\n    with m:\n" + _sets_x(8),
    "except-handler": "def f():\n    try:\n        pass\n    except ValueError:\n" + _sets_x(8),
    "finally": "def f():\n    try:\n        pass\n    finally:\n" + _sets_x(8),
    "try-else": (
        "def f():\n    try:\n        pass\n    except ValueError:\n        pass\n    else:\n"
        + _sets_x(8)
    ),
    "match-case": "def f(v):\n    match v:\n        case 1:\n" + _sets_x(12),
    "method": "class C:\n    def m(self):\n" + _sets_x(8),
    "nested-function": "def f():\n    def g():\n" + _sets_x(8) + "    g()\n",
    "async": "async def f():\n    async with m:\n" + _sets_x(8),
}


@pytest.mark.parametrize("source", NESTED_GLOBALS.values(), ids=NESTED_GLOBALS.keys())
def test_a_global_assigned_from_any_nested_block_binds_the_module_name(source: str) -> None:
    table = module_table.build(ast.parse(source))

    assert module_table.BindingKind.ASSIGN in {b.kind for b in table.names["X"]}


def test_without_a_global_statement_no_function_binds_a_module_name() -> None:
    table = module_table.build(ast.parse("def f():\n    X = 1\n"))

    assert "X" not in table.names


def test_imports_never_read_are_the_side_effect_ones_wherever_the_others_are_read() -> None:
    functions = "".join(f"def f{i}():\n    return {i}\n" for i in range(50))
    source = (
        textwrap.dedent(
            """\
        import early
        import late
        import never
        import stored
        import attribute_only

        stored = 1
        """
        )
        + functions
        + textwrap.dedent(
            """\
        def last():
            def inner():
                return [late.x for _ in early.y]
            return obj.attribute_only
        """
        )
    )

    table = module_table.build(ast.parse(source))

    assert table.unused_imports == (("never", 3), ("stored", 4), ("attribute_only", 5))
