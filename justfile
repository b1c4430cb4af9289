set shell := ["bash", "-euo", "pipefail", "-c"]
export UV_PYTHON_DOWNLOADS := "never"

# List the recipes
default:
    @just --list

# Create the virtual environment with every dependency
sync:
    uv sync --locked

# Run the test suite (what CI runs)
test *ARGS: sync
    uv run pytest -n auto {{ARGS}}

# Formatting, lint, types and layering (import-linter contracts)
lint: sync
    uv run ruff format --check .
    uv run ruff check .
    uv run basedpyright
    uv run lint-imports

# Everything CI runs: lint, then the test suite
check: lint test

# Rewrite files with the formatter and safe lint fixes
fmt: sync
    uv run ruff format .
    uv run ruff check --fix .

# Run the quickstart example twice: everything runs, then everything is skipped
demo: sync
    cd examples/quickstart && rm -rf .pivot/cache .pivot/state.lmdb .pivot/stages data models metrics.json
    cd examples/quickstart && uv run pivot run
    cd examples/quickstart && uv run pivot run
    cd examples/quickstart && uv run pivot status

# Benchmarks: Pivot side by side with DVC and the no-tool lower bound
bench *ARGS: sync
    uv run python -m benchmarks {{ARGS}}
