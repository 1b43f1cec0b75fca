"""``language: pygrep``: the lines a regex matches, as pre-commit prints them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from omnibase.repos import pygrep_argv
from omnibase.repos._pygrep import grep


def _run(tmp_path: Path, pattern: str, files: dict[str, bytes], *args: str) -> subprocess.CompletedProcess[bytes]:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = [*pygrep_argv(pattern, args), *files]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, check=False)


def test_each_matching_line_is_printed_with_its_file_and_number_and_fails(tmp_path):
    done = _run(tmp_path, r"breakpoint\(\)", {"a.py": b"x = 1\nbreakpoint()\n", "b.py": b"ok\n"})
    assert done.returncode == 1
    assert done.stdout == b"a.py:2:breakpoint()\n"


def test_no_match_passes_silently(tmp_path):
    done = _run(tmp_path, "FIXME", {"a.txt": b"fine\n"})
    assert (done.returncode, done.stdout) == (0, b"")


def test_ignore_case(tmp_path):
    assert _run(tmp_path, "todo", {"a.txt": b"a ToDo\n"}).returncode == 0
    done = _run(tmp_path, "todo", {"a.txt": b"a ToDo\n"}, "--ignore-case")
    assert (done.returncode, done.stdout) == (1, b"a.txt:1:a ToDo\n")


def test_negate_fails_the_files_where_it_does_not_match(tmp_path):
    done = _run(tmp_path, "Copyright", {"a.py": b"# Copyright me\n", "b.py": b"x\n"}, "--negate")
    assert (done.returncode, done.stdout) == (1, b"b.py\n")


def test_multiline_matches_across_lines_and_names_the_first(tmp_path):
    done = _run(tmp_path, r"import os\nimport os", {"a.py": b"x\nimport os\nimport os\n"}, "--multiline")
    assert done.returncode == 1
    assert done.stdout == b"a.py:2:import os\nimport os\n"


def test_a_last_line_without_newline_still_ends_its_output_line():
    assert grep(re.compile(b"x"), "f", b"a\nx", multiline=False, negate=False) == [b"f:2:x\n"]


def test_a_bad_regex_is_exit_2_with_the_pattern(tmp_path):
    done = _run(tmp_path, "(", {"a.txt": b"x\n"})
    assert done.returncode == 2 and b"not a valid regex" in done.stderr


@pytest.mark.parametrize("flag", ["--ignore-case", "--multiline", "--negate"])
def test_the_argv_passes_flags_before_the_pattern(flag):
    argv = pygrep_argv("p", [flag])
    assert argv[:2] == [sys.executable, "-I"] and argv[2].endswith("_pygrep.py")
    assert argv[3:] == [flag, "--", "p"]
