"""Rendering cost of each report format, as a ratio to the ``json`` format's, on one report
of 200 components (a quarter failing with file/line findings), timed interleaved in one run
(median of N rounds).

Run: python bench/bench_formats.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from omnibase.cli.formatters import FORMATTERS, RenderOptions
from omnibase.core.values import Failed, Meta, RunReport, Status, StepResult, Summary


def report(n: int = 200) -> RunReport:
    steps = []
    for i in range(n):
        failing = i % 4 == 0
        findings = [{"path": f"src/m{i}.py", "line": j + 1, "message": f"src/m{i}.py:{j + 1}: problem {j}"} for j in range(3)]
        error = Failed(message="\n".join(f["message"] for f in findings), data={"files": [f"src/m{i}.py"], "findings": findings}) if failing else None
        steps.append(
            StepResult(
                name=f"check-{i}", status=Status.FAIL if failing else Status.PASS, span_id=f"{i + 1:016x}", error=error,
                duration_s=0.01, offset_s=i * 0.01, meta=Meta(name=f"check-{i}", description="a check"),
            )
        )
    return RunReport(steps=tuple(steps), summary=Summary(status=Status.FAIL, total=n, failed=n // 4, passed=n - n // 4),
                     exit_code=1, run_id="0123456789abcdef", trace_id="ab" * 16, stage="ci", started_at=1.7e9, duration_s=2.0)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    r, opts = report(), RenderOptions()
    samples: dict[str, list[float]] = {name: [] for name in FORMATTERS}
    for name in FORMATTERS:
        FORMATTERS[name](r, opts)  # import and warm up
    for _ in range(rounds):
        for name, render in FORMATTERS.items():
            t = time.perf_counter()
            render(r, opts)
            samples[name].append(time.perf_counter() - t)
    base = statistics.median(samples["json"])
    print(f"{'format':8} {'median ms':>10} {'vs json':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:8} {median * 1e3:10.2f} {median / base:7.1f}x")


if __name__ == "__main__":
    main()
