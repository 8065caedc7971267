"""What a load prints: problems one per line, the diff of a dry run, a summary table."""

from rich.console import Console
from rich.table import Table

from syllabus.content.loader.run import LoadResult
from syllabus.content.sources import shown

ACTIONS = ("create", "update", "status", "claim", "unchanged", "archive")


def print_result(result: LoadResult, *, out: Console, err: Console, source: str) -> None:
    for warning in result.warnings:
        err.print(f"{warning} (warning)", highlight=False, markup=False, soft_wrap=True)
    for problem in result.problems:
        err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if result.problems:
        err.print(f"{len(result.problems)} problem(s); nothing was written.", style="bold red")
        return
    if result.unchanged:
        out.print(
            f"{source}: unchanged since the last load (fingerprint {result.fingerprint[:12]}); "
            "nothing to do. Use --force to load it anyway.",
            highlight=False,
        )
        return
    assert result.plan is not None
    if result.dry_run:
        for change in (*result.plan.changes, *result.plan.catalog):
            if change.action != "unchanged":
                detail = f" ({change.detail})" if change.detail else ""
                if change.action == "archive" and change.owner != result.source:
                    detail = f" (of {shown(change.owner)})"
                version = f" -> v{change.version}" if change.version else ""
                out.print(
                    f"{change.action:9} {change.content_id}{version}{detail}",
                    highlight=False,
                    markup=False,
                )
                difference = result.diffs.get(change.content_id)
                if difference is not None:
                    lines = [f"changed: {', '.join(difference.fields)}", *difference.body]
                    for line in lines:
                        out.print(f"{'':10}{line}", highlight=False, markup=False, soft_wrap=True)
    table = Table(title=f"{'Dry run: ' if result.dry_run else ''}{source} ({shown(result.source)})")
    table.add_column("collection")
    for action in ACTIONS:
        table.add_column(action, justify="right")
    for collection, counts in sorted(result.plan.counts().items()):
        table.add_row(collection, *(str(counts.get(action, 0)) for action in ACTIONS))
    out.print(table)
    if result.dry_run:
        out.print("Dry run: nothing was written.")
    else:
        out.print(f"MongoDB: {result.mongo_writes} write(s).")
    if result.catalog_error:
        err.print(
            "MongoDB is updated, but syncing the PostgreSQL catalog failed: "
            f"{result.catalog_error}\nRe-run the same load to repair it.",
            style="bold red",
            highlight=False,
        )
    elif not result.dry_run:
        out.print("PostgreSQL catalog: in sync.")
