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


def test_a_library_without_one_of_its_deciding_files_still_gives_a_key(tmp_path, monkeypatch):
    # another version of a library may lack a file the key names: that file is marked, not an error
    name = f"omnibase_lib_{os.getpid()}_{id(tmp_path)}"
    folder = _plant(tmp_path, name, {"__init__.py": "", "kept.py": "X = 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_cache, "_LIBRARIES", ((name, ("kept.py", "gone.py")),))
    size = (folder / "kept.py").stat().st_size
    described = _cache.versions().split("\0")[-1]
    assert described.startswith(f"{name} {folder} {size}.") and described.endswith(" -")


def test_a_library_under_a_module_that_is_no_package_still_gives_a_key(tmp_path, monkeypatch):
    # `plain.sub` where `plain` is a module file: asking for it raises instead of answering None
    plain = f"omnibase_plain_{os.getpid()}_{id(tmp_path)}"
    (tmp_path / f"{plain}.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_cache, "_LIBRARIES", ((f"{plain}.sub", ("__init__.py",)),))
    assert _cache.versions().endswith(f"\0{plain}.sub -")
