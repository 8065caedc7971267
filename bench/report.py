"""Turns a suite result into what people read: a latency chart (PNG) and the summary
table at the top of bench/RESULTS.md (between markers, so the written analysis below it
stays as it is)."""

import operator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from bench.harness import PERCENTILES

BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"
COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


def completed(result: dict[str, Any]) -> dict[str, Any]:
    """The scenarios that ran to the end (a failed one carries only its error)."""
    return {name: m for name, m in result["scenarios"].items() if "error" not in m}


def latency_panels(result: dict[str, Any]) -> list[tuple[str, dict[str, Any], tuple[str, str]]]:
    """(title, latency_ms by side, side labels) for every open-loop measurement."""
    scenarios = completed(result)
    labels = {
        "outline": ("service", "bare Starlette baseline"),
        "progress": ("service PUT", "raw asyncpg upsert"),
        "submit": ("submit", "read the same quiz"),
        "search": ("?q= search", "first page, no query"),
        "login_burst": ("during sign-in burst", "quiet"),
    }
    panels = [
        (
            f"{name} (at {scenarios[name].get('open_loop_rate', 50):.0f} req/s)",
            scenarios[name]["latency_ms"],
            label,
        )
        for name, label in labels.items()
        if name in scenarios
    ]
    for workers in (1, 2):
        measured = scenarios.get("asgi_servers", {}).get(f"workers_{workers}")
        if measured:
            panels.append(
                (
                    f"outline, {workers} worker(s) (at {measured['open_loop_rate']:.0f} req/s)",
                    measured["latency_ms"],
                    ("uvicorn", "granian"),
                )
            )
    return panels


