"""The opt-in built-ins against pre-commit-hooks 6.0.0 on the same awkward files.

Every check gets the same ``args`` as the reference hook (so the flag parsing is tested
too) and must agree on the verdict, the fixed bytes and what the reference prints,
wherever the reference prints something that does not depend on its own stack frames.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec
import pytest
from tests.builtins._builtins_ref import (
    JSON_CORPUS,
    ODD_BREAKS,
    PERMALINK_CORPUS,
    PRETTY_JSON_CORPUS,
    PY_CORPUS,
    PY_MORE_CORPUS,
    REQUIREMENTS_CORPUS,
    SIMPLE_YAML_CORPUS,
    SORTER_CORPUS,
    TEXT_CORPUS,
    XML_CORPUS,
    YAML_CORPUS,
    reference_on_bytes,
    run_reference,
)

from omnibase.builtins import CHECKS, Verdict, options_from_args
from omnibase.builtins._output import hook_output


def _small(*corpora: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for c in corpora for k, v in c.items() if len(v) < 100_000}


PY = _small(PY_CORPUS, PY_MORE_CORPUS)
TEXT = _small(TEXT_CORPUS)

#: (check, the reference's arguments (also ours, through options_from_args), corpus)
CASES = [
    ("check-builtin-literals", [], {**PY, **TEXT}),
    ("check-builtin-literals", ["--ignore=dict,list"], PY),
    ("check-builtin-literals", ["--no-allow-dict-kwargs"], PY),
    ("check-docstring-first", [], {**PY, **TEXT}),
    ("debug-statements", [], {**PY, **TEXT}),
    ("double-quote-string-fixer", [], {**PY, **TEXT}),
    ("check-xml", [], {**XML_CORPUS, **TEXT}),
    ("fix-byte-order-marker", [], {**TEXT, **_small(JSON_CORPUS, YAML_CORPUS), **PY}),
    ("file-contents-sorter", [], {**SORTER_CORPUS, **TEXT}),
    ("file-contents-sorter", ["--ignore-case"], SORTER_CORPUS),
    ("file-contents-sorter", ["--unique"], SORTER_CORPUS),
    ("requirements-txt-fixer", [], {**REQUIREMENTS_CORPUS, **SORTER_CORPUS, **TEXT}),
    ("sort-simple-yaml", [], {**SIMPLE_YAML_CORPUS, **YAML_CORPUS, **TEXT}),
    ("pretty-format-json", [], {**PRETTY_JSON_CORPUS, **_small(JSON_CORPUS)}),
    ("pretty-format-json", ["--autofix"], {**PRETTY_JSON_CORPUS, **_small(JSON_CORPUS), **TEXT}),
    ("pretty-format-json", ["--autofix", "--indent", "4", "--no-sort-keys"], PRETTY_JSON_CORPUS),
    ("pretty-format-json", ["--autofix", "--top-keys=version,name", "--indent=\t"], PRETTY_JSON_CORPUS),
    ("pretty-format-json", ["--autofix", "--no-ensure-ascii"], PRETTY_JSON_CORPUS),
    ("check-vcs-permalinks", [], {**PERMALINK_CORPUS, **TEXT}),
    ("check-vcs-permalinks", ["--additional-github-domain", "git.example.com"], PERMALINK_CORPUS),
]

#: Where we deliberately differ: the reference truncates the file, then fails to write a
#: lone surrogate into it (losing the file); we fail and leave the file as it was.
LOSES_THE_FILE = {("pretty-format-json", "lone_surrogate.json", "--no-ensure-ascii")}


def differs_on_purpose(check: str, data: bytes, ours: Verdict) -> bool:
    """Files where our double-quote-string-fixer is right and the reference is not
    (``ODD_BREAKS``); on those, ours must leave the code itself unchanged."""
    import ast

    if check != "double-quote-string-fixer" or not any(c.encode() in data for c in ODD_BREAKS if c != "\r"):
        return False
    if ours.edit is not None:
        assert ast.dump(ast.parse(ours.edit.content)) == ast.dump(ast.parse(data))
    return True


def expected_output(check: str, opts: object, verdict: Verdict) -> str:
    """What the reference prints for this verdict (comparable parts only)."""
    lines = hook_output(check, opts, [verdict])
    if not lines:
        return ""
    if check == "debug-statements" and "Could not parse ast" in lines[0]:
        return lines[0].splitlines()[0]
    if check == "pretty-format-json":
        return "\n".join(lines).rstrip("\n")
    if check == "check-vcs-permalinks":  # the reference prints a last line without its LF as is
        return "\n".join(line for line in "\n".join(lines).splitlines() if line)
    return "".join(line + "\n" for line in lines)


def reference_output(check: str, out: str) -> str:
    if check == "debug-statements" and "Could not parse ast" in out:
        return out.splitlines()[0]
    if check == "pretty-format-json":
        return out.rstrip("\n")
    if check == "check-vcs-permalinks":
        return "\n".join(line for line in out.splitlines() if line)
    return out


@pytest.mark.parametrize(("check", "args", "corpus"), CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_same_verdict_bytes_and_output_as_the_reference(check, args, corpus, tmp_path: Path):
    spec = CHECKS[check]
    options = options_from_args(check, args)
    mismatches = []
    for name, data in corpus.items():
        if any((check, name, a) in LOSES_THE_FILE for a in args):
            continue
        ours = spec.fn(name, data, options)
        if differs_on_purpose(check, data, ours):
            continue
        ref = reference_on_bytes(check, name, data, tmp_path, args)
        if ours.ok != (ref.code == 0):
            mismatches.append(f"{name}: verdict ours={ours.ok} {ours.findings[:1]} reference={ref.code} {ref.out[:200]!r}")
            continue
        if ours.edit is not None and ours.ok:
            mismatches.append(f"{name}: an edit on a passing verdict")
        after = ours.edit.content if ours.edit is not None else data
        if after != ref.content:
            mismatches.append(f"{name}: fixed bytes differ: ours={after[:120]!r} reference={ref.content[:120]!r}")
        printed = expected_output(check, options, ours)
        if not ref.crashed and printed != reference_output(check, ref.out):
            mismatches.append(f"{name}: output ours={printed!r} reference={ref.out!r}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("check", [c for c in CHECKS if CHECKS[c].is_fixer])
def test_fixers_are_idempotent_and_an_edit_means_failure(check, tmp_path: Path):
    options = options_from_args(check, ["--autofix"] if check == "pretty-format-json" else [])
    corpus = {**PY, **TEXT, **SORTER_CORPUS, **REQUIREMENTS_CORPUS, **SIMPLE_YAML_CORPUS, **PRETTY_JSON_CORPUS}
    for name, data in corpus.items():
        verdict = CHECKS[check].fn(name, data, options)
        assert verdict.edit is None or not verdict.ok, (check, name)
        if verdict.edit is not None:
            assert verdict.edit.original == data and verdict.edit.content != data
            again = CHECKS[check].fn(name, verdict.edit.content, options)
            if check == "sort-simple-yaml":
                # not idempotent in the reference either (a file of blank lines fails every
                # time; a header after a blank line moves twice): we follow it, pass for pass
                ref = reference_on_bytes(check, "again.yaml", verdict.edit.content, tmp_path)
                assert again.ok == (ref.code == 0)
                assert (again.edit.content if again.edit else verdict.edit.content) == ref.content
                continue
            assert again.ok and again.edit is None, (check, name, verdict.edit.content[:80])


# --- detect-aws-credentials: secrets from files and the environment ------------------


def _masked(out: str) -> list[str]:
    # the reference shows a secret's first four characters; we show none of it
    return sorted(re.sub(r": \S{4}\*{24}$", ": " + "*" * 28, line) for line in out.splitlines())


@pytest.mark.parametrize("setup", ["file", "env", "extra-file", "none", "none-allowed", "env-file"])
def test_aws_credentials_as_the_reference_finds_them(setup: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from omnibase.builtins._facts import edge_options

    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for var in ("AWS_CONFIG_FILE", "AWS_CREDENTIAL_FILE", "AWS_SHARED_CREDENTIALS_FILE", "BOTO_CONFIG",
                "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    secret, token = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN"
    args: list[str] = []
    if setup == "file":
        (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {secret}\n"
                                                   f"[other]\naws_session_token = {token}\n")
    elif setup == "env":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    elif setup == "extra-file":
        (tmp_path / "creds.ini").write_text(f"[x]\naws_security_token = {token}\n")
        args = ["--credentials-file", str(tmp_path / "creds.ini")]
    elif setup == "env-file":
        (tmp_path / "boto.cfg").write_text(f"[Credentials]\naws_secret_access_key = {secret}\n")
        monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "boto.cfg"))
    elif setup == "none-allowed":
        args = ["--allow-missing-credentials"]
    files = {
        "leak.txt": f"key={secret}\ntoken={token}\n".encode(),
        "clean.txt": b"nothing here\n",
        "partial.txt": secret[:20].encode(),
    }
    options = edge_options({"detect-aws-credentials": options_from_args("detect-aws-credentials", args)})
    opts = options["detect-aws-credentials"]
    work = tmp_path / "work"
    work.mkdir()
    for name, data in files.items():
        (work / name).write_bytes(data)
        ours = CHECKS["detect-aws-credentials"].fn(name, data, opts)
        ref = run_reference("detect-aws-credentials", [*args, name], cwd=work)
        assert ours.ok == (ref.code == 0), (setup, name, ref.out)
        assert ours.misconfigured == (ref.code == 2), (setup, name, ref.out)  # no credentials: exit 2
        printed = "".join(f.message + "\n" for f in ours.findings)
        assert _masked(printed) == _masked(ref.out), (setup, name)
        for finding in ours.findings:
            assert secret[:4] not in finding.message and token[:4] not in finding.message


def test_the_credential_files_are_read_only_where_the_edge_looks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from omnibase.builtins._facts import aws_secrets

    (tmp_path / "bad.ini").write_bytes(b"no section header\naws_secret_access_key = x\n")
    (tmp_path / "ok.ini").write_text("[a]\naws_secret_access_key =   spaced  \naws_session_token =\n")
    found = aws_secrets([str(tmp_path / "bad.ini"), str(tmp_path / "ok.ini"), str(tmp_path / "missing")],
                        {"HOME": os.fspath(tmp_path), "AWS_SESSION_TOKEN": "", "AWS_SECURITY_TOKEN": "tok"})
    assert found == {"spaced", "tok"}


#: Credential files the reference crashes on (so fails every file, whatever it holds):
#: ours reads every secret value in them instead, so none of them can be committed.
BROKEN_CREDENTIALS = {
    "duplicated-option": b"[default]\naws_secret_access_key = FIRST\naws_secret_access_key = SECOND\n",
    "duplicated-section": b"[a]\naws_session_token = FIRST\n[b]\nx = 1\n[a]\naws_session_token = SECOND\n",
    "not-an-option": b"[a]\naws_secret_access_key = FIRST\nthis line is no option\n[b]\naws_session_token = SECOND\n",
    "not-utf8": b"[a]\n# caf\xe9\naws_secret_access_key = FIRST\n[b]\naws_security_token = SECOND\n",
    "bad-interpolation": b"[a]\naws_secret_access_key = FIRST%\n[b]\naws_session_token = SECOND\n",
}


@pytest.mark.parametrize("broken", list(BROKEN_CREDENTIALS))
def test_no_secret_of_a_credentials_file_the_reference_crashes_on_is_dropped(broken: str, tmp_path: Path):
    from omnibase.builtins._facts import aws_secrets

    first = {"bad-interpolation": "FIRST%"}.get(broken, "FIRST")
    creds = tmp_path / "creds.ini"
    creds.write_bytes(BROKEN_CREDENTIALS[broken].replace(b"FIRST", b"first-secret-0123456789")
                      .replace(b"SECOND", b"second-secret-0123456789"))
    work = tmp_path / "work"
    work.mkdir()
    for secret in (first.replace("FIRST", "first-secret-0123456789"), "second-secret-0123456789"):
        (work / "leak.txt").write_text(f"key = {secret}\n")
        ref = run_reference("detect-aws-credentials", ["--credentials-file", str(creds), "leak.txt"], cwd=work)
        assert ref.code == 1 and ref.crashed  # the reference fails by crashing on the credentials file
        secrets = aws_secrets([str(creds)], {"HOME": os.fspath(tmp_path / "nohome")})
        assert secret in secrets
        opts = options_from_args("detect-aws-credentials", ["--credentials-file", str(creds)])
        ours = CHECKS["detect-aws-credentials"].fn("leak.txt", (work / "leak.txt").read_bytes(),
                                                   msgspec.structs.replace(opts, secrets=secrets))
        assert not ours.ok and not ours.misconfigured
        assert [f.message for f in ours.findings] == [f"AWS secret found in leak.txt: {'*' * 28}"]


def test_no_credentials_at_all_is_a_configuration_error_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # the reference exits 2 ("configuration error" in our spec too), once, whatever the files
    from omnibase import ExecCtx, all_of, run
    from omnibase.components.builtin import BuiltinUse, builtin_components

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("AWS_CONFIG_FILE", "AWS_CREDENTIAL_FILE", "AWS_SHARED_CREDENTIALS_FILE", "BOTO_CONFIG",
                "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("nothing here\n")
    ref = run_reference("detect-aws-credentials", ["a.txt", "b.txt"], cwd=tmp_path)
    assert ref.code == 2
    comps = builtin_components([BuiltinUse(name="aws", check="detect-aws-credentials")])
    ctx = ExecCtx(run_id="aws", trace_id="0" * 32, root=str(tmp_path), files=("a.txt", "b.txt"))
    report = run(all_of(list(comps)), ctx.files, ctx)
    assert report.exit_code == 2
    (step,) = report.steps
    assert type(step.error).__name__ == "Misconfigured"
    assert step.error.message + "\n" == ref.out  # printed once, as the reference does


@pytest.mark.parametrize("check", ["debug-statements", "check-builtin-literals"])
def test_deep_code_is_checked_where_the_reference_runs_out_of_stack(check: str, tmp_path: Path):
    # the reference walks the tree recursively and crashes (so fails) past ~500 levels;
    # ours walks it with a loop: a verdict about the code, whatever its depth
    import subprocess
    import sys

    from tests.builtins._builtins_ref import SCRIPTS

    deep = b"x = a" + b".b" * 900 + b"\n"
    for extra, ok in ((b"", True), (b"import pdb\nlist()\n", False)):
        (tmp_path / "d.py").write_bytes(extra + deep)
        done = subprocess.run([str(Path(sys.executable).parent / SCRIPTS[check]), "d.py"], cwd=tmp_path,
                              capture_output=True)
        assert done.returncode == 1 and b"RecursionError" in done.stderr
        verdict = CHECKS[check].fn("d.py", extra + deep, options_from_args(check, []))
        assert verdict.ok == ok
        assert all("RecursionError" not in f.message for f in verdict.findings)
