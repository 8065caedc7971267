"""What ``syllabus doctor`` prints: a report for people, grouped by section and kind with
counts and a few examples each, or every finding as JSON for machines."""

from collections import Counter
from typing import Any

from syllabus.doctor.findings import KINDS, SECTIONS, Finding, Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _grouped(findings: list[Finding], *, examples: int) -> list[str]:
    """By section, then kind: a count, what it means, what --fix would do, examples."""
    lines: list[str] = []
    for section in SECTIONS:
        kinds: dict[str, list[Finding]] = {}
        for finding in findings:
            if finding.section == section.code:
                kinds.setdefault(finding.kind, []).append(finding)
        if not kinds:
            continue
        lines += ["", section.title]
        for code, found in kinds.items():
            kind = KINDS[code]
            lines.append(f"  {code} ({len(found)}): {kind.meaning}")
            repairable = sum(1 for finding in found if finding.repair is not None)
            if repairable:
                lines.append(f"    --fix: {kind.fix} ({repairable} of {len(found)})")
            lines += [f"    {finding.subject}: {finding.detail}" for finding in found[:examples]]
            if len(found) > examples:
                lines.append(f"    … and {len(found) - examples} more")
    return lines


def as_text(report: Report, *, examples: int) -> str:
    """The verdict and what was checked, what ``--fix`` did (when it ran), then what is
    left, by kind."""
    checked = ", ".join(
        f"{count} {name.replace('_', ' ')}" for name, count in report.checked.items()
    )
    if not report.findings:
        return f"No drift found.\nChecked {checked}."
    lines = [
        f"Drift: {_plural(len(report.findings), 'finding')}, "
        f"{len(report.repairable)} repairable with --fix.",
        f"Checked {checked}.",
    ]
    left = report.left
    if report.repaired:
        lines += ["", f"Repaired ({len(report.repaired)}):"]
        lines += [
            f"  {finding.kind} {finding.subject}: {finding.repair.summary}"
            for finding in report.repaired
            if finding.repair
        ]
        kinds = len({finding.kind for finding in left})
        lines += [
            "",
            f"Left for a human: {_plural(len(left), 'finding')} of {_plural(kinds, 'kind')}."
            if left
            else "Nothing is left for a human.",
        ]
    lines += _grouped(left, examples=examples)
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    """Every finding, with its kind's section and whether --fix repaired it."""
    repaired = {id(finding) for finding in report.repaired}
    counts = Counter(finding.kind for finding in report.findings)
    return {
        "clean": report.clean,
        "checked": report.checked,
        "counts": {code: counts[code] for code in KINDS if counts[code]},
        "findings": [
            {
                "kind": finding.kind,
                "section": finding.section,
                "subject": finding.subject,
                "detail": finding.detail,
                "fix": finding.repair.summary if finding.repair else None,
                "repaired": id(finding) in repaired,
            }
            for finding in report.findings
        ],
        "repaired": len(report.repaired),
        "left": len(report.left),
    }
