import json
import os
import pathlib
import pickle
import shlex
import subprocess
import sys

import cloudpickle
import pytest

from pivot.adapters.discovery import shell_command, yaml_source
from pivot.domain import loader, specs
from tests.integration.discovery import project


def _load(root: pathlib.Path, pivot_yaml: str):
    project.write(root, {"pivot.yaml": pivot_yaml})
    return yaml_source.YamlPipelineSource().load(root)


def test_cmd_stage_bindings_params_and_command(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          fit:
            cmd: python fit.py --lr ${params.lr} --out ${out}
            deps: [fit.py, data/train.csv]
            outs: [models/model.pkl]
            metrics: [metrics.json]
            plots: [plots/loss.csv]
            params: {lr: 0.1, epochs: 3, tag: base}
        vars: [{out: models}]
        """,
    )
    st = pipe.get("fit")
    root = tmp_path.resolve()
    assert [(d.name, d.paths) for d in st.deps] == [
        ("fit.py", (root / "fit.py",)),
        ("data/train.csv", (root / "data/train.csv",)),
    ]
    assert all(isinstance(d.loader, loader.PathOnly) for d in st.deps)
    assert [(o.key, o.kind) for o in st.outs] == [
        ("models/model.pkl", specs.OutKind.OUT),
        ("metrics.json", specs.OutKind.METRIC),
        ("plots/loss.csv", specs.OutKind.PLOT),
    ]
    assert not st.outs[1].cached
    assert st.params_dict() == {"lr": 0.1, "epochs": 3, "tag": "base"}
    assert st.params_arg is None
    assert isinstance(st.func, shell_command.ShellCommand)
    assert st.func.command == "python fit.py --lr 0.1 --out models"
    assert st.func.template == "python fit.py --lr ${params.lr} --out models"


def test_single_output_has_no_key_and_mapping_forms_name_things(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          one:
            cmd: touch out.txt
            outs: [out.txt]
          named:
            cmd: "true"
            deps: {script: run.sh}
            outs: {model: m.pkl, report: r.txt}
        """,
    )
    assert [o.key for o in pipe.get("one").outs] == [None]
    named = pipe.get("named")
    assert [d.name for d in named.deps] == ["script"]
    assert [o.key for o in named.outs] == ["model", "report"]


def test_cmd_stage_runs_in_the_working_directory_and_returns_its_outputs(
    tmp_path: pathlib.Path,
) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          shout:
            cmd:
              - mkdir -p out
              - tr a-z A-Z < in.txt > out/loud.txt
            deps: [in.txt]
            outs: [out/loud.txt]
        """,
    )
    (tmp_path / "in.txt").write_text("hello\n")
    st = pipe.get("shout")
    result = project.run_in(tmp_path, st.func, **{"in.txt": tmp_path / "in.txt"})
    assert result == pathlib.Path("out/loud.txt")
    assert (tmp_path / "out/loud.txt").read_text() == "HELLO\n"


def test_several_outputs_are_returned_as_a_mapping(tmp_path: pathlib.Path) -> None:
    command = shell_command.ShellCommand.create("two", "touch a b", {}, (("a", "a"), ("b", "b")))
    assert project.run_in(tmp_path, command) == {"a": pathlib.Path("a"), "b": pathlib.Path("b")}
    assert (tmp_path / "a").exists()
    assert (tmp_path / "b").exists()


def test_failing_command_reports_status_and_stderr_tail(tmp_path: pathlib.Path) -> None:
    command = shell_command.ShellCommand.create(
        "boom", "echo first >&2; echo 'bad thing' >&2; exit 3", {}
    )
    with pytest.raises(shell_command.CommandFailedError) as caught:
        project.run_in(tmp_path, command)
    message = str(caught.value)
    assert "stage 'boom': command exited with status 3" in message
    assert "bad thing" in message
    # Crosses process boundaries as a stage failure.
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def test_command_output_goes_through_python_streams(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.run_in(tmp_path, shell_command.ShellCommand.create("say", "echo out; echo err >&2", {}))
    captured = capsys.readouterr()
    assert captured.out == "out\n"
    assert captured.err == "err\n"


def test_escaped_reference_reaches_the_shell(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          env:
            cmd: echo \\${PIVOT_TEST_VALUE} > env.txt
            outs: [env.txt]
        """,
    )
    func = pipe.get("env").func
    assert isinstance(func, shell_command.ShellCommand)
    assert func.command == "echo ${PIVOT_TEST_VALUE} > env.txt"
    os.environ["PIVOT_TEST_VALUE"] = "from-shell"
    try:
        project.run_in(tmp_path, func)
    finally:
        del os.environ["PIVOT_TEST_VALUE"]
    assert (tmp_path / "env.txt").read_text() == "from-shell\n"


