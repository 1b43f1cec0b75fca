"""``omnibase registry import-pre-commit``: a ``.pre-commit-config.yaml`` as registry entries.

Pure: ``translate`` takes the config's text and returns the registry file's text plus the
hooks it could not map, each with the reason. The command (``import_command``) reads
and writes the files.

What maps to what:

* a hook of ``pre-commit/pre-commit-hooks`` whose id is a built-in of this omnibase:
  an entry ``{name: ID, builtin: ID, args: [...]}`` keeping ``files``, ``exclude``,
  ``types``, ``types_or``, ``exclude_types`` and ``stages``;
* a ``repo: local`` hook of ``language: system`` (a command on ``PATH``), ``script`` (a
  file in the repository) or ``fail`` (fails on any file it is given): a command entry
  (``entry`` split as a shell would, then ``args``), with ``pass_filenames`` and
  ``always_run`` as well;
* everything else is listed, not guessed: hooks of other repositories (omnibase fetches
  and builds no hook environments), ``local`` hooks that need one (``language: python``,
  ``node``, ...), ``meta`` hooks, pre-commit-hooks ids this omnibase does not build in.

The pre-commit stage of the written registry runs exactly the imported hooks (its
``filter`` names them), as pre-commit would have.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from omnibase.registry._schema import NAME_CHARS

__all__ = ["Imported", "Skipped", "import_command", "translate"]

PRE_COMMIT_HOOKS = re.compile(r"^(https?://|git@)github\.com[/:]pre-commit/pre-commit-hooks(\.git)?/?$")
STAGE_NAMES = {  # pre-commit's stage names (old and new) -> the git hooks omnibase installs
    "pre-commit": "pre-commit",
    "commit": "pre-commit",
    "pre-merge-commit": "pre-merge-commit",
    "merge-commit": "pre-merge-commit",
    "pre-push": "pre-push",
    "push": "pre-push",
    "manual": "manual",
}
_TYPE_FIELDS = ("types", "types_or", "exclude_types")
_NAME = re.compile(f"[^{NAME_CHARS}]+")  # what an entry name may not hold


class Skipped(msgspec.Struct, frozen=True):
    """A hook that was not imported, and why."""

    hook: str
    repo: str
    reason: str


class Imported(msgspec.Struct, frozen=True):
    """The registry file's text, how many entries it has, and what was left out."""

    text: str
    entries: int
    skipped: tuple[Skipped, ...]


class ImportError_(msgspec.Struct, frozen=True):
    message: str


def _both(outer: str | None, inner: str | None) -> str | None:
    """One regex that ``re.search``es true when both do (pre-commit applies the top-level
    ``files`` and each hook's)."""
    if not outer:
        return inner
    if not inner:
        return outer
    return f"(?s)^(?=.*?(?:{outer}))(?=.*?(?:{inner}))"


def _stages(hook: Mapping[str, Any], default: Sequence[str] | None) -> tuple[list[str] | None, str | None]:
    raw = hook.get("stages", default)
    if raw is None:
        return None, None
    out: list[str] = []
    for name in raw:
        mapped = STAGE_NAMES.get(str(name))
        if mapped is None:
            return None, f"stage '{name}' is not a git hook omnibase runs at (pre-commit, pre-merge-commit, pre-push, manual)"
        if mapped not in out:
            out.append(mapped)
    return out, None


