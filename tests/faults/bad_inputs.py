"""The table of bad inputs: each damages a copy of a finished project, then runs `pivot`."""

import dataclasses
import json
import os
import pathlib
from collections.abc import Callable

from tests.faults import scene as scene_mod

Scene = scene_mod.Scene
LOCK = ".pivot/stages/train.lock"
EVAL_LOCK = ".pivot/stages/evaluate.lock"
PVT = "inputs.pvt"
STATE = ".pivot/state.lmdb"


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    category: str
    damage: Callable[[Scene], None]
    args: tuple[str, ...]
    exit: int
    says: str
    """A regex the one error line (exit ≠ 0) or a warning line (exit 0) must match."""
    changes: tuple[str, ...] = ()
    """Project paths (prefixes) the command may rewrite or remove: repairs and restores."""
    needs: str = ""
    """`nonroot`: the case drops root's permission override; `mount`: a tmpfs."""


def _nothing(scene: Scene) -> None:
    """No damage: the command itself is the bad input."""


def _lock_json(scene: Scene, rel: str = LOCK) -> dict:
    return json.loads(scene.path(rel).read_text())


def _edit_lock(change: Callable[[dict], None], rel: str = LOCK) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        record = _lock_json(scene, rel)
        change(record)
        scene.write(rel, json.dumps(record))

    return damage


def _set_out(field: str, value: object, out: str = "train:model") -> Callable[[dict], None]:
    def change(record: dict) -> None:
        record["outs"][out][field] = value

    return change


def _write(rel: str, data: str | bytes) -> Callable[[Scene], None]:
    return lambda scene: scene.write(rel, data) and None


def _all(*steps: Callable[[Scene], None]) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        for step in steps:
            step(scene)

    return damage


def _remove(rel: str) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        path = scene.path(rel)
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()

    return damage


def _flip_object(output: str) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        obj = scene.cache_object(output)
        os.chmod(obj, 0o644)
        data = bytearray(obj.read_bytes())
        data[0] ^= 0xFF
        obj.write_bytes(bytes(data))

    return damage


def _drop_object(output: str) -> Callable[[Scene], None]:
    return lambda scene: scene.cache_object(output).unlink()


def _symlink(rel: str, target: Callable[[Scene], pathlib.Path]) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        path = scene.path(rel)
        if path.exists() or path.is_symlink():
            _remove(rel)(scene)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target(scene))

    return damage


def _fifo(rel: str) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        path = scene.path(rel)
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return damage


def _chmod(rel: str, mode: int) -> Callable[[Scene], None]:
    return lambda scene: os.chmod(scene.path(rel), mode)


def _victim(scene: Scene) -> pathlib.Path:
    return scene.outside / "victim.txt"


def _leftover_holder(scene: Scene) -> None:
    scene.write(".pivot/lock.holder", json.dumps({"command": "pivot run", "pid": 999999}))


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(9)
)
DEEP = "x: " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_MAP = "x:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 700)) + " " * 700 + "v\n"
HUGE_YAML = "x: [" + ", ".join(["1234567890"] * 1_600_000) + "]\n"  # ~19 MB
LATIN1 = "stages:\n  s:\n    cmd: echo caf\xe9\n".encode("latin-1")

PIVOT_YAML_STAGE = "stages:\n  yaml_stage:\n    cmd: echo hi > y.txt\n    outs: [y.txt]\n"


def _yaml_project(text: str | bytes) -> Callable[[Scene], None]:
    """Replace the pipeline with a `pivot.yaml` one."""

    def damage(scene: Scene) -> None:
        scene.path("pipeline.py").unlink()
        scene.write("pivot.yaml", text)

    return damage


def _stage_module(extra: str) -> Callable[[Scene], None]:
    """Add a stage (module-level code in `extra`, its function named `extra_stage`)."""

    def damage(scene: Scene) -> None:
        with open(scene.path("stages.py"), "a") as f:
            f.write("\n\n" + extra)
        with open(scene.path("pipeline.py"), "a") as f:
            f.write("pipeline.register(stages.extra_stage)\n")

    return damage


