from pivot.domain import change, lock, manifest

CODE = manifest.CodeManifest(
    entries={"stage:m.train": "aaa", "func:m.helper": "bbb"},
    sites={
        "func:m.helper": manifest.Site(
            manifest.EntryKind.FUNCTION, "m.helper", "m.py", 12, ("train", "helper")
        )
    },
)


def _record(**overrides: object) -> lock.LockRecord:
    record = lock.LockRecord(
        schema_version=lock.SCHEMA_VERSION,
        stage="train",
        code=dict(CODE.entries),
        params={"lr": 0.1},
        deps={"data.csv": "d1"},
        outs={
            "train": lock.OutRecord(path="model.pkl", hash="o1", kind="out", cached=True),
        },
    )
    record.update(overrides)  # pyright: ignore[reportCallIssue, reportArgumentType]
    return record


def _observe(
    *,
    code: manifest.CodeManifest = CODE,
    params: dict[str, object] | None = None,
    deps: dict[str, str | None] | None = None,
    workspace: str | None = "o1",
    in_cache: bool = True,
) -> change.Observation:
    return change.Observation(
        code=code,
        params=params if params is not None else {"lr": 0.1},
        deps=deps if deps is not None else {"data.csv": "d1"},
        outs={"train": "model.pkl"},
        outputs={"train": change.OutputObservation("model.pkl", workspace, in_cache)},
    )


def _kinds(decision: change.Decision) -> list[change.ReasonKind]:
    return [r.kind for r in decision.reasons]


def test_unchanged_stage_is_skipped() -> None:
    decision = change.decide(_record(), _observe())

    assert decision.action is change.Action.SKIP
    assert decision.reasons == ()


def test_never_run_and_forced() -> None:
    assert _kinds(change.decide(None, _observe())) == [change.ReasonKind.NEVER_RUN]
    assert _kinds(change.decide(_record(), _observe(), force=True)) == [change.ReasonKind.FORCED]


def test_changed_helper_names_entry_and_call_path() -> None:
    code = manifest.CodeManifest(
        entries={"stage:m.train": "aaa", "func:m.helper": "ccc"}, sites=CODE.sites
    )

    decision = change.decide(_record(), _observe(code=code))

    assert decision.action is change.Action.RUN
    (reason,) = decision.reasons
    assert reason.describe() == "code changed: func:m.helper (train → helper: m.py:12)"


def test_params_change_shows_old_and_new() -> None:
    decision = change.decide(_record(), _observe(params={"lr": 0.2}))

    assert [r.describe() for r in decision.reasons] == ["param lr changed: 0.1 → 0.2"]


def test_dep_changed_and_missing() -> None:
    changed = change.decide(_record(), _observe(deps={"data.csv": "d2"}))
    missing = change.decide(_record(), _observe(deps={"data.csv": None}))

    assert [r.describe() for r in changed.reasons] == ["dep data.csv changed"]
    assert _kinds(missing) == [change.ReasonKind.DEP_MISSING]


def test_missing_output_in_cache_is_restored_not_rerun() -> None:
    decision = change.decide(_record(), _observe(workspace=None))

    assert decision.action is change.Action.RESTORE
    assert decision.restore == ("train",)


def test_edited_output_is_restored_from_cache() -> None:
    decision = change.decide(_record(), _observe(workspace="edited"))

    assert decision.action is change.Action.RESTORE


def test_missing_output_not_in_cache_reruns() -> None:
    decision = change.decide(_record(), _observe(workspace=None, in_cache=False))

    assert decision.action is change.Action.RUN
    assert [r.describe() for r in decision.reasons] == ["output train missing and not in the cache"]


def test_changed_output_set_reruns() -> None:
    now = _observe()
    now = change.Observation(now.code, now.params, now.deps, {"train": "other.pkl"}, now.outputs)

    assert _kinds(change.decide(_record(), now)) == [change.ReasonKind.OUTS_CHANGED]


def test_upstream_stale_makes_a_skipped_or_restorable_stage_run() -> None:
    for own in (change.Decision(change.Action.SKIP), change.Decision(change.Action.RESTORE)):
        decided = change.with_upstream(own, ["prep", "fetch"])
        assert decided.action is change.Action.RUN
        assert [(r.kind, r.subject) for r in decided.reasons] == [
            (change.ReasonKind.UPSTREAM_STALE, "fetch"),
            (change.ReasonKind.UPSTREAM_STALE, "prep"),
        ]


def test_upstream_stale_adds_to_a_stage_that_runs_anyway() -> None:
    own = change.Decision(change.Action.RUN, (change.Reason(change.ReasonKind.NEVER_RUN),))
    decided = change.with_upstream(own, ["prep"])
    assert [r.kind for r in decided.reasons] == [
        change.ReasonKind.NEVER_RUN,
        change.ReasonKind.UPSTREAM_STALE,
    ]


def test_no_stale_upstream_keeps_the_stage_decision() -> None:
    own = change.Decision(change.Action.RESTORE, restore=("train",))
    assert change.with_upstream(own, []) == own