def _selection(hook: Mapping[str, Any], top_files: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    files = _both(top_files, hook.get("files"))
    if files:
        entry["files"] = files
    if hook.get("exclude"):
        entry["exclude"] = hook["exclude"]
    for field in _TYPE_FIELDS:
        if hook.get(field):
            entry[field] = [str(t) for t in hook[field]]
    return entry


def _command(hook: Mapping[str, Any]) -> list[str] | str:
    """The argv of a local hook, or why it has none."""
    language = hook.get("language")
    entry = str(hook.get("entry", ""))
    args = [str(a) for a in hook.get("args", [])]
    if language == "fail":
        return ["sh", "-c", 'printf "%s\\n" "$0"; printf "  %s\\n" "$@"; exit 1', entry.strip() or "failed", *args]
    if language not in ("system", "script"):
        deps = hook.get("additional_dependencies")
        extra = f" with additional_dependencies {list(deps)}" if deps else ""
        return (
            f"language: {language}{extra} needs an environment pre-commit would build; if the tool is "
            "installed here, add it as a command entry (omnibase registry add)"
        )
    try:
        argv = shlex.split(entry)
    except ValueError as exc:
        return f"entry '{entry}' cannot be split into a command: {exc}"
    if not argv:
        return "it has no entry"
    if language == "script" and "/" not in argv[0]:
        argv[0] = "./" + argv[0]  # a script is a path in the repository
    return [*argv, *args]


def _entry(hook: Mapping[str, Any], repo: str, ctx: dict[str, Any]) -> dict[str, Any] | str:
    """The registry entry of one hook, or why there is none."""
    hook_id = str(hook.get("id", ""))
    stages, why = _stages(hook, ctx["default_stages"])
    if why:
        return why
    entry: dict[str, Any] = {"name": hook_id}
    if PRE_COMMIT_HOOKS.match(repo):
        if hook_id not in ctx["builtins"]:
            return f"'{hook_id}' is not built into this omnibase (see docs/builtins.md)"
        entry.update(builtin=hook_id, tags=["pre-commit"])
        if hook.get("args"):
            entry["args"] = [str(a) for a in hook["args"]]
    elif repo == "local":
        argv = _command(hook)
        if isinstance(argv, str):
            return argv
        entry.update(type="validator", tags=["pre-commit"], command=argv)
        for field in ("pass_filenames", "always_run"):
            if field in hook:
                entry[field] = bool(hook[field])
    elif repo == "meta":
        return "meta hooks check pre-commit's own configuration"
    else:
        rev = f" at {ctx['rev']}" if ctx.get("rev") else ""
        return (
            f"a hook of {repo}{rev}: omnibase fetches no hook repositories; if the tool is installed here, "
            "add it as a command entry (omnibase registry add)"
        )
    if hook.get("name") and hook.get("name") != hook_id:
        entry["description"] = str(hook["name"])
    entry.update(_selection(hook, ctx["files"]))
    if stages is not None:
        entry["stages"] = stages
    return entry


def _unique(name: str, taken: set[str]) -> str:
    base = _NAME.sub("-", name).strip("-") or "hook"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def translate(config_text: str, *, source: str, builtins: Sequence[str]) -> Imported | ImportError_:
    """The registry file for a pre-commit config (``source`` names it in messages)."""
    import yaml

    try:
        config = yaml.safe_load(config_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        return ImportError_(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")
    if isinstance(config, list):  # the old format: a bare list of repos
        config = {"repos": config}
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return ImportError_(f"{source}: not a pre-commit configuration (no 'repos:' list)")
    ctx: dict[str, Any] = {
        "builtins": frozenset(builtins),
        "files": config.get("files") or None,
        "default_stages": config.get("default_stages"),
    }
    entries: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()
    for repo_cfg in config["repos"]:
        if not isinstance(repo_cfg, dict):
            skipped.append(Skipped("?", "?", "a repos: item that is not a mapping"))
            continue
        repo = str(repo_cfg.get("repo", ""))
        ctx["rev"] = repo_cfg.get("rev")
        for hook in repo_cfg.get("hooks") or []:
            if not isinstance(hook, dict) or not hook.get("id"):
                skipped.append(Skipped("?", repo, "a hook without an id"))
                continue
            made = _entry(hook, repo, ctx)
            if isinstance(made, str):
                skipped.append(Skipped(str(hook["id"]), repo, made))
                continue
            made["name"] = _unique(made["name"], taken)
            entries.append(made)
    registry: dict[str, Any] = {"version": 1}
    if config.get("exclude") and config["exclude"] != "^$":
        registry["exclude"] = config["exclude"]
    stage: dict[str, Any] = {"filter": "name=" + "|".join(e["name"] for e in entries)} if entries else {}
    if config.get("fail_fast"):
        stage["fail_fast"] = True
    if stage:
        registry["stages"] = {"pre-commit": stage}
    registry["components"] = entries
    return Imported(text=_render(registry, source, skipped), entries=len(entries), skipped=tuple(skipped))


def _render(registry: Mapping[str, Any], source: str, skipped: Sequence[Skipped]) -> str:
    import yaml

    head = [f"# Imported from {source} by 'omnibase registry import-pre-commit'."]
    if skipped:
        head.append("# Not imported:")
        head += [f"#   {s.hook} ({s.repo}): {s.reason}" for s in skipped]
    body = yaml.safe_dump(dict(registry), sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


def import_command(args: Any) -> int:
    """``omnibase registry import-pre-commit [CONFIG] [--force]``: write the registry file
    (``--registry``, else ``omnibase.yaml`` in the current folder) and say what was left out."""
    import os
    import sys

    from omnibase._io.atomic import write_atomic
    from omnibase.builtins import CHECKS
    from omnibase.registry._schema import Entry

    source = args.config
    try:
        with open(source, encoding="utf-8") as f:
            config_text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"omnibase: {source}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    made = translate(config_text, source=source, builtins=list(CHECKS))
    if isinstance(made, ImportError_):
        print(f"omnibase: {made.message}", file=sys.stderr)
        return 2
    target = args.registry or os.path.join(os.getcwd(), "omnibase.yaml")
    if os.path.lexists(target) and not args.force:
        print(f"omnibase: {target} exists; --force replaces it (or give another --registry PATH)", file=sys.stderr)
        return 2
    if "builtin" in Entry.__struct_fields__ or "builtin:" not in made.text:  # validate what we can
        from returns.result import Failure

        from omnibase.registry._load import parse_registry_text

        parsed = parse_registry_text(made.text, target)
        if isinstance(parsed, Failure):
            print(f"omnibase: the imported registry does not load: {parsed.failure().render()}", file=sys.stderr)
            return 2
    if os.path.islink(target):
        os.unlink(target)  # replace the link, never write through it
    write_atomic(target, made.text.encode("utf-8"))
    lines = [f"wrote {target}: {made.entries} entries"]
    if made.skipped:
        lines.append(f"not imported ({len(made.skipped)}):")
        lines += [f"  {s.hook} ({s.repo}): {s.reason}" for s in made.skipped]
    print("\n".join(lines))
    return 0
