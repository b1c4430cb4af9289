import os
import pathlib
import re
import shlex
from collections.abc import Iterator

from pivot.adapters.fingerprint import modules
from pivot.domain import paths, stage

_INTERPRETER = re.compile(r"python(\d+(\.\d+)*)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_OPERATOR_CHARS = frozenset("();<>|&")
# Interpreter options whose value is the next word (`python -X dev -W error x.py`).
_OPTIONS_WITH_VALUE = frozenset({"-X", "-W", "--check-hash-based-pycs"})


def find(template: str, root: pathlib.Path) -> tuple[stage.Script, ...]:
    """The project Python files a command runs (`python x.py`, `python -m pkg.mod`, also after
    `uv run` and environment assignments), each simple command of a `&&`/`;`/`|` list."""
    try:
        lexer = shlex.shlex(template, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        return ()
    found: dict[pathlib.Path, stage.Script] = {}
    for command in _commands(words):
        script = _script(command, root)
        if script is not None:
            found.setdefault(script.file, script)
    return tuple(found.values())


def _commands(words: list[str]) -> Iterator[list[str]]:
    command: list[str] = []
    for word in words:
        if word and set(word) <= _OPERATOR_CHARS:
            yield command
            command = []
        else:
            command.append(word)
    yield command


def _script(command: list[str], root: pathlib.Path) -> stage.Script | None:
    words = iter(command)
    word = next(words, "")
    while _ASSIGNMENT.fullmatch(word):
        word = next(words, "")
    if word == "uv":
        if next(words, "") != "run":
            return None
        word = next(words, "")
        while word.startswith("-"):
            word = next(words, "")
    if not _INTERPRETER.fullmatch(os.path.basename(word)):
        return None
    for word in words:
        if "${" in word:
            return None
        if word in _OPTIONS_WITH_VALUE:
            next(words, "")
        elif word == "-m":
            return _module(next(words, ""), root)
        elif word in {"-c", "-"}:
            return None
        elif not word.startswith("-"):
            return _path(word, root)
    return None


def _path(word: str, root: pathlib.Path) -> stage.Script | None:
    if not word.endswith(".py"):
        return None
    file = paths.normalize(word, root)
    if not file.is_file():
        return None
    return stage.Script(file, file.stem, file.parent)


def _module(name: str, root: pathlib.Path) -> stage.Script | None:
    if not name or "${" in name:
        return None
    spec = modules.find_in(name, [str(root)])
    if spec is not None and spec.submodule_search_locations:
        # `python -m pkg` runs pkg/__main__.py.
        name = f"{name}.__main__"
        spec = modules.find_in(name, [str(root)])
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return stage.Script(pathlib.Path(spec.origin), name, root)
