"""Content checks of pre-commit-hooks 6.0.0 beyond the first eleven, as pure functions.

check-vcs-permalinks, check-xml and detect-aws-credentials are ``(path, content, opts) ->
Verdict``; the path-only checks (check-illegal-windows-names, name-tests-test,
forbid-submodules) take the whole set of received paths, like the git-state checks in
``_gitchecks``. Each agrees with the reference hook of the same name.
"""

from __future__ import annotations

import io
import re

from omnibase.builtins._values import (
    AwsCredentialsOpts,
    Finding,
    NameTestsOpts,
    NoOpts,
    RepoFacts,
    Verdict,
    VcsPermalinksOpts,
)

__all__ = [
    "NO_AWS_KEYS",
    "check_illegal_windows_names",
    "check_vcs_permalinks",
    "check_xml",
    "detect_aws_credentials",
    "forbid_submodules",
    "name_tests_test",
]


_verdict = Verdict.of


def _lines(content: bytes) -> list[bytes]:
    """The lines of a file as iterating it in binary mode yields them (split after LF)."""
    parts = content.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _permalink_pattern(domain: str) -> re.Pattern[bytes]:
    # the domain goes into the pattern unescaped, as in the reference
    return re.compile(
        (rf"https://{domain}/[^/ ]+/[^/ ]+/blob/" r"(?![a-fA-F0-9]{4,64}/)([^/. ]+)/[^# ]+#L\d+").encode()
    )


def check_vcs_permalinks(path: str, content: bytes, opts: VcsPermalinksOpts) -> Verdict:
    """Lines linking to a line of a file on a branch (``.../blob/main/x.py#L3``) rather
    than on a commit fail; github.com and ``additional_github_domains`` are checked.
    Each finding is ``path:line:`` and the line as found (bytes that are not UTF-8 shown
    as ``\\xNN``)."""
    if b"https://" not in content:
        return _verdict("check-vcs-permalinks", path, [])
    try:
        patterns = [_permalink_pattern(d) for d in ("github.com", *opts.additional_github_domains)]
    except re.error as exc:  # a domain that is not a valid pattern: the reference crashes
        return _verdict("check-vcs-permalinks", path, [f"{path}: bad --additional-github-domain: {exc}"])
    messages = []
    for number, line in enumerate(_lines(content), start=1):
        for pattern in patterns:
            if pattern.search(line):
                shown = line.decode("utf-8", "backslashreplace").removesuffix("\n").removesuffix("\r")
                messages.append(f"{path}:{number}:{shown}")
    return _verdict("check-vcs-permalinks", path, messages)


class _NamedBytes(io.BytesIO):
    # the parser names its input after the stream's ``name``, as it does the reference's file
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def check_xml(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """The file parses as XML (the standard library's SAX parser on the bytes; external
    entities are not fetched)."""
    import xml.sax
    import xml.sax.handler

    try:
        xml.sax.parse(_NamedBytes(content, path), xml.sax.handler.ContentHandler())
    except xml.sax.SAXException as exc:
        return _verdict("check-xml", path, [f"{path}: Failed to xml parse ({exc})"])
    except Exception as exc:  # the reference crashes (so fails) on anything else
        return _verdict("check-xml", path, [f"{path}: {type(exc).__name__}: {exc}"])
    return _verdict("check-xml", path, [])


NO_AWS_KEYS = (
    "No AWS keys were found in the configured credential files and environment variables.\n"
    "Please ensure you have the correct setting for --credentials-file"
)


def detect_aws_credentials(path: str, content: bytes, opts: AwsCredentialsOpts) -> Verdict:
    """Fails when the file holds one of ``opts.secrets`` (the edge reads them from the AWS
    credential files and environment). No secret known is a configuration error (the
    reference exits 2), unless ``allow_missing_credentials``. A finding never shows any
    character of the secret (the reference shows its first four)."""
    if not opts.secrets:
        if opts.allow_missing_credentials:
            return _verdict("detect-aws-credentials", path)
        return Verdict(check="detect-aws-credentials", path=path, ok=False, misconfigured=True,
                       findings=(Finding(path=path, message=NO_AWS_KEYS),))
    # a secret read from a file that is not UTF-8 keeps its bytes (surrogate escapes)
    found = sum(1 for key in opts.secrets if key.encode("utf-8", "surrogateescape") in content)
    return _verdict("detect-aws-credentials", path, [f"AWS secret found in {path}: {'*' * 28}"] * found)


# --- checks of the path alone ----------------------------------------------------------

#: pre-commit-hooks 6.0.0 declares check-illegal-windows-names as a ``fail`` hook with this
#: ``files`` pattern: reserved device names, characters Windows forbids, and names (of a
#: file or a folder) ending in a dot or a space.
ILLEGAL_WINDOWS = re.compile(
    r'(?i)((^|/)(CON|PRN|AUX|NUL|COM[\d¹²³]|LPT[\d¹²³])(\.|/|$)|[<>:\"\\|?*\x00-\x1F]|/[^/]*[\.\s]/|[^/]*[\.\s]$)'
)


def check_illegal_windows_names(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Each received path that Windows cannot create fails."""
    return tuple(
        _verdict("check-illegal-windows-names", p,
                 [f"{p}: Illegal Windows filenames detected"] if ILLEGAL_WINDOWS.search(p) else [])
        for p in facts.paths
    )


_TEST_NAMES = {"pytest": r".*_test\.py", "pytest-test-first": r"test_.*\.py", "django": r"test.*\.py"}


def name_tests_test(facts: RepoFacts, opts: NameTestsOpts) -> tuple[Verdict, ...]:
    """Each received test file (by default: ``.py`` files under a ``tests/`` folder)
    whose name does not match the style fails; ``__init__.py`` and ``conftest.py`` pass."""
    pattern = _TEST_NAMES[opts.style]
    wanted = re.compile(pattern)
    out = []
    for p in facts.paths:
        base = p.rsplit("/", 1)[-1]
        bad = not wanted.fullmatch(base) and base not in ("__init__.py", "conftest.py")
        out.append(_verdict("name-tests-test", p, [f'{p} does not match pattern "{pattern}"'] if bad else []))
    return tuple(out)


def forbid_submodules(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Every received submodule fails (pre-commit-hooks declares it a ``fail`` hook on
    paths tagged ``directory``, which in a list of git paths are the submodules)."""
    return tuple(
        _verdict("forbid-submodules", p, [f"{p}: submodules are not allowed in this repository"]) for p in facts.paths
    )
