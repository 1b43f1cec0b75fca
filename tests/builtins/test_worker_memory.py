"""A pool worker keeps the memory it frees for its next file (glibc): parsing file after
file does not take every page from the kernel again (one page fault per 4 KiB)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    "CS_GNU_LIBC_VERSION" not in getattr(os, "confstr_names", {}) or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="glibc only",
)

#: builds the symbol table of the same 90 KB module 10 times (as a worker parses file
#: after file) and prints the page faults that took
_PROGRAM = """
import resource, sys, _symtable
from omnibase.builtins import _run
if sys.argv[1] == "worker":
    _run._pool_worker()  # the pool worker's own set-up
source = "".join(f"def f{i}(a, b=1):\\n    return [a + b * {i}, (a, b), {{'k': a}}]\\n" for i in range(1500)).encode()
_symtable.symtable(source, "m.py", "exec")
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    _symtable.symtable(source, "m.py", "exec")
print(len(source), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(kind: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, kind], capture_output=True, text=True, check=True, timeout=60)
    return int(done.stdout.split()[-1])


def test_a_worker_reuses_freed_memory() -> None:
    plain, worker = _faults("plain"), _faults("worker")
    assert worker * 3 < plain  # about 400 against 40,000 on glibc 2.36
