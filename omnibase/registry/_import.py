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
* a hook of another repository (``repo: URL`` at ``rev``): the repository is fetched
  into the cache (``omnibase.repos``), its ``.pre-commit-hooks.yaml`` read, and the hook
  (its manifest's fields, overridden by the config's, as pre-commit merges them) becomes a
  ``repo:`` entry that runs from the repository's Python environment, built on first use
  (``language: python``), from its clone (``script``), or as ``system``, ``fail`` or
  ``pygrep``; ``local`` ``pygrep`` and ``python`` hooks become ``repo:`` entries too
  (a ``python`` one runs from an environment of its ``additional_dependencies``);
* everything else is listed, not guessed: hooks of languages omnibase does not run (by
  name), repositories that cannot be fetched (with git's reason), ``local`` hooks that
  need an environment omnibase does not build (``node``, ...), ``meta`` hooks,
  pre-commit-hooks ids this omnibase does not build in.

Every imported entry is tagged ``pre-commit`` (which the pre-commit stage's default filter
selects) and ``imported`` (what marks it as the import's own): the written registry sets
no stage filter, so an entry added later with ``omnibase registry add`` (tagged
``pre-commit``) runs beside the imported ones. Importing again with ``--force`` replaces
the entries tagged ``imported`` and keeps every other entry of the file (``merge``); it
refuses, naming them, when a kept entry has the name of an imported one.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result

from omnibase.orchestrators.table import HOOK_STAGES, HOOK_TYPES
from omnibase.registry._schema import NAME_CHARS

__all__ = ["IMPORTED_TAG", "Fetch", "Imported", "Skipped", "import_command", "merge", "translate"]

#: How the importer gets a repository's hooks: ``(url, rev)`` -> the hooks of its
#: ``.pre-commit-hooks.yaml`` by id, or why they cannot be had.
Fetch = Callable[[str, str], Result[dict[str, dict[str, Any]], str]]

PRE_COMMIT_HOOKS = re.compile(r"^(https?://|git@)github\.com[/:]pre-commit/pre-commit-hooks(\.git)?/?$")
#: pre-commit's stage names (old and new) -> the git hooks omnibase installs (the same names
#: but for the three old ones pre-commit still accepts)
STAGE_NAMES: dict[str, str] = {**{str(h): str(h) for h in HOOK_STAGES}, "commit": "pre-commit", "merge-commit": "pre-merge-commit", "push": "pre-push"}
#: The tag of every entry the import writes (beside ``pre-commit``): ``--force`` replaces these.
IMPORTED_TAG = "imported"
_TAGS = ["pre-commit", IMPORTED_TAG]
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
    #: How many entries run from a repository fetched into the cache.
    repositories: int = 0
    #: the registry file's content before rendering (what ``merge`` combines)
    registry: dict[str, Any] = msgspec.field(default_factory=dict)
    #: entries of the file it replaces that it keeps (``merge``)
    kept: tuple[str, ...] = ()


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
            return None, f"stage '{name}' is not a git hook omnibase runs at ({', '.join(HOOK_STAGES)})"
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
        from omnibase.repos import fail_argv

        return fail_argv(entry, args)
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
        entry.update(builtin=hook_id, tags=list(_TAGS))
        if hook.get("args"):
            entry["args"] = [str(a) for a in hook["args"]]
    elif repo == "local" and hook.get("language") in ("pygrep", "python"):
        made = _repo_fields(hook, {"url": "local"})
        if isinstance(made, str):
            return made
        entry.update(type="validator", tags=list(_TAGS), **made)
    elif repo == "local":
        argv = _command(hook)
        if isinstance(argv, str):
            return argv
        entry.update(type="validator", tags=list(_TAGS), command=argv)
        for field in ("pass_filenames", "always_run"):
            if field in hook:
                entry[field] = bool(hook[field])
    elif repo == "meta":
        return "meta hooks check pre-commit's own configuration"
    else:
        rev = str(ctx.get("rev") or "")
        if not rev:
            return f"a hook of {repo} without a rev: name the revision to run"
        fetched = ctx["fetched"]
        if (repo, rev) not in fetched:  # once per repository, however many of its hooks are used
            fetched[repo, rev] = ctx["fetch"](repo, rev)
        hooks = fetched[repo, rev]
        if isinstance(hooks, Failure):
            return f"a hook of {repo} at {rev}: {hooks.failure()}"
        if hook_id not in hooks.unwrap():
            return f"{repo} at {rev} has no hook '{hook_id}' in its .pre-commit-hooks.yaml"
        hook = {**hooks.unwrap()[hook_id], **hook}  # the config's fields win, as in pre-commit
        stages, why = _stages(hook, ctx["default_stages"])
        if why:
            return why
        made = _repo_fields(hook, {"url": repo, "rev": rev})
        if isinstance(made, str):
            return made
        entry.update(type="validator", tags=list(_TAGS), **made)
    if hook.get("name") and hook.get("name") != hook_id:
        entry["description"] = str(hook["name"])
    entry.update(_selection(hook, ctx["files"]))
    if stages is not None:
        entry["stages"] = stages
    return entry


def _repo_fields(hook: Mapping[str, Any], where: dict[str, Any]) -> dict[str, Any] | str:
    """The ``repo:`` (and ``args``, ``pass_filenames``, ``always_run``) of a hook that runs
    from its repository, or why it cannot run here (its language, by name)."""
    from omnibase.repos import unsupported

    language = str(hook.get("language", ""))
    why = unsupported(language)
    if why:
        return why
    source: dict[str, Any] = {**where, "language": language, "entry": str(hook.get("entry", ""))}
    if hook.get("additional_dependencies"):
        source["additional_dependencies"] = [str(d) for d in hook["additional_dependencies"]]
    if hook.get("language_version") not in (None, "default"):
        source["language_version"] = str(hook["language_version"])
    fields: dict[str, Any] = {"repo": source}
    if hook.get("args"):
        fields["args"] = [str(a) for a in hook["args"]]
    for field in ("pass_filenames", "always_run"):
        if field in hook:
            fields[field] = bool(hook[field])
    return fields


def _unfetched(url: str, rev: str) -> Result[dict[str, dict[str, Any]], str]:
    return Failure("not fetched (the importer was given no way to fetch repositories)")


def _unique(name: str, taken: set[str]) -> str:
    base = _NAME.sub("-", name).strip("-") or "hook"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def translate(
    config_text: str, *, source: str, builtins: Sequence[str], fetch: Fetch = _unfetched
) -> Imported | ImportError_:
    """The registry file for a pre-commit config (``source`` names it in messages);
    ``fetch`` gives the hooks of a repository (``omnibase.repos`` fetches them for the
    command; a test can give them as values)."""
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
        "fetch": fetch,
        "fetched": {},
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
    stage: dict[str, Any] = {}  # no filter: the tags select, and entries added later run too
    if config.get("fail_fast"):
        stage["fail_fast"] = True
    hook_types = [STAGE_NAMES.get(str(t), str(t)) for t in config.get("default_install_hook_types") or []]
    for name in hook_types:
        if name not in HOOK_TYPES:
            skipped.append(Skipped("default_install_hook_types", "-", f"'{name}' is not a git hook omnibase installs"))
    if [t for t in hook_types if t in HOOK_TYPES] not in ([], ["pre-commit"]):
        registry["default_install_hook_types"] = list(dict.fromkeys(t for t in hook_types if t in HOOK_TYPES))
    if stage:
        registry["stages"] = {"pre-commit": stage}
    registry["components"] = entries
    fetched = sum(1 for e in entries if e.get("repo", {}).get("url", "local") != "local")
    return Imported(
        text=_render(registry, source, skipped), entries=len(entries), skipped=tuple(skipped), repositories=fetched,
        registry=registry,
    )


def _imported_names(old: Mapping[str, Any]) -> set[str]:
    """The entries of an existing registry file that an import wrote: tagged ``imported``,
    or (a file an earlier omnibase imported) named by its ``name=`` stage filter."""
    names = {str(e.get("name")) for e in old.get("components") or [] if isinstance(e, dict) and IMPORTED_TAG in (e.get("tags") or [])}
    stage = ((old.get("stages") or {}).get("pre-commit") or {}) if isinstance(old.get("stages"), dict) else {}
    legacy = str(stage.get("filter") or "") if isinstance(stage, dict) else ""
    if re.fullmatch(r"name=[A-Za-z0-9_.|-]+", legacy):
        names |= set(legacy[len("name="):].split("|"))
    return names


def merge(existing_text: str, made: Imported, *, source: str, target: str) -> Imported | ImportError_:
    """``made`` (a fresh import) over the registry file ``existing_text``: the entries an
    import wrote are replaced, every other entry is kept after them, with the file's other
    settings (the import's ``exclude``, ``fail_fast`` and ``default_install_hook_types`` win). Refused when a kept entry
    has the name of an imported one (the message names each, so nothing is lost silently).

    >>> made = translate("repos: [{repo: local, hooks: [{id: a, entry: 'true', language: system}]}]",
    ...                  source="c", builtins=[])
    >>> old = "components:\\n- {name: a, command: [x], tags: [pre-commit, imported]}\\n- {name: mine, command: [y]}\\n"
    >>> merged = merge(old, made, source="c", target="omnibase.yaml")
    >>> [e["name"] for e in merged.registry["components"]], merged.kept
    (['a', 'mine'], ('mine',))
    """
    import yaml

    try:
        old = yaml.safe_load(existing_text)
    except yaml.YAMLError as exc:
        return ImportError_(f"{target}: not valid YAML ({getattr(exc, 'problem', None) or exc}); move it away or fix it first")
    if old is None:
        old = {}
    if not isinstance(old, dict):
        return ImportError_(f"{target}: not a registry file (not a mapping); move it away first")
    imported = _imported_names(old)
    kept = [e for e in old.get("components") or [] if isinstance(e, dict) and str(e.get("name")) not in imported]
    new_names = {e["name"] for e in made.registry.get("components", [])}
    clash = [str(e.get("name")) for e in kept if e.get("name") in new_names]
    if clash:
        return ImportError_(
            f"{target}: {', '.join(clash)} added since the last import would be replaced by imported hooks of the same "
            "name; rename or remove them (omnibase registry remove NAME), then import again"
        )
    registry: dict[str, Any] = {k: v for k, v in old.items() if k != "components"}
    stages = dict(registry.get("stages") or {})
    pre = dict(stages.get("pre-commit") or {})
    if str(pre.get("filter", "")).startswith("name=") and set(str(pre["filter"])[5:].split("|")) <= imported:
        del pre["filter"]  # an earlier import's filter, which hid every later entry
    pre.update(made.registry.get("stages", {}).get("pre-commit", {}))
    stages["pre-commit"] = pre
    stages = {k: v for k, v in stages.items() if v}
    for key in ("stages", "exclude", "default_install_hook_types"):
        registry.pop(key, None)
    for key in ("version", "exclude", "default_install_hook_types"):
        if key in made.registry:
            registry[key] = made.registry[key]
    if stages:
        registry["stages"] = stages
    registry["components"] = [*made.registry.get("components", []), *kept]
    names = tuple(str(e.get("name")) for e in kept)
    text = _render(registry, source, made.skipped)
    return Imported(
        text=text, entries=made.entries, skipped=made.skipped, repositories=made.repositories, registry=registry, kept=names
    )


def _render(registry: Mapping[str, Any], source: str, skipped: Sequence[Skipped]) -> str:
    import yaml

    head = [f"# Imported from {source} by 'omnibase registry import-pre-commit'."]
    if skipped:
        head.append("# Not imported:")
        head += [f"#   {s.hook} ({s.repo}): {s.reason}" for s in skipped]
    body = yaml.safe_dump(dict(registry), sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


def _fetch(url: str, rev: str) -> Result[dict[str, dict[str, Any]], str]:
    """The hooks of ``url`` at ``rev``: cloned into the cache (once), its manifest read."""
    import sys

    from omnibase.repos import clone, manifest

    return clone(url, rev, say=lambda line: print(f"omnibase: {line}", file=sys.stderr, flush=True)).bind(manifest)


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
    made = translate(config_text, source=source, builtins=list(CHECKS), fetch=_fetch)
    if isinstance(made, ImportError_):
        print(f"omnibase: {made.message}", file=sys.stderr)
        return 2
    target = args.registry or os.path.join(os.getcwd(), "omnibase.yaml")
    if os.path.lexists(target) and not args.force:
        print(f"omnibase: {target} exists; --force imports again, keeping the entries added since "
              "(or give another --registry PATH)", file=sys.stderr)
        return 2
    if os.path.lexists(target):
        try:
            with open(target, encoding="utf-8") as f:
                existing = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"omnibase: {target}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 2
        merged = merge(existing, made, source=source, target=target)
        if isinstance(merged, ImportError_):
            print(f"omnibase: {merged.message}", file=sys.stderr)
            return 2
        made = merged
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
    if made.repositories:
        from omnibase.repos._cache import record_use

        record_use(target)  # what ``omnibase gc`` reads to know what is still used
    lines = [f"wrote {target}: {made.entries} entries"]
    if made.kept:
        lines.append(f"kept {len(made.kept)} entries added since the last import: {', '.join(made.kept)}")
    if made.skipped:
        lines.append(f"not imported ({len(made.skipped)}):")
        lines += [f"  {s.hook} ({s.repo}): {s.reason}" for s in made.skipped]
    print("\n".join(lines))
    return 0
