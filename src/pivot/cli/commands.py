import dataclasses

SUMMARY = "Python-first pipelines for data and ML: change your code, Pivot knows what to run."


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    name: str
    target: str
    """`module:attribute` of the command function or sub-app, imported only when it runs."""
    help: str


COMMANDS = (
    Command("init", "pivot.cli.init_cmd:init", "Make this directory a Pivot project."),
    Command("run", "pivot.cli.run_cmd:run", "Run stale stages (--dry-run shows why)."),
    Command("repro", "pivot.cli.run_cmd:run", "Alias of `pivot run`."),
    Command("status", "pivot.cli.status_cmd:status", "Show stale stages and why."),
    Command("list", "pivot.cli.list_cmd:list_stages", "List stages, deps and outputs."),
    Command("commit", "pivot.cli.commit_cmd:commit", "Record the workspace as lock records."),
    Command("track", "pivot.cli.track_cmd:track", "Version data files: write PATH.pvt."),
    Command("checkout", "pivot.cli.checkout_cmd:checkout", "Restore outputs and data from cache."),
    Command("verify", "pivot.cli.verify_cmd:verify", "CI gate: stale stages, lost data."),
    Command("gc", "pivot.cli.gc_cmd:gc", "Delete unreferenced cache objects."),
    Command("remote", "pivot.cli.remote_cmd:remote_app", "Configure remote caches."),
    Command("push", "pivot.cli.transfer_cmd:push", "Upload data and run cache to a remote."),
    Command("fetch", "pivot.cli.transfer_cmd:fetch", "Download data into the local cache."),
    Command("pull", "pivot.cli.transfer_cmd:pull", "Fetch, then check out into the workspace."),
    Command("cache", "pivot.cli.cache_cmd:cache_app", "Inspect and repair the cache."),
    Command("fsck", "pivot.cli.cache_cmd:verify", "Alias of `pivot cache verify`."),
    Command(
        "fingerprint", "pivot.cli.fingerprint_cmd:fingerprint", "Show a stage's code manifest."
    ),
    Command("config", "pivot.cli.config_cmd:config_app", "Show and change settings."),
    Command("dag", "pivot.cli.dag_cmd:dag", "Draw the pipeline graph, stale stages marked."),
    Command(
        "diff", "pivot.cli.diff_cmd:diff", "Data diff of CSV/JSON/Parquet outputs vs a revision."
    ),
    Command("history", "pivot.cli.history_cmd:history_", "Recorded runs; --compare: experiments."),
    Command("ui", "pivot.cli.ui_cmd:ui", "Live web page: DAG, run state, why, plots."),
    Command("show", "pivot.cli.history_cmd:show", "One recorded run: stages, times, reasons."),
    Command("params", "pivot.cli.params_cmd:params_app", "Show effective stage params."),
    Command("metrics", "pivot.cli.metrics_cmd:metrics_app", "Show and compare metrics."),
    Command("plots", "pivot.cli.plots_cmd:plots_app", "Render plots to an offline HTML page."),
    Command("get", "pivot.cli.get_cmd:get", "Fetch an output or tracked file at a revision."),
    Command("schema", "pivot.cli.schema_cmd:schema", "Print pivot.yaml's JSON Schema."),
    Command("import-dvc", "pivot.cli.import_dvc_cmd:import_dvc", "Convert dvc.yaml to pivot.yaml."),
    Command("export", "pivot.cli.export_cmd:export", "Write a dvc.yaml that DVC can run."),
    Command("exec", "pivot.cli.exec_cmd:exec_stage", "Run one stage now, as `pivot run` would."),
    Command(
        "completion", "pivot.cli.completion_cmd:completion", "Print a shell completion script."
    ),
)

OPTIONS = (
    ("--quiet, -q", "Print only errors (and --json output); no progress."),
    ("--verbose, -v", "Print more detail."),
    ("--debug", "Show the full traceback of an error."),
    ("--help, -h", "Show this message and exit."),
    ("--version", "Show the version and exit."),
)


def help_text() -> str:
    """Top-level help, printed without importing cyclopts (so `pivot --help` starts fast)."""
    width = max(len(c.name) for c in COMMANDS) + 2
    option_width = max(len(o) for o, _ in OPTIONS) + 2
    lines = [
        "Usage: pivot [-q|-v] [--debug] COMMAND [OPTIONS]",
        "",
        SUMMARY,
        "",
        "Commands:",
        *(f"  {c.name:<{width}}{c.help}" for c in COMMANDS),
        "",
        "Options:",
        *(f"  {o:<{option_width}}{text}" for o, text in OPTIONS),
        "",
        "Run `pivot COMMAND --help` for a command's options.",
    ]
    return "\n".join(lines) + "\n"
