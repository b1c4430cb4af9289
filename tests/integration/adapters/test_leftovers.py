import pathlib

from pivot.adapters.workspace import leftovers


def test_sweep_removes_every_pivot_temp_name_and_nothing_else(tmp_path: pathlib.Path) -> None:
    temps = [
        "data/.big.bin.pivot-new-0a1b2c3d4e5f",
        "data/.shards.pivot-old-0a1b2c3d4e5f/part.txt",
        ".pivot/cache/files/ab/.cdef.pivot-tmp-0a1b2c3d4e5f",
        ".pivot/cache/files/ab/.cdef.pivot-recv-0a1b2c3d4e5f",
        ".pivot/stages/.train.lock.pivot-tmp-0a1b2c3d4e5f",
        "models/.model.pkl.pivot-copy",
    ]
    kept = [
        "data/big.bin",
        "data/.hidden",
        "notes.pivot-tmp",
        ".pivot/cache/files/ab/cdef",
        ".git/.x.pivot-tmp-00",
        ".pivot/state.lmdb/.y.pivot-tmp-00",
    ]
    for rel in temps + kept:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / ".z.pivot-tmp-00").write_text("not ours")
    (tmp_path / "link").symlink_to(outside)

    removed = leftovers.sweep(tmp_path)

    top_level = {
        p.split("/.shards")[0] + "/.shards.pivot-old-0a1b2c3d4e5f" if "shards" in p else p
        for p in temps
    }
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == sorted(top_level)
    assert all(not (tmp_path / rel).exists() for rel in temps)
    assert all((tmp_path / rel).read_text() == rel for rel in kept)
    assert (outside / ".z.pivot-tmp-00").exists()
