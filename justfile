# omnibase's tasks. `just --list` shows them.

py := if path_exists(".venv/bin/python") == "true" { ".venv/bin/python" } else { "python3" }

# Everything CI checks: the test suite (tests, docs examples, type cases) and mypy --strict.
# On every core (pytest-xdist); `just test -n 0` runs it in one process. Extra arguments go to pytest.
test *args: typecheck
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" {{py}} -m pytest -q -n auto --dist worksteal {{args}}

# The randomized search: hypothesis at random with more examples, and the `slow` tests
# (long fuzzers and property runs) that `just test` skips. Run it before each stop.
fuzz *args:
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" OMNIBASE_SLOW=1 {{py}} -m pytest -q -n auto --dist worksteal {{args}}

# mypy --strict on the package, with the returns plugin (configured in pyproject.toml).
typecheck:
    {{py}} -m mypy --strict omnibase

# Same as typecheck: the project's lint is the type checker plus the tests of its examples.
lint: typecheck

# The type contract alone (pytest-mypy-plugins cases).
typesafety:
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" {{py}} -m pytest -q -n auto typesafety

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

# Mutation testing (mutmut): generated bugs in the named files or folders of omnibase/ (all of
# it when none is named), each run against the tests that call it; prints each module's score
# and every mutant not caught (docs/mutation.md). `just mutate --resume PATH` keeps earlier results.
mutate *paths:
    {{py}} -m pip install -q -e '.[mutate]'
    PATH="{{justfile_directory()}}/.venv/bin:$PATH" {{py}} tools/mutate.py {{paths}}