def _out_stage(path: str) -> Callable[[Scene], None]:
    return _stage_module(
        "def extra_stage() -> Annotated[str, outputs.Out("
        + repr(path)
        + ", loaders.Text())]:\n    return 'x'\n"
    )


def _dep_stage(path: str) -> Callable[[Scene], None]:
    return _stage_module(
        "def extra_stage(d: Annotated[str, outputs.Dep("
        + repr(path)
        + ", loaders.Text())]) -> Annotated[str, outputs.Out('extra.txt', loaders.Text())]:\n"
        + "    return d\n"
    )


def _abs_victim_out(scene: Scene) -> None:
    _out_stage(str(_victim(scene)))(scene)


def _abs_record(scene: Scene) -> None:
    _edit_lock(_set_out("path", str(_victim(scene))))(scene)


def _pvt(field: str, value: object) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        body = json.loads(scene.path(PVT).read_text())
        body[field] = value
        scene.write(PVT, json.dumps(body))

    return damage


def _pvt_data_removed(field: str, value: object) -> Callable[[Scene], None]:
    return _all(_pvt(field, value), _remove("inputs"))


def _huge_file(rel: str, mib: int) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        with open(scene.path(rel), "wb") as f:
            f.truncate(mib * 1024 * 1024)

    return damage


def _state_file(scene: Scene) -> None:
    import shutil

    shutil.rmtree(scene.path(STATE), ignore_errors=True)
    scene.write(STATE, "not a directory")


def _truncate(rel: str, keep: float) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        path = scene.path(rel)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return damage


def _garbage(rel: str, size: int = 65536) -> Callable[[Scene], None]:
    def damage(scene: Scene) -> None:
        import random

        scene.write(rel, random.Random(rel).randbytes(size))

    return damage


def _scramble_middle(rel: str) -> Callable[[Scene], None]:
    """Overwrite LMDB pages after the meta pages with garbage (bit rot in the data)."""

    def damage(scene: Scene) -> None:
        path = scene.path(rel)
        data = bytearray(path.read_bytes())
        for i in range(8192, min(len(data), 8192 + 16384)):
            data[i] = (data[i] * 31 + 7) & 0xFF
        path.write_bytes(bytes(data))

    return damage


def _nonutf8_names(scene: Scene) -> None:
    (scene.root / "inputs").joinpath(os.fsdecode(b"caf\xe9.csv")).write_text("x\n")


def _gitdir_out(scene: Scene) -> None:
    scene.write(".git/HEAD", "ref: refs/heads/main\n")
    _out_stage(".git")(scene)


def _garbage_manifest(scene: Scene) -> None:
    obj = _tracked_manifest(scene)
    os.chmod(obj, 0o644)
    obj.write_bytes(b"\x00\x01 not json")


def _escaping_manifest(scene: Scene) -> None:
    obj = _tracked_manifest(scene)
    os.chmod(obj, 0o644)
    obj.write_text(json.dumps({"../outside/victim.txt": "0" * 32}))


def _drop_member(scene: Scene) -> None:
    manifest = json.loads(_tracked_manifest(scene).read_text())
    member = sorted(manifest.values())[0]
    (scene.root / ".pivot/cache/files" / member[:2] / member[2:]).unlink()


def _tracked_manifest(scene: Scene) -> pathlib.Path:
    digest = json.loads(scene.path(PVT).read_text())["hash"]
    return scene.root / ".pivot/cache/files" / digest[:2] / digest[2:]


