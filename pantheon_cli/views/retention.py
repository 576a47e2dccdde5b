"""Retention runs: what each purge job removed (or would remove), per kind, and a progress
display while a real run works through its batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypedDict

from rich.console import Console, Group, RenderableType
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import iso, when
from pantheon_core.domain.retention import PurgeKind, PurgeProgress, PurgeReport

KIND_NOTES: dict[PurgeKind, str] = {
    PurgeKind.ROOMS: "rooms in the trash over 7 days",
    PurgeKind.AGENTS: "agents",
    PurgeKind.ROOM_SESSIONS: "room conversations",
    PurgeKind.DIRECT_SESSIONS: "direct chats",
    PurgeKind.TURNS: "turns: the users' messages",
    PurgeKind.STEPS: "steps: the agents' answers",
    PurgeKind.EVENTS: "streamed events",
    PurgeKind.FILES: "files, with their stored objects",
    PurgeKind.TOOL_CALL_DETAILS: "tool-call text cleared (usage rows kept)",
    PurgeKind.MEMORIES: "conversation summaries cleared",
    PurgeKind.TOMBSTONES: "tombstones of earlier purges",
}


class KindView(TypedDict):
    kind: str
    rows: int
    blobs: int
    blob_bytes: int


class JobReportView(TypedDict):
    job: str
    dry_run: bool
    cutoff: str | None
    kinds: list[KindView]
    total_rows: int
    blobs: int
    blob_bytes: int
    blobs_deleted: int
    complete: bool


class RetentionView(TypedDict):
    dry_run: bool
    jobs: list[JobReportView]


def report_data(report: PurgeReport) -> JobReportView:
    tally = report.tally
    return JobReportView(
        job=report.job, dry_run=report.dry_run, cutoff=iso(report.cutoff),
        kinds=[KindView(kind=kind.value, rows=t.rows, blobs=t.blobs, blob_bytes=t.blob_bytes)
               for kind, t in tally.ordered()],
        total_rows=tally.total_rows, blobs=tally.blobs, blob_bytes=tally.blob_bytes,
        blobs_deleted=report.blobs_deleted, complete=report.complete)


def reports_data(reports: Sequence[PurgeReport]) -> RetentionView:
    return RetentionView(dry_run=any(r.dry_run for r in reports),
                         jobs=[report_data(r) for r in reports])


def reports_view(data: RetentionView) -> RenderableType:
    parts: list[RenderableType] = [job_table(job) for job in data["jobs"]]
    if data["dry_run"]:
        parts.append(Text("Dry run: nothing was changed. Run without --dry-run to purge.",
                          style="yellow"))
    return Group(*parts)


def job_table(job: JobReportView) -> RenderableType:
    """The kinds with something to purge (``--json`` lists every kind, zeros included)."""
    verb = "would purge" if job["dry_run"] else "purged"
    title = f"{job['job']} — {verb} (before {when(job['cutoff'])})"
    found = [kind for kind in job["kinds"] if kind["rows"] or kind["blobs"]]
    notes: list[RenderableType] = []
    if found:
        table = Table(title=title, title_justify="left", expand=False)
        table.add_column("Kind", style="bold", no_wrap=True)
        table.add_column("Rows", justify="right")
        table.add_column("Stored objects", justify="right")
        table.add_column("Bytes", justify="right")
        table.add_column("What", style="dim", overflow="fold")
        for kind in found:
            table.add_row(kind["kind"], str(kind["rows"]), str(kind["blobs"]),
                          str(kind["blob_bytes"]), KIND_NOTES[PurgeKind(kind["kind"])])
        table.add_section()
        table.add_row("total", str(job["total_rows"]), str(job["blobs"]),
                      str(job["blob_bytes"]), "")
        notes.append(table)
    else:
        notes.append(Text.assemble((title, "bold"), ": nothing."))
    if not job["dry_run"]:
        notes.append(Text(f"Stored objects deleted: {job['blobs_deleted']}", style="dim"))
    if not job["complete"]:
        notes.append(Text("More remains: the next run (or the scheduled job) goes on.",
                          style="yellow"))
    return Group(*notes)


class PurgeProgressDisplay:
    """One spinner line per job: what it has purged so far and which step it is on."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def update(self, event: PurgeProgress) -> None:
        task = self._tasks.get(event.job)
        if task is None:
            for earlier in self._tasks.values():  # jobs run one after the other
                self._progress.update(earlier, completed=1)
            task = self._tasks[event.job] = self._progress.add_task(event.job, total=1,
                                                                    detail="")
        self._progress.update(task, detail=progress_detail(event))

    def finish(self) -> None:
        for task in self._tasks.values():
            self._progress.update(task, completed=1)


def progress_detail(event: PurgeProgress) -> str:
    done = ", ".join(f"{kind.value} {t.rows}" for kind, t in event.so_far.kinds.items())
    return f"{event.step}: {done or 'nothing yet'}"


@contextmanager
def purge_progress(console: Console) -> Iterator[PurgeProgressDisplay]:
    """A live display on ``console`` (stderr) while a real run purges."""
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                        console=console, transient=True)
    display = PurgeProgressDisplay(progress)
    with progress:
        yield display
        display.finish()
