# omnibase's tasks. `just --list` shows them.

py := if path_exists(".venv/bin/python") == "true" { ".venv/bin/python" } else { "python3" }

# Everything CI checks: the test suite (tests, docs examples, type cases) and mypy --strict.
test: typecheck
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" {{py}} -m pytest -q

# mypy --strict on the package, with the returns plugin (configured in pyproject.toml).
typecheck:
    {{py}} -m mypy --strict omnibase

# Same as typecheck: the project's lint is the type checker plus the tests of its examples.
lint: typecheck

# The type contract alone (pytest-mypy-plugins cases).
typesafety:
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" {{py}} -m pytest -q typesafety

# The documentation site (mkdocs + mkdocstrings), warnings as errors; written to site/.
docs:
    {{py}} -m pip install -q -e '.[docs]'
    {{py}} -m mkdocs build --strict

# Benchmarks: each prints our figures next to the peers' from one run, as ratios.
bench:
    {{py}} -m pip install -q -e '.[bench]'
    {{py}} bench/bench_core.py
    {{py}} bench/bench_async.py
    {{py}} bench/bench_precommit.py
    {{py}} bench/bench_startup.py
    {{py}} bench/bench_process.py
    {{py}} bench/bench_registry.py
    {{py}} bench/bench_formats.py
    {{py}} bench/bench_dask.py
    {{py}} bench/bench_progress.py

# Planted bugs in the core modules, one at a time: the tests must catch every one (prints the score).
mutate *names:
    {{py}} tools/mutate.py {{names}}