# Each: what is damaged, the command, exit status, the line it must print.
CASES: list[Case] = [
    # --- damaged lock records -------------------------------------------------------------
    Case(
        "lock-truncated",
        "state",
        _truncate(LOCK, 0.5),
        ("run",),
        1,
        r"lock file .*train\.lock.* cannot be read: .*delete it and re-run",
    ),
    Case(
        "lock-empty",
        "state",
        _write(LOCK, ""),
        ("status",),
        1,
        r"train\.lock.* cannot be read: it is not valid JSON",
    ),
    Case(
        "lock-binary-garbage",
        "state",
        _garbage(LOCK, 512),
        ("status",),
        1,
        r"train\.lock.* cannot be read",
    ),
    Case(
        "lock-a-list",
        "state",
        _write(LOCK, "[1, 2]"),
        ("run",),
        1,
        r"train\.lock.* not a JSON object",
    ),
    Case(
        "lock-wrong-schema",
        "state",
        _edit_lock(lambda r: r.update(schema_version=99)),
        ("status",),
        1,
        r"train\.lock.* schema_version is 99",
    ),
    Case(
        "lock-out-without-hash",
        "state",
        _edit_lock(lambda r: r["outs"]["train:model"].pop("hash")),
        ("run",),
        1,
        r"train\.lock.* output 'train:model' needs path, hash",
    ),
    Case(
        "lock-deep-json",
        "state",
        _write(LOCK, "[" * 100000 + "]" * 100000),
        ("status",),
        1,
        r"train\.lock.* cannot be read",
    ),
    Case(
        "lock-is-a-directory",
        "state",
        _all(_remove(LOCK), lambda s: s.path(LOCK).mkdir()),
        ("status",),
        1,
        r"train\.lock of stage 'train' cannot be read: Is a directory; remove it",
    ),
    Case(
        "lock-hash-not-a-digest",
        "state",
        _all(_edit_lock(_set_out("hash", "../../../victim")), _remove("models/model.txt")),
        ("checkout",),
        1,
        r"train\.lock .* has '\.\./\.\./\.\./victim', not a content digest; delete it",
    ),
    Case(
        "lock-dir-hash-not-a-digest",
        "state",
        _all(_edit_lock(_set_out("hash", "zz.dir")), _remove("models/model.txt")),
        ("checkout",),
        1,
        r"train\.lock .* has 'zz\.dir', not a content digest",
    ),
    # --- damaged state store (LMDB): an optimisation, rebuilt ----------------------------
    Case(
        "lmdb-garbage",
        "state",
        _garbage(f"{STATE}/data.mdb"),
        ("run",),
        0,
        r"state store \S*state\.lmdb was damaged .* state\.lmdb\.damaged and started a new one",
    ),
    Case(
        "lmdb-truncated",
        "state",
        _truncate(f"{STATE}/data.mdb", 0.3),
        ("status",),
        0,
        r"state store \S*state\.lmdb was damaged .* state\.lmdb\.damaged and started a new one",
    ),
    Case(
        "lmdb-bitrot",
        "state",
        _scramble_middle(f"{STATE}/data.mdb"),
        ("run",),
        0,
        r"state store \S*state\.lmdb was damaged|4 skipped",
    ),
    Case(
        "lmdb-is-a-file",
        "state",
        _state_file,
        ("run",),
        0,
        r"state store \S*state\.lmdb was damaged .* state\.lmdb\.damaged and started a new one",
    ),
    Case(
        "lmdb-lockfile-garbage",
        "state",
        _garbage(f"{STATE}/lock.mdb", 8192),
        ("status",),
        0,
        r"All 4 stages up to date",
    ),
    Case(
        "lmdb-empty-datafile",
        "state",
        _write(f"{STATE}/data.mdb", b""),
        ("run",),
        0,
        r"was damaged|4 skipped",
    ),
    # --- damaged cache -----------------------------------------------------------------
    Case(
        "cache-object-flipped",
        "cache",
        _flip_object("models/model.txt"),
        ("cache", "verify"),
        1,
        r"corrupt: \w+ \(quarantined",
        changes=(".pivot/cache",),
    ),
    Case(
        "cache-object-flipped-checkout",
        "cache",
        _all(_flip_object("models/model.txt"), _remove("models/model.txt")),
        ("checkout",),
        1,
        r"models/model\.txt.*corrupt.*(--repair|re-run)",
    ),
    Case(
        "cache-object-missing-checkout",
        "cache",
        _all(_drop_object("models/model.txt"), _remove("models/model.txt")),
        ("checkout",),
        1,
        r"models/model\.txt: cache object \w+ is missing \(`pivot pull` it, or re-run its stage: "
        + r"`pivot run --force train`\)",
    ),
    Case(
        "cache-object-missing-verify",
        "cache",
        _all(_drop_object("models/model.txt"), _remove("models/model.txt")),
        ("verify",),
        1,
        r"models/model\.txt",
    ),
    Case(
        "cache-object-missing-run-recaches",
        "cache",
        _drop_object("models/model.txt"),
        ("run",),
        0,
        r"skipped|ran",
        changes=(".pivot/cache",),
    ),
    Case(
        "cache-object-is-a-directory",
        "cache",
        _all(
            _drop_object("data/clean.txt"),
            lambda s: s.cache_object("data/clean.txt").mkdir(),
            _remove("data/clean.txt"),
        ),
        ("checkout",),
        1,
        r"data/clean\.txt|not in the local cache",
    ),
    Case(
        "cache-manifest-garbage",
        "cache",
        _all(_garbage_manifest, _remove("inputs")),
        ("checkout",),
        1,
        r"inputs: cache object \w+\.dir is corrupt; run `pivot cache verify`",
    ),
    Case(
        "cache-manifest-escapes",
        "cache",
        _all(_escaping_manifest, _remove("inputs")),
        ("checkout",),
        1,
        r"inputs: cache object \w+\.dir is corrupt; run `pivot cache verify`",
    ),
    Case(
        "cache-dir-member-missing",
        "cache",
        _drop_member,
        ("cache", "verify"),
        1,
        r"incomplete directory: \w+\.dir",
        changes=(".pivot/cache",),
    ),
    Case(
        "cache-root-is-a-file",
        "cache",
        _all(_remove(".pivot/cache"), _write(".pivot/cache", "x"), _remove("eval.txt")),
        ("checkout",),
        1,
        r"eval\.txt: cache object \w+ is missing",
    ),
    # --- leftovers of a killed run -----------------------------------------------------
    Case(
        "leftover-output-temp",
        "leftovers",
        _all(_leftover_holder, _write("models/.model.txt.pivot-new-0123456789ab", "half")),
        ("run",),
        0,
        r"pivot run \(pid 999999\) did not finish; removed the 1 temp file",
    ),
    Case(
        "leftover-directory-aside",
        "leftovers",
        _all(_leftover_holder, _write("data/.clean.txt.pivot-old-0123456789ab/x", "old")),
        ("checkout",),
        0,
        r"did not finish; removed the 1 temp file",
    ),
    Case(
        "leftover-cache-temp",
        "leftovers",
        _all(_leftover_holder, _write(".pivot/cache/files/00/.1.pivot-tmp-0123456789ab", "h")),
        ("commit",),
        0,
        r"did not finish; removed the 1 temp file",
    ),
    Case(
        "leftover-lock-record-temp",
        "leftovers",
        _all(_leftover_holder, _write(".pivot/stages/.train.lock.pivot-tmp-0123456789ab", "{")),
        ("track", "inputs"),
        0,
        r"did not finish; removed the 1 temp file",
    ),
    Case(
        "leftover-torn-holder",
        "leftovers",
        _all(
            _write(".pivot/.lock.holder.abc.pivot-tmp", '{"comm'),
            _write(".pivot/cache/files/00/.2.pivot-recv-0123456789ab", "h"),
        ),
        ("run",),
        0,
        r"an earlier pivot command did not finish; removed the 1 temp file",
    ),
    Case(
        "leftover-garbage-holder",
        "leftovers",
        _all(_garbage(".pivot/lock.holder", 64), _write(".x.txt.pivot-copy", "h")),
        ("run",),
        0,
        r"an earlier pivot command did not finish; removed the 1 temp file",
    ),
    # --- hostile lock-record and manifest paths: nothing outside is touched ----------------
    Case(
        "record-path-absolute",
        "paths",
        _all(_abs_record, _remove("models/model.txt")),
        ("checkout",),
        0,
        r"restored \(\w+\): train:model → models/model\.txt",
        changes=("models/model.txt",),
    ),
    Case(
        "record-path-dotdot",
        "paths",
        _all(_edit_lock(_set_out("path", "../outside/victim.txt")), _remove("models/model.txt")),
        ("checkout",),
        0,
        r"restored \(\w+\): train:model → models/model\.txt",
        changes=("models/model.txt",),
    ),
    Case(
        "record-path-through-symlink",
        "paths",
        _all(
            _symlink("escape", lambda s: s.outside),
            _edit_lock(_set_out("path", "escape/victim.txt")),
            _remove("models/model.txt"),
        ),
        ("checkout", "--force"),
        0,
        r"restored \(\w+\): train:model → models/model\.txt",
        changes=("models/model.txt",),
    ),
    Case(
        "output-declared-absolute",
        "paths",
        _abs_victim_out,
        ("run",),
        1,
        r"output '\S+/victim\.txt' is an absolute path; outputs must be relative",
    ),
    Case(
        "output-declared-dotdot",
        "paths",
        _out_stage("../outside/victim.txt"),
        ("run",),
        1,
        r"outside the project",
    ),
    Case(
        "output-through-symlinked-dir",
        "paths",
        _all(_symlink("escape", lambda s: s.outside), _out_stage("escape/victim.txt")),
        ("run",),
        1,
        r"escape/victim\.txt.*symlink.*outside the project",
    ),
    Case(
        "output-replaced-by-outside-symlink",
        "paths",
        _all(_symlink("eval.txt", _victim)),
        ("checkout", "--force"),
        0,
        r"restored \(\w+\): evaluate → eval\.txt",
        changes=("eval.txt",),
    ),
    Case(
        "output-is-dot-git",
        "paths",
        _gitdir_out,
        ("run",),
        1,
        r"output '\.git' is inside '\.git', git's repository, .*choose a path",
    ),
    Case(
        "output-inside-pivot-dir",
        "paths",
        _out_stage(".pivot/cache/evil.txt"),
        ("run",),
        1,
        r"'\.pivot/cache/evil\.txt'.*Pivot's own",
    ),
    Case(
        "record-path-absolute-force",
        "paths",
        _abs_record,
        ("checkout", "--force"),
        0,
        r"5 already up to date",
    ),
    Case(
        "track-dot-git",
        "paths",
        _write(".git/HEAD", "x"),
        ("track", ".git"),
        1,
        r"cannot track '\.git': '\.git' is git's repository",
    ),
    Case(
        "track-outside",
        "paths",
        _nothing,
        ("track", "../outside/victim.txt"),
        1,
        r"outside the project",
    ),
    Case(
        "track-absolute-outside",
        "paths",
        _nothing,
        ("track", "/etc/hostname"),
        1,
        r"outside the project",
    ),
    Case(
        "checkout-outside-target",
        "paths",
        _nothing,
        ("checkout", "../outside/victim.txt"),
        1,
        r"outside the project|not a stage output",
    ),
    Case(
        "pvt-path-escapes",
        "paths",
        _pvt_data_removed("path", "../outside/victim.txt"),
        ("checkout",),
        1,
        r"inputs\.pvt.* does not name the file beside it",
    ),
    Case(
        "pvt-hash-not-a-digest",
        "paths",
        _pvt_data_removed("hash", "../../etc"),
        ("checkout",),
        1,
        r"inputs\.pvt.*not a content digest",
    ),
    Case(
        "pvt-named-dotdot",
        "paths",
        _write("..pvt", '{"path": "..", "hash": "ab", "size": 1}'),
        ("status",),
        1,
        r"manifest .*/\.\.pvt cannot be read: .*; delete it",
    ),
    # --- YAML bombs and huge files ------------------------------------------------------
    Case(
        "pivot-yaml-billion-laughs",
        "yaml",
        _yaml_project(BILLION_LAUGHS),
        ("status",),
        1,
        r"pivot\.yaml.*alias",
    ),
    Case(
        "pivot-yaml-deep-nesting", "yaml", _yaml_project(DEEP), ("status",), 1, r"pivot\.yaml.*nest"
    ),
    Case(
        "pivot-yaml-deep-mapping",
        "yaml",
        _yaml_project(DEEP_MAP),
        ("list",),
        1,
        r"pivot\.yaml.*nest",
    ),
    Case(
        "pivot-yaml-huge",
        "yaml",
        _yaml_project(HUGE_YAML),
        ("status",),
        1,
        r"pivot\.yaml.*too large",
    ),
    Case(
        "params-yaml-billion-laughs",
        "yaml",
        _write("params.yaml", BILLION_LAUGHS),
        ("run",),
        1,
        r"params\.yaml.*alias",
    ),
    Case(
        "params-yaml-deep-nesting",
        "yaml",
        _write("params.yaml", DEEP),
        ("status",),
        1,
        r"params\.yaml.*nest",
    ),
    Case(
        "params-yaml-huge",
        "yaml",
        _write("params.yaml", HUGE_YAML),
        ("status",),
        1,
        r"params\.yaml.*too large",
    ),
    Case(
        "config-billion-laughs",
        "yaml",
        _write(".pivot/config.yaml", BILLION_LAUGHS),
        ("status",),
        1,
        r"config\.yaml.*alias",
    ),
    Case(
        "config-deep-nesting",
        "yaml",
        _write(".pivot/config.yaml", DEEP),
        ("run",),
        1,
        r"config\.yaml.*nest",
    ),
    Case(
        "config-local-billion-laughs",
        "yaml",
        _write(".pivot/config.local.yaml", BILLION_LAUGHS),
        ("config", "list"),
        1,
        r"config\.local\.yaml.*alias",
    ),
    Case(
        "config-huge",
        "yaml",
        _write(".pivot/config.yaml", HUGE_YAML),
        ("status",),
        1,
        r"config\.yaml.*too large",
    ),
    Case(
        "pvt-huge",
        "yaml",
        _write(PVT, "{" + " " * 20_000_000 + "}"),
        ("status",),
        1,
        r"inputs\.pvt.*too large",
    ),
    # --- special files as dependencies: never hang, never read without bound -------------
    Case(
        "fifo-dep-run", "special", _fifo("raw.txt"), ("run",), 1, r"raw\.txt.* not a regular file"
    ),
    Case(
        "fifo-dep-status",
        "special",
        _fifo("raw.txt"),
        ("status",),
        1,
        r"raw\.txt.* not a regular file",
    ),
    Case(
        "dev-zero-dep",
        "special",
        _symlink("raw.txt", lambda _scene: pathlib.Path("/dev/zero")),
        ("run",),
        1,
        r"raw\.txt.* not a regular file",
    ),
    Case(
        "fifo-track",
        "special",
        _fifo("inputs/pipe.csv"),
        ("track", "inputs"),
        1,
        r"inputs/pipe\.csv.* not a regular file",
    ),
    Case(
        "fifo-as-tracked-file",
        "special",
        _all(_remove("inputs"), _fifo("inputs")),
        ("status",),
        1,
        r"inputs.* not a regular file",
    ),
    # --- bad encodings -------------------------------------------------------------------
    Case(
        "pivot-yaml-latin1",
        "encoding",
        _yaml_project(LATIN1),
        ("status",),
        1,
        r"pivot\.yaml.*(UTF-8|utf-8)",
    ),
    Case(
        "params-yaml-latin1",
        "encoding",
        _write("params.yaml", b"lr: caf\xe9\n"),
        ("status",),
        1,
        r"params\.yaml.*(UTF-8|utf-8)",
    ),
    Case(
        "config-latin1",
        "encoding",
        _write(".pivot/config.yaml", b"x: \xff\n"),
        ("status",),
        1,
        r"config\.yaml.*(UTF-8|utf-8)",
    ),
    Case(
        "pvt-latin1",
        "encoding",
        _write(PVT, b'{"path": "caf\xe9"}'),
        ("status",),
        1,
        r"inputs\.pvt.*cannot be read",
    ),
    Case(
        "pivotignore-latin1",
        "encoding",
        _write(".pivotignore", b"caf\xe9/\n"),
        ("status",),
        1,
        r"\.pivotignore.*(UTF-8|utf-8)",
    ),
    Case(
        "nonutf8-names-in-tracked-dir",
        "encoding",
        _nonutf8_names,
        ("track", "inputs"),
        0,
        r"updated: inputs \(18 B, 3 files\)",
        changes=(PVT,),
    ),
    Case(
        "stage-module-latin1",
        "encoding",
        _write("stages.py", b"x = 'caf\xe9'\n"),
        ("status",),
        1,
        r"stages\.py.*(UTF-8|utf-8)",
    ),
    # --- permission denied (root's override dropped) -------------------------------------
    Case(
        "unreadable-lock",
        "permissions",
        _chmod(LOCK, 0),
        ("status",),
        1,
        r"train\.lock.*[Pp]ermission denied",
        needs="nonroot",
    ),
    Case(
        "unwritable-stages-dir",
        "permissions",
        _all(_chmod(".pivot/stages", 0o555), _write("raw.txt", "changed\n")),
        ("run",),
        1,
        r"Permission denied on \S+/\.pivot/stages; check its permissions",
        needs="nonroot",
        changes=(
            "data/clean.txt",
            "models",
            "eval.txt",
            "other.txt",
            "metrics.json",
            ".pivot/cache",
        ),
    ),
    Case(
        "read-only-cache",
        "permissions",
        _all(_chmod(".pivot/cache/files", 0o555), _write("raw.txt", "changed\n")),
        ("run",),
        1,
        r"cannot hash or cache output 'prepare': Permission denied on \S+/\.pivot/cache/files",
        needs="nonroot",
        changes=("data/clean.txt", "models", "eval.txt", "other.txt", "metrics.json"),
    ),
    Case(
        "unreadable-dep",
        "permissions",
        _chmod("raw.txt", 0),
        ("run",),
        1,
        r"Permission denied on \S+/raw\.txt; check its permissions",
        needs="nonroot",
    ),
    Case(
        "unwritable-output-dir",
        "permissions",
        _all(_chmod("models", 0o555), _remove("models/model.txt")),
        ("checkout",),
        1,
        r"Permission denied on \S+/models; check its permissions",
        needs="nonroot",
    ),
    Case(
        "unreadable-pipeline",
        "permissions",
        _chmod("pipeline.py", 0),
        ("status",),
        1,
        r"pipeline\.py.*[Pp]ermission denied",
        needs="nonroot",
    ),
    # --- disk full ---------------------------------------------------------------------
    Case(
        "file-size-limit-track",
        "disk",
        _huge_file("inputs/big.bin", 8),
        ("track", "inputs"),
        1,
        r"File too large on \S+/inputs/big\.bin; the file exceeds the size limit",
        needs="fsize",
    ),
    Case(
        "disk-full-run",
        "disk",
        _nothing,
        ("run",),
        1,
        r"cannot save output 'prepare' to data/clean\.txt .*No space left on device",
        changes=("calls.log", "data/clean.txt"),
        needs="mount",
    ),
]
