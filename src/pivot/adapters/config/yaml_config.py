import hashlib
import io
import json
import os
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from pivot.adapters import fs, yaml_text
from pivot.adapters.remote import url as remote_location
from pivot.domain import config, errors, remote_url
from pivot.ports import state_store

SHARED = "config.yaml"
LOCAL = "config.local.yaml"
_IGNORE_LINE = "/config.local.yaml"
MEMO = ("config", "checked")
"""State-store namespace and key of the last settings validated: the digest of what they were
validated from, then their JSON."""
_DIGEST = 32


class YamlConfigFiles:
    """`.pivot/config.yaml` (committed) and `.pivot/config.local.yaml` (git-ignored; wins).

    With a `memo` (the state store, opened on first use), settings validated once are kept
    there with the digest of everything they came from (both files' bytes, the `PIVOT_*`
    overrides, the settings model's source): while none of that changes, a command reads them
    back without parsing YAML or importing pydantic (ADR 0009)."""

    def __init__(
        self,
        state_dir: pathlib.Path,
        environ: Mapping[str, str] | None = None,
        memo: Callable[[], state_store.StateStore] | None = None,
    ) -> None:
        self.shared = state_dir / SHARED
        self.local = state_dir / LOCAL
        self._root = state_dir.parent
        self._environ = os.environ if environ is None else environ
        self._memo = memo

    def load(self) -> config.Config:
        """The effective settings: both files, then `PIVOT_*` environment overrides."""
        texts = [(path, data) for path in (self.shared, self.local) if (data := _bytes(path))]
        overrides = config.env_overrides(self._environ)
        if not texts and not overrides:
            return config.defaults()
        digest = _digest(texts, overrides)
        remembered = self._remembered(digest)
        if remembered is not None:
            return remembered
        docs = [(path, _parse(path, data)) for path, data in texts]
        merged: dict[str, Any] = {}
        for _, doc in docs:
            merged = config.merge(merged, doc)
        for key, value in overrides.items():
            config.set_path(merged, key, value)
        settings = _validate(merged, docs, overrides, self._root)
        self._remember(digest, settings)
        return settings

    def _remember(self, digest: bytes | None, settings: config.Config) -> None:
        if self._memo is None or digest is None:
            return
        checked = json.dumps(config.dump(settings), sort_keys=True).encode()
        self._memo().put_many(MEMO[0], [(MEMO[1], digest + checked)])

    def _remembered(self, digest: bytes | None) -> config.Config | None:
        """The settings validated from exactly these inputs, if the memo holds them."""
        if self._memo is None or digest is None:
            return None
        value = self._memo().get(*MEMO)
        if value is None or value[:_DIGEST] != digest:
            return None
        try:
            return config.restore(json.loads(value[_DIGEST:]))
        except (ValueError, TypeError, AttributeError):
            return None  # written by another version, or damaged: validate again

    def raw(self, *, local: bool | None = None) -> dict[str, Any]:
        """What the files say (None: both merged), without defaults or the environment."""
        merged: dict[str, Any] = {}
        for path, doc in self._docs():
            if local is None or (path == self.local) == local:
                merged = config.merge(merged, _plain(doc))
        return merged

    def set(self, key: tuple[str, ...], value: Any, *, local: bool) -> None:
        """Write `key: value` into one file (comments kept), after validating the result."""
        path = self.local if local else self.shared
        doc = _read(path) if path.is_file() else _new_map()
        node = doc
        for part in key[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = _new_map()
                node[part] = child
            node = child  # pyright: ignore[reportUnknownVariableType]
        node[key[-1]] = value
        self._check_and_write(path, doc)

    def unset(self, key: tuple[str, ...], *, local: bool) -> None:
        """Remove `key` from one file (empty parents go too); an absent key is an error."""
        path = self.local if local else self.shared
        doc = _read(path) if path.is_file() else _new_map()
        parents: list[Any] = [doc]
        for part in key[:-1]:
            child = parents[-1].get(part)
            if not isinstance(child, dict):
                parents = []
                break
            parents.append(child)
        if not parents or key[-1] not in parents[-1]:
            raise errors.ConfigError(f"'{'.'.join(key)}' is not set in {path}")
        del parents[-1][key[-1]]
        for depth in range(len(parents) - 1, 0, -1):
            if not parents[depth]:
                del parents[depth - 1][key[depth - 1]]
        self._check_and_write(path, doc)

    def _docs(self) -> list[tuple[pathlib.Path, Any]]:
        return [(path, _read(path)) for path in (self.shared, self.local) if path.is_file()]

    def _check_and_write(self, path: pathlib.Path, doc: Any) -> None:
        docs = [(p, doc if p == path else d) for p, d in self._docs() if p != path]
        docs.append((path, doc))
        docs.sort(key=lambda pd: pd[0] == self.local)
        merged: dict[str, Any] = {}
        for _, d in docs:
            merged = config.merge(merged, d)
        settings = _validate(merged, docs, {}, self._root)
        from ruamel import yaml

        out = io.StringIO()
        yaml.YAML(typ="rt").dump(doc, out)
        fs.atomic_write_bytes(path, out.getvalue().encode())
        if path == self.local:
            _ignore_local(path.parent)
        # What was just validated is what the next command reads (without overrides).
        texts = [(p, data) for p in (self.shared, self.local) if (data := _bytes(p))]
        self._remember(_digest(texts, {}), settings)


def _bytes(path: pathlib.Path) -> bytes | None:
    """A config file's bytes; None when there is no such file."""
    try:
        with open(path, "rb") as f:
            yaml_text.check_size(os.fstat(f.fileno()).st_size)
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except yaml_text.YamlLimitError as exc:
        raise errors.ConfigError(f"{path}: {exc}") from None


def _digest(
    texts: list[tuple[pathlib.Path, bytes]], overrides: Mapping[tuple[str, ...], Any]
) -> bytes | None:
    """What validated settings depend on, hashed: the model's and the URL rules' source, which
    file holds which bytes, the overrides. None when a source cannot be read (no memo then)."""
    h = hashlib.blake2b(digest_size=_DIGEST)
    for rules in (config, remote_url, remote_location):
        try:
            h.update(pathlib.Path(rules.__file__ or "").read_bytes())
        except (OSError, TypeError):
            return None
    for path, data in texts:
        h.update(b"\0%s\0%d\0" % (path.name.encode(), len(data)))
        h.update(data)
    h.update(repr(sorted(overrides.items())).encode())
    return h.digest()


def _new_map() -> Any:
    from ruamel.yaml import comments

    return comments.CommentedMap()


def _read(path: pathlib.Path) -> Any:
    """A config file as a round-trip mapping (line numbers kept for messages)."""
    data = _bytes(path)
    return _parse(path, b"" if data is None else data)


def _parse(path: pathlib.Path, data: bytes) -> Any:
    """A config file's bytes as a round-trip mapping (line numbers kept for messages)."""
    from ruamel import yaml

    try:
        text = data.decode("utf-8")
        loaded: Any = yaml_text.guarded(lambda: yaml.YAML(typ="rt").load(text))
    except UnicodeDecodeError as exc:
        raise errors.ConfigError(
            f"{path}: byte {exc.start + 1} is not UTF-8 ({exc.reason}); save the file as UTF-8"
        ) from None
    except yaml_text.YamlLimitError as exc:
        raise errors.ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise errors.ConfigError(f"{where}: invalid YAML: {problem}") from None
    if loaded is None:
        return _new_map()
    if not isinstance(loaded, dict):
        raise errors.ConfigError(
            f"{path}: expected a mapping of settings (like 'cache: {{link_modes: [copy]}}'), "
            + f"got {type(loaded).__name__}"
        )
    return loaded


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(node, list):
        return [_plain(v) for v in node]  # pyright: ignore[reportUnknownVariableType]
    return node


def _validate(
    merged: dict[str, Any],
    docs: list[tuple[pathlib.Path, Any]],
    overrides: Mapping[tuple[str, ...], Any],
    project_root: pathlib.Path,
) -> config.Config:
    import pydantic

    try:
        settings = config.validate(_plain(merged))
    except pydantic.ValidationError as exc:
        raise errors.ConfigError(_describe(exc.errors()[0], docs, overrides)) from None
    # The same check as `pivot remote add`, wherever the URL came from (ADR 0011).
    for name, remote in settings.remotes.items():
        try:
            remote_location.location(remote.url, project_root)
        except errors.RemoteError as exc:
            where = _where(("remotes", name, "url"), docs)
            raise errors.ConfigError(f"{where}: remotes.{name}.url: {exc}") from None
    return settings


def _describe(
    error: Any, docs: list[tuple[pathlib.Path, Any]], overrides: Mapping[tuple[str, ...], Any]
) -> str:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    dotted = ".".join(str(p) for p in loc)
    var = config.env_var_of(loc)
    if var is not None and any(loc[: len(k)] == k for k in overrides):
        return f"${var}: {dotted}: {error['msg']} (got {error.get('input')!r})"
    where = _where(loc, docs)
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        parent = ".".join(str(p) for p in loc[:-1])
        known = [f"{parent}.{name}" if parent else name for name in config.allowed_at(loc[:-1])]
        return f"{where}: unknown setting '{dotted}'{config.suggest(dotted, known)}"
    if error["type"] in ("missing", "missing_argument"):
        if len(loc) == 3 and loc[0] == "remotes" and loc[2] == "url":
            name = str(loc[1])
            hint = config.no_remote(name, _remote_names(docs))
            return f"{where}: {hint} (remotes.{name} has options but no url)"
        return f"{where}: '{dotted}' is required"
    return f"{where}: {dotted}: {error['msg']} (got {error.get('input')!r})"


def _remote_names(docs: list[tuple[pathlib.Path, Any]]) -> list[str]:
    """Remotes the files give a url."""
    names: set[str] = set()
    for _, doc in docs:
        remotes = doc.get("remotes")
        if isinstance(remotes, dict):
            names.update(str(k) for k, v in remotes.items() if isinstance(v, dict) and "url" in v)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return sorted(names)


def _where(loc: tuple[str | int, ...], docs: list[tuple[pathlib.Path, Any]]) -> str:
    """`file:line` of the deepest part of `loc` written in a file (the local file on a tie)."""
    best: tuple[int, str] = (-1, str(docs[-1][0]) if docs else "settings")
    for path, doc in docs:
        node, depth, line = doc, 0, None
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            line = _line_of(node, part) or line
            node, depth = node[part], depth + 1  # pyright: ignore[reportUnknownVariableType]
        if depth >= best[0] and depth > 0:
            best = (depth, f"{path}:{line}" if line is not None else str(path))
    return best[1]


def _line_of(node: Any, key: Any) -> int | None:
    """1-based line of `key` in a round-trip mapping (None for keys added in memory)."""
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _ignore_local(state_dir: pathlib.Path) -> None:
    """Make sure git never sees the machine-local settings file."""
    gitignore = state_dir / ".gitignore"
    text = gitignore.read_text() if gitignore.is_file() else ""
    if _IGNORE_LINE in text.splitlines():
        return
    sep = "" if not text or text.endswith("\n") else "\n"
    fs.atomic_write_bytes(gitignore, (text + sep + _IGNORE_LINE + "\n").encode())