def write_chart(result: dict[str, Any], path: Path) -> Path:
    """Latency percentiles (median over rounds, min-max as error bars) per scenario."""
    panels = latency_panels(result)
    columns = 3
    rows = max(1, -(-len(panels) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    names = list(PERCENTILES)
    for axis, (title, latency, (a_label, b_label)) in zip(axes.flat, panels, strict=False):
        for offset, side, label in ((-0.2, "service", a_label), (0.2, "baseline", b_label)):
            medians = [latency[side][p]["median"] for p in names]
            low = [m - latency[side][p]["min"] for p, m in zip(names, medians, strict=True)]
            high = [latency[side][p]["max"] - m for p, m in zip(names, medians, strict=True)]
            axis.bar(
                [i + offset for i in range(len(names))],
                medians,
                width=0.4,
                yerr=[low, high],
                capsize=3,
                label=label,
            )
        axis.set_xticks(range(len(names)), names)
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(ticker.ScalarFormatter())
        axis.set_ylabel("ms (log)")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    figure.suptitle(f"Latency percentiles, open loop, {result['date']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _met(value: float, goal: str) -> str:
    sign, _, bound = goal.partition(" ")
    return "met" if COMPARE[sign](value, float(bound)) else "**missed**"


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _range(summary: dict[str, float], digits: int = 1) -> str:
    return f"{_f(summary['median'], digits)} ({_f(summary['min'], digits)}–{_f(summary['max'], digits)})"


def _write_peaks(m: dict[str, Any]) -> list[list[str]]:
    """The progress PUT and the quiz submit against the raw upsert, peaks by wrk."""
    cpu = max(m[side]["generator_cpu_share"] for side in ("service", "baseline", "submit"))
    table = []
    for title, side, ratio, goal in (
        ("progress PUT vs raw upsert, wrk", "service", m["ratio_peak"], ">= 0.5"),
        ("quiz submit vs raw upsert, wrk", "submit", m["ratio_submit_to_upsert"], None),
    ):
        low, high = m[side]["peak_rps_min_max"]
        table.append(
            [
                title,
                f"peak req/s (wrk ≤ {cpu:.0%} of a core)",
                f"{_f(m[side]['peak_rps'])} ({_f(low)}–{_f(high)})",
                _f(m["baseline"]["peak_rps"]),
                _f(ratio, 2),
                f"{goal} {_met(ratio, goal)}" if goal else "—",
            ]
        )
    return table


def rows(result: dict[str, Any]) -> list[list[str]]:
    """scenario | measure | service | baseline | ratio | goal."""
    s = completed(result)
    table: list[list[str]] = []

    def http(title: str, m: dict[str, Any], goals: dict[str, str]) -> None:
        peak = m["peak_requests_per_second"]
        p99 = m["latency_ms"]
        table.append(
            [
                title,
                "peak req/s",
                _range(peak["service"]),
                _range(peak["baseline"]),
                _f(m["ratio_throughput"], 2),
                f"{goals['throughput']} {_met(m['ratio_throughput'], goals['throughput'])}"
                if "throughput" in goals
                else "—",
            ]
        )
        table.append(
            [
                "",
                f"p99 ms at {m['open_loop_rate']:.0f} req/s",
                _range(p99["service"]["p99"]),
                _range(p99["baseline"]["p99"]),
                _f(m["ratio_p99"], 2),
                f"{goals['p99']} {_met(m['ratio_p99'], goals['p99'])}" if "p99" in goals else "—",
            ]
        )

    if "outline" in s:
        http("outline vs bare Starlette", s["outline"], {"throughput": ">= 0.8", "p99": "<= 1.3"})
    if "progress" in s:
        http("progress PUT vs raw upsert", s["progress"], {"throughput": ">= 0.5"})
    if "progress_peak" in s and "service" in s["progress_peak"]:
        table += _write_peaks(s["progress_peak"])
    if "submit" in s:
        http("quiz submit (20 q.) vs reading the quiz", s["submit"], {})
    if "search" in s:
        http("search `?q=` vs unfiltered list", s["search"], {})
    for workers in (1, 2):
        measured = s.get("asgi_servers", {}).get(f"workers_{workers}")
        if measured:
            http(f"uvicorn vs granian, {workers} worker(s)", measured, {})
    if "login_burst" in s:
        m = s["login_burst"]["latency_ms"]
        ratio = s["login_burst"]["ratio_p99"]
        table.append(
            [
                "/health/ready during sign-in burst vs quiet",
                "p99 ms at 50 req/s",
                _range(m["service"]["p99"]),
                _range(m["baseline"]["p99"]),
                _f(ratio, 2),
                f"<= 1.3 {_met(ratio, '<= 1.3')}",
            ]
        )
    if "content_load" in s:
        m = s["content_load"]
        sec = m["seconds"]
        table.append(
            [
                f"content load, {m['lessons']} lessons vs raw bulk_write",
                "ms",
                _range({k: v * 1000 for k, v in sec["load"].items()}, 0),
                _range({k: v * 1000 for k, v in sec["raw_bulk_write"].items()}, 0),
                _f(m["ratio_load_over_raw"], 2),
                f"<= 1.5 {_met(m['ratio_load_over_raw'], '<= 1.5')}",
            ]
        )
        table.append(
            [
                "unchanged re-load vs first load",
                "ms",
                _range({k: v * 1000 for k, v in sec["unchanged_reload"].items()}, 0),
                _f(sec["load"]["median"] * 1000, 0),
                f"{_f(m['ratio_load_over_unchanged_reload'], 1)}× faster",
                f">= 20 {_met(m['ratio_load_over_unchanged_reload'], '>= 20')}",
            ]
        )
    if "outline" in s:
        rss = s["outline"]["worker_peak_rss_mib"]
        table.append(
            [
                "worker peak RSS under the outline load",
                "MiB",
                _f(rss["service"]),
                _f(rss["baseline"]),
                _f(rss["ratio"], 2),
                "—",
            ]
        )
    if "load_memory" in s:
        runs = s["load_memory"]["runs"]
        growth = s["load_memory"]["growth_over_smallest"][-1]
        table.append(
            [
                f"`content load` peak RSS, {runs[-1]['lessons']:.0f} vs {runs[0]['lessons']:.0f} lessons",
                "MiB",
                _f(runs[-1]["peak_rss_mib"]),
                _f(runs[0]["peak_rss_mib"]),
                f"{_f(growth['rss_growth_per_folder_mib'], 1)}× folder growth",
                "growth ≈ documents",
            ]
        )
    if "views" in s:
        m = s["views"]
        # a live view with a materialized twin meets the goal through its twin
        read = [
            v
            for v in m["seconds"]
            if v != "baseline" and not v.startswith("refresh:") and f"{v}_mat" not in m["seconds"]
        ]
        slowest = max(read, key=lambda v: m["seconds"][v]["median"])
        table.append(
            [
                f"slowest analytics view without a twin ({slowest})",
                "ms",
                _range({k: v * 1000 for k, v in m["seconds"][slowest].items()}, 0),
                _f(m["seconds"]["baseline"]["median"] * 1000, 0),
                _f(m["ratio_to_baseline"][slowest], 1),
                f"< 2 s {'met' if m['seconds'][slowest]['median'] < 2 else '**missed**'}",
            ]
        )
    return table


def summary_markdown(result: dict[str, Any], *, json_path: Path, chart: Path) -> str:
    machine = result["machine"]
    generation = result["dataset"]["generation"]
    sizes = result["dataset"]["sizes"]
    lines = [
        BEGIN,
        f"## Latest full run: {result['date']} (`make bench`)",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}; Python {machine['python']}; PostgreSQL {machine['postgresql']}; "
        f"MongoDB wire server {machine['mongodb_wire_server']}; load generator: "
        f"{machine['load_generator']}.",
        "",
        f"Dataset: {sizes['courses']} courses × {sizes['lessons']} lessons with "
        f"{sizes['quizzes']} quizzes × {sizes['questions']} questions each, "
        f"{generation['rows_courses']:,.0f} catalog courses, {generation['rows_learners']:,.0f} "
        f"users, {generation['rows_enrollments']:,.0f} enrollments, "
        f"{generation['rows_lesson_progress']:,.0f} lesson_progress rows, "
        f"{generation['rows_quiz_attempts']:,.0f} quiz attempts, "
        f"{generation['rows_activity_log']:,.0f} activity rows; generated in "
        f"{generation['total_seconds']:.0f} s (content through the loader "
        f"{generation['content_load_seconds']:.0f} s, COPY "
        f"{generation['copy_learners_progress_seconds'] + generation['copy_attempts_activity_seconds']:.0f} s).",
        "",
        f"{result['load']['rounds']} rounds A B alternated; median (min–max) over rounds. "
        f"Raw figures: `{json_path.relative_to(json_path.parents[2])}`; chart: "
        f"`{chart.relative_to(chart.parents[2])}`.",
        "",
        *(
            f"**Scenario `{name}` failed:** {m['error']}"
            for name, m in result["scenarios"].items()
            if "error" in m
        ),
        "",
        "| scenario | measure | service (A) | baseline (B) | A/B | goal |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows(result)),
        "",
        f"![latency percentiles]({chart.relative_to(chart.parents[1])})",
        END,
    ]
    return "\n".join(lines)


def write_summary(result: dict[str, Any], path: Path, *, json_path: Path, chart: Path) -> None:
    """Replace the block between the markers (or put one under the title)."""
    text = path.read_text(encoding="utf-8")
    block = summary_markdown(result, json_path=json_path, chart=chart)
    if BEGIN in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        title, _, body = text.partition("\n")
        text = f"{title}\n\n{block}\n{body}"
    path.write_text(text, encoding="utf-8")
