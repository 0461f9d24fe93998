"""Rich renderings of reports and profiles, shared by the commands.

Every value that comes from data (a description, a merchant, a path, a note) reaches Rich as a
``Text`` or through ``escape``, never as markup: a description ``[/bold] x`` is printed as is
instead of crashing the command (or restyling the screen).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tactful.service.customers import CustomerProfile
    from tactful.service.files import IngestReport

WAIT_SECONDS = 600
Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to queue behind a run of the same command already in progress "
        "(0: refuse at once)",
        metavar="SECONDS",
    ),
]


def progress_bar(console: Console, unit: str) -> Progress:
    """The one progress bar of the CLI: ``<task> [bar] done/total <unit> elapsed``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=console,
    )


def plain(*values: object) -> list[Text]:
    """Table cells that are data: shown as they are, never read as markup."""
    return [v if isinstance(v, Text) else Text(str(v)) for v in values]


def ingest_table(report: IngestReport) -> Table:
    table = Table(title="Ingest summary", show_lines=False)
    for col, justify in (
        ("file", "left"),
        ("format", "left"),
        ("records", "left"),
        ("read", "right"),
        ("inserted", "right"),
        ("updated", "right"),
        ("duplicates", "right"),
        ("conflicts", "right"),
        ("rejected", "right"),
        ("s", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for f in report.files:
        rejected = Text(f"{f.rejected:,}", style="red") if f.rejected else "0"
        conflicts = Text(f"{f.conflicts:,}", style="yellow") if f.conflicts else "0"
        table.add_row(
            *plain(
                f.path,
                f.format,
                ",".join(f.kinds),
                f"{f.rows_read:,}",
                f"{f.inserted:,}",
                f"{f.updated:,}",
                f"{f.duplicates:,}",
                conflicts,
                rejected,
                f"{f.seconds:.2f}",
            )
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        f"{report.rows_read:,}",
        f"{report.inserted:,}",
        f"{sum(f.updated for f in report.files):,}",
        f"{sum(f.duplicates for f in report.files):,}",
        f"{report.conflicts:,}",
        f"{report.rejected:,}",
        f"{sum(f.seconds for f in report.files):.2f}",
    )
    return table


def print_ingest(console: Console, report: IngestReport) -> None:
    console.print(ingest_table(report))
    for f in report.files:
        for note in f.notes:
            console.print(f"[yellow]note[/yellow] {escape(f'{f.path}: {note}')}")
        if f.retracted:
            console.print(
                f"[yellow]retracted[/yellow] {f.retracted:,} open insight(s): "
                + escape(f"{f.path} withdrew the consent they needed")
            )
        if f.conflicts_path:
            verdict = "replaced" if f.on_conflict == "replace" else "kept as stored"
            console.print(
                f"[yellow]conflicts[/yellow] {f.conflicts:,} stored transaction(s) of "
                + escape(f"{f.path} differ in the file ({verdict}) -> {f.conflicts_path}")
            )
        if f.rejects_path:
            console.print(
                f"[red]rejects[/red] {f.rejected:,} row(s) of "
                + escape(f"{f.path} -> {f.rejects_path}")
            )
    unread = report.unread()
    if unread:
        table = Table(title="What could not be read, by cause", show_lines=True)
        for col in ("cause", "rows", "e.g.", "mapping line that would fix it"):
            table.add_column(col)
        for u in unread:
            table.add_row(*plain(u.title, f"{u.count:,}", "\n".join(u.examples), u.fix))
        console.print(table)
    for run in report.crashed:
        console.print(
            f"[yellow]crashed[/yellow] {run.kind} {run.run_id} ({run.owner}) died before "
            "finishing; marked crashed"
        )
    if report.summary_path:
        console.print(f"summary written to {escape(str(report.summary_path))}")


def profile_panel(p: CustomerProfile) -> Panel:
    c = p.customer
    head = Table.grid(padding=(0, 2))
    head.add_row(*plain("region", c.region.value, "locale", c.locale, "time zone", c.timezone))
    quiet = f"{c.quiet_hours.start:%H:%M}-{c.quiet_hours.end:%H:%M}" if c.quiet_hours else "none"
    head.add_row(
        *plain(
            "personalization",
            c.personalization_level.value,
            "channels",
            ", ".join(ch.value for ch in c.channel_preferences) or "none",
            "quiet hours",
            quiet,
        )
    )

    accounts = Table(title="Accounts", title_justify="left", expand=True)
    for col in ("account", "name", "type", "balance", "credit limit", "opened", "status"):
        accounts.add_column(col, justify="right" if col in {"balance", "credit limit"} else "left")
    for a in p.accounts:
        accounts.add_row(
            *plain(
                a.id,
                a.name or "",
                a.type.value,
                str(a.balance) if a.balance else "-",
                str(a.credit_limit) if a.credit_limit else "-",
                str(a.opened_on or "-"),
                "open" if a.is_open else f"closed {a.closed_on}",
            )
        )
    holdings = escape(", ".join(f"{h.name} ({h.kind})" for h in p.holdings) or "none recorded")

    txns = Table(title="Recent transactions", title_justify="left", expand=True)
    for col in ("booked", "account", "amount", "description", "category", "status"):
        txns.add_column(col, justify="right" if col == "amount" else "left", overflow="fold")
    zone = ZoneInfo(c.timezone)
    for t in p.recent_transactions:
        style = "red" if t.amount.minor < 0 else "green"
        txns.add_row(
            *plain(
                f"{t.booked_at.astimezone(zone):%Y-%m-%d}",
                t.account_id,
                Text(str(t.amount), style=style),
                t.description[:48],
                t.category_detailed or "-",
                t.status.value,
            )
        )

    b = p.behaviour
    behaviour = Table.grid(padding=(0, 2))
    behaviour.add_row(
        *plain(
            "logins / week",
            f"{b.logins_per_week:g}",
            "usual login hour",
            "-" if b.usual_login_hour is None else f"{b.usual_login_hour:02d}:00 local",
        )
    )
    behaviour.add_row(
        *plain(
            "median session",
            "-" if b.median_session_minutes is None else f"{b.median_session_minutes:g} min",
            "features used",
            ", ".join(f"{k} x{v}" for k, v in b.features_used.items()) or "-",
        )
    )
    understanding = _understanding(p)
    consents = escape(
        ", ".join(f"{s.purpose.value}: {s.status.value}" for s in p.consents) or "none"
    )
    totals = escape(", ".join(str(m) for m in p.total_balance().values()) or "-")
    body = Group(
        head,
        accounts,
        f"[bold]Holdings[/bold] {holdings}",
        f"[bold]Net balance[/bold] {totals}",
        txns,
        *understanding,
        "[bold]Behaviour[/bold] (last 90 days of activity)",
        behaviour,
        f"[bold]Consents[/bold] {consents}",
    )
    title = Text(f"Customer {c.id}" + (f" · {c.segment}" if c.segment else ""))
    return Panel(body, title=title)


def _understanding(p: CustomerProfile) -> list[RenderableType]:
    """Spending by category, recurring payments and income, once ``tactful enrich`` has run."""
    if not (p.spending or p.recurring or p.income):
        return ["[dim]No categories, series or income yet: run `tactful enrich`.[/dim]"]
    out: list[RenderableType] = []
    if p.spending and p.spending_window:
        start, end = p.spending_window
        spend = Table(title=Text(f"Spending {start} to {end}"), title_justify="left", expand=True)
        for col in ("category", "amount", "transactions"):
            spend.add_column(col, justify="left" if col == "category" else "right")
        for c in p.spending[:8]:
            spend.add_row(*plain(c.category.replace("_", " ").lower(), c.amount, c.transactions))
        out.append(spend)
    if p.recurring:
        rec = Table(title="Recurring payments", title_justify="left", expand=True)
        for col in ("merchant", "kind", "cadence", "amount", "next", "status"):
            rec.add_column(col, justify="right" if col == "amount" else "left", overflow="fold")
        for r in p.recurring[:10]:
            rec.add_row(
                *plain(r.merchant, r.kind, r.cadence, r.typical, r.next_date or "-", r.status)
            )
        out.append(rec)
    if p.income:
        inc = Table(title="Income", title_justify="left", expand=True)
        for col in ("payer", "kind", "schedule", "per month", "next", "change"):
            inc.add_column(col, justify="right" if col == "per month" else "left", overflow="fold")
        for i in p.income[:5]:
            inc.add_row(
                *plain(
                    i.payer,
                    i.kind,
                    i.schedule,
                    i.monthly or i.typical,
                    i.next_date or "-",
                    i.last_change or "-",
                )
            )
        out.append(inc)
    if p.insights:
        lines = [f"[bold]Live insights[/bold] ({len(p.insights)})"]
        for ins in p.insights[:6]:
            mark = {"high": "red", "normal": "yellow"}.get(ins.urgency, "dim")
            lines.append(
                f"[{mark}]●[/{mark}] {escape(ins.title)} [dim]· {escape(ins.explanation)}[/dim]"
            )
        out.append("\n".join(lines))
    return out


def moment(text: str | None, name: str | None = None) -> datetime | None:
    """A command-line time (ISO date or date and time; UTC when it names no offset)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        where = f"{name}: " if name else ""
        raise typer.BadParameter(f"{where}{text!r} is not a time (YYYY-MM-DD[THH:MM[+00:00]])"
                                 ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