def test_fingerprint_covers_the_command_not_param_values() -> None:
    base = shell_command.ShellCommand.create("fit", "fit --lr ${params.lr}", {"lr": 0.1})
    changed_param = base.with_params({"lr": 0.2})
    changed_text = shell_command.ShellCommand.create("fit", "fit -v --lr ${params.lr}", {"lr": 0.1})
    assert changed_param.command == "fit --lr 0.2"
    assert list(base.__pivot_fingerprint__()) == ["cmd:fit"]
    assert base.__pivot_fingerprint__() == changed_param.__pivot_fingerprint__()
    assert base.__pivot_fingerprint__() != changed_text.__pivot_fingerprint__()


def test_cmd_stage_and_its_params_survive_pickling(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        "stages:\n  fit:\n    cmd: echo ${params.lr} > o.txt\n    outs: [o.txt]\n"
        + "    params: {lr: 0.5}\n",
    )
    st = pipe.get("fit")
    assert pickle.loads(pickle.dumps(st.func)) == st.func
    blob = cloudpickle.dumps((st.func, st.params))
    # A fresh interpreter (like a worker) can load and run it.
    script = (
        "import pickle, sys; func, params = pickle.loads(sys.stdin.buffer.read()); "
        + "print(func(), params.model_dump())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=blob,
        capture_output=True,
        cwd=tmp_path,
        check=True,
    )
    assert done.stdout.decode().strip() == "o.txt {'lr': 0.5}"
    assert (tmp_path / "o.txt").read_text() == "0.5\n"


def test_cmd_params_are_typed_from_their_declared_values(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        "stages:\n  fit:\n    cmd: 'true'\n    params: {lr: 0.5, n: 2, on: true, name: x}\n",
    )
    params = pipe.get("fit").params
    assert params is not None
    fields = type(params).model_fields
    assert fields["lr"].annotation is float
    assert fields["on"].annotation is bool
    assert fields["name"].annotation is str


def test_substituted_values_are_shell_quoted(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          fit:
            cmd: python fit.py ${params.tag} ${label} plain-${params.n}
            params: {tag: "x; touch pwned", n: 3}
        vars: [{label: "$(touch pwned) it's"}]
        """,
    )
    func = pipe.get("fit").func
    assert isinstance(func, shell_command.ShellCommand)

    assert shlex.split(func.command) == [
        "python",
        "fit.py",
        "x; touch pwned",
        "$(touch pwned) it's",
        "plain-3",
    ]
    assert func.with_params({"tag": "a && b", "n": 4}).command.endswith(
        "'a && b' " + shlex.quote("$(touch pwned) it's") + " plain-4"
    )


@pytest.mark.parametrize(
    ("template", "shell"),
    [
        ("python train.py --lr ${params.lr} data.csv", False),
        ("python 'my script.py' \"a b\"", False),
        ("python train.py > out.txt", True),
        ("python a.py | tee log", True),
        ("python a.py && python b.py", True),
        ("python a.py; python b.py", True),
        ("python a.py data/*.csv", True),
        ("SEED=1 python a.py", True),
        ("cd src && python a.py", True),
        ("cd src", True),
        ("echo $HOME", True),
        ("echo \\${HOME}", True),
        ("python a.py ~/data", True),
        ("python a.py # comment", True),
        ("python a.py 'unterminated", True),
        ("", True),
    ],
)
def test_a_command_needs_the_shell_only_for_shell_syntax(template: str, shell: bool) -> None:
    assert shell_command.needs_shell(template) is shell


def test_a_simple_command_is_spawned_without_a_shell(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "args.py"
    script.write_text("import json, sys\nopen('args.json', 'w').write(json.dumps(sys.argv[1:]))\n")
    command = shell_command.ShellCommand.create(
        "args", f"{sys.executable} args.py ${{params.a}} '*' $$", {"a": "x; touch pwned"}
    )

    project.run_in(tmp_path, command)

    assert not command.direct
    simple = shell_command.ShellCommand.create(
        "args", f"{sys.executable} args.py ${{params.a}} '[x]'", {"a": "x; touch pwned"}
    )
    assert simple.direct
    project.run_in(tmp_path, simple)
    assert json.loads((tmp_path / "args.json").read_text()) == ["x; touch pwned", "[x]"]
    assert not (tmp_path / "pwned").exists()


def test_a_missing_program_is_one_clear_error(tmp_path: pathlib.Path) -> None:
    command = shell_command.ShellCommand.create("nope", "pivot-no-such-program --flag", {})

    with pytest.raises(
        shell_command.CommandFailedError, match="stage 'nope': cannot run 'pivot-no-such-program'"
    ):
        project.run_in(tmp_path, command)
