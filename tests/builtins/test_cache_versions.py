"""A cached verdict is not reused once identify or ruamel.yaml is another install.

identify's tags decide which checks a file gets and ruamel.yaml decides check-yaml's
verdicts; a cache record holds both answers. After an upgrade (or any reinstall) of either,
the keys differ, so every file is checked again by the new code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from omnibase.builtins import _cache


def _plant(root: Path, dotted: str, files: dict[str, str]) -> Path:
    folder = root.joinpath(*dotted.split("."))
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(("dotted", "deciding"), [("identify", "extensions.py"), ("ruamel.yaml", "main.py")])
def test_another_install_of_a_deciding_library_is_another_key(tmp_path, monkeypatch, dotted, deciding):
    for name in [m for m in sys.modules if m == dotted.split(".")[0] or m.startswith(dotted.split(".")[0] + ".")]:
        monkeypatch.delitem(sys.modules, name)  # find the planted copy, not the one loaded
    monkeypatch.syspath_prepend(str(tmp_path))
    folder = _plant(tmp_path, dotted, {"__init__.py": "", "identify.py": "", "extensions.py": "X = 1\n", "main.py": "Y = 1\n"})
    before = _cache.versions()
    assert str(folder) in before
    assert _cache.versions() == before  # stable while nothing changes
    key = _cache.verdict_key("blob", "a.yaml", b"sig", before)

    (folder / deciding).write_text("X = 2  # the upgrade\n")
    os.utime(folder / deciding, ns=(1, 1))  # even with an old time: the size differs
    after = _cache.versions()
    assert after != before
    assert _cache.verdict_key("blob", "a.yaml", b"sig", after) != key


def test_a_library_that_cannot_be_found_still_gives_a_key(monkeypatch):
    monkeypatch.setattr(_cache, "_LIBRARIES", (("omnibase_no_such_library", ("__init__.py",)),))
    assert _cache.versions().endswith("\0omnibase_no_such_library -")
