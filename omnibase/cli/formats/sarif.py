"""``sarif``: the report as SARIF 2.1.0 (Static Analysis Results Interchange Format), the
format code-scanning services (GitHub code scanning, GitLab, Azure DevOps) read.

One SARIF run per omnibase run; one rule per component that ran; one result per finding
of a failing component (``level`` ``error``) or warning (``warning``), placed at the file
and line the built-in checks report (``data["findings"]``), else at the failed files
(``data["files"]``), else with no location. Paths are relative to the repository root
(``uriBaseId`` ``%SRCROOT%``), percent-encoded as URIs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from omnibase.cli.formats._common import Finding, error_kind, findings, problems, safe
from omnibase.core.values import RunReport, Status, StepResult

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["SARIF_SCHEMA", "render_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/omnibase/"


def render_sarif(report: RunReport, opts: RenderOptions) -> str:
    """``report`` as one SARIF 2.1.0 log (JSON, keys in a stable order)."""
    rules: dict[str, int] = {}
    descriptors: list[dict[str, Any]] = []
    for step in report.steps:
        if step.name not in rules:
            rules[step.name] = len(descriptors)
            descriptors.append(_rule(step))
    results = []
    for step in problems(report):
        if step.name not in rules:  # the run's own error
            rules[step.name] = len(descriptors)
            descriptors.append(_rule(step))
        results += [_result(step, rules[step.name], f) for f in findings(step)]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "omnibase", "version": _version(), "informationUri": INFORMATION_URI, "rules": descriptors}},
        "automationDetails": {"id": safe(f"omnibase/{report.stage}/{report.run_id}")},
        "invocations": [
            {
                "executionSuccessful": report.outcome == "completed" and report.error is None,
                "exitCode": report.exit_code,
            }
        ],
        "results": results,
        "properties": {"trace_id": safe(report.trace_id), "run_id": safe(report.run_id), "stage": safe(report.stage)},
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"


def _rule(step: StepResult) -> dict[str, Any]:
    description = step.meta.description if step.meta is not None else ""
    rule: dict[str, Any] = {"id": safe(step.name), "name": safe(step.name)}
    if description.strip():
        rule["shortDescription"] = {"text": safe(description)}
    return rule


def _result(step: StepResult, index: int, finding: Finding) -> dict[str, Any]:
    message = next(t for t in (finding.message, step.name, step.status.value) if t.strip())
    result: dict[str, Any] = {
        "ruleId": safe(step.name),
        "ruleIndex": index,
        "level": "error" if step.status is Status.FAIL else "warning",
        "message": {"text": safe(message)},
    }
    if finding.path is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.path), "uriBaseId": "%SRCROOT%"}}
        if finding.line is not None:
            physical["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": physical}]
    if step.error is not None:
        result["properties"] = {"error_type": error_kind(step.error), "span_id": safe(step.span_id)}
    return result


def _uri(path: str) -> str:
    """A relative URI reference for ``path`` (undecodable bytes percent-encoded as they were).

    >>> _uri("src/my file.py"), _uri("caf\\udce9")
    ('src/my%20file.py', 'caf%E9')
    """
    return quote(path.replace("\\", "/"), safe="/", errors="surrogateescape")


def _version() -> str:
    from omnibase._version import __version__

    return str(__version__)
