"""Which files each check receives: the same as pre-commit's own classifier gives for the
types the pre-commit-hooks manifest declares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.builtins._builtins_ref import MANIFEST_TYPES, chdir
from pre_commit.commands.run import Classifier

from omnibase.builtins import CHECKS, run_builtin_checks, select, tags_for

FILES: dict[str, bytes] = {
    "a.py": b"x = 1\n",
    "stub.pyi": b"x: int\n",
    "a.yaml": b"a: 1\n",
    "b.yml": b"a: 1\n",
    ".pre-commit-config.yaml": b"repos: []\n",
    "a.json": b"{}\n",
    "a.geojson": b"{}\n",
    "nb.ipynb": b"{}\n",
    "pyproject.toml": b"[a]\n",
    "Pipfile": b"[a]\n",
    "a.md": b"x  \n",
    "README": b"hello\n",
    "Makefile": b"all:\n",
    "setup.cfg": b"[a]\n",
    "notes.txt": b"text\n",
    "data.unknownext": b"plain text content\n",
    "blob.unknownext": b"\x00\x01\x02\xff" * 10,
    "img.png": b"\x89PNG\r\n\x1a\n\x00\x00",
    "empty": b"",
    "latin1.txt": b"caf\xe9\n",
    "script": b"#!/usr/bin/env python3\nprint(1)\n",
    "shell_script": b"#!/bin/sh\necho hi\n",
    "bin_exec": b"\x7fELF\x00\x00\x00",
    "sub/dir/c.py": b"y = 2\n",
    "a.jsonc": b"{}\n",
    "a.xml": b"<a/>\n",
}
EXECUTABLE = {"script", "shell_script", "bin_exec"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, data in FILES.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if name in EXECUTABLE:
            target.chmod(0o755)
    os.symlink("a.py", tmp_path / "link.py")
    os.symlink("missing", tmp_path / "broken.yaml")
    (tmp_path / "folder.py").mkdir()
    return tmp_path


def _names(root: Path) -> list[str]:
    return sorted([*FILES, "link.py", "broken.yaml", "folder.py"])


def test_the_table_declares_what_the_manifest_declares():
    for name, spec in CHECKS.items():
        declared = MANIFEST_TYPES[name]
        assert spec.types == frozenset(declared.get("types", ["file"])), name
        assert spec.types_or == frozenset(declared.get("types_or", [])), name
        assert spec.exclude_types == frozenset(declared.get("exclude_types", [])), name
    assert set(CHECKS) == set(MANIFEST_TYPES)


def test_selection_equals_pre_commits_classifier(tree: Path):
    names = _names(tree)
    with chdir(tree):
        tagged = [(n, tags_for(n)) for n in names]
        classifier = Classifier(names)
        for check, declared in MANIFEST_TYPES.items():
            expected = list(
                classifier.by_types(
                    classifier.filenames,
                    declared.get("types", ["file"]),
                    declared.get("types_or", []),
                    declared.get("exclude_types", []),
                )
            )
            assert select(CHECKS[check], tagged) == expected, check


def test_run_builtin_checks_gives_each_check_exactly_its_files(tree: Path):
    names = _names(tree)
    verdicts = run_builtin_checks(names, list(CHECKS), root=str(tree), jobs=1)
    with chdir(tree):
        classifier = Classifier(names)
        for check, declared in MANIFEST_TYPES.items():
            expected = sorted(
                classifier.by_types(classifier.filenames, declared.get("types", ["file"]), [], [])
            )
            if CHECKS[check].always_run:  # pass_filenames: false; one verdict on the repository
                expected = ["HEAD"]
            assert sorted(v.path for v in verdicts if v.check == check) == expected, check


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.py", {"file", "non-executable", "python", "text"}),
        ("script", {"executable", "file", "python", "python3", "text"}),  # by its shebang
        ("shell_script", {"executable", "file", "shell", "sh", "text"}),
        ("blob.unknownext", {"binary", "file", "non-executable"}),  # by its content
        ("data.unknownext", {"file", "non-executable", "text"}),
        ("b.yml", {"file", "non-executable", "text", "yaml"}),
        ("link.py", {"symlink"}),  # a link is never followed
        ("broken.yaml", {"symlink"}),
        ("folder.py", {"directory"}),
    ],
)
def test_tags_are_what_pre_commit_sees(tree: Path, name: str, expected: set[str]) -> None:
    assert tags_for(str(tree / name)) == frozenset(expected)


def test_tags_of_a_missing_file_are_an_error(tree: Path) -> None:
    with pytest.raises(ValueError):
        tags_for(str(tree / "no-such-file"))


def test_tags_of_a_name_remembered_by_extension_are_identifys_in_any_order():
    # the memo keys a name by its extension unless some part of it is a name identify
    # knows: in whatever order names come, each gets identify's own answer
    import random

    from identify.identify import tags_from_filename

    from omnibase.builtins import _classify

    parts = ["a", "", "py", "PY", "txt", "Dockerfile", "xenial", "md", "tar", "gz", "bashrc", "yaml", "json", "x", "lock"]
    rng = random.Random(7)
    names = {".".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(2000)} - {""}
    for _ in range(3):
        order = sorted(names)
        rng.shuffle(order)
        _classify._BY_NAME.clear()
        for name in order + order:
            assert _classify._name_tags(name) == frozenset(tags_from_filename(name)), name
