"""The rollouts table: its columns and the cells of one row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from monotui.config import Thresholds
from monotui.engine.attention import Attention
from monotui.engine.state import RolloutView
from monotui.models import Phase, Strategy
from monotui.render.formats import percent, share_number, since
from monotui.render.text import plain


@dataclass(frozen=True)
class Column:
    key: str
    label: str


COLUMNS: tuple[Column, ...] = (
    Column("service", "Service"),
    Column("where", "Where"),  # environment: region, or Kubernetes context/namespace
    Column("status", "Status"),
    Column("errors", "Err%"),
    Column("alerts", "Alerts"),
    Column("step", "Step"),
    Column("weight", "Weight"),
    Column("version", "Version"),
    Column("age", "Age"),
    Column("author", "Author"),
    Column("strategy", "Strategy"),
)

PHASE_STYLE: dict[Phase, tuple[str, str]] = {
    Phase.PAUSED: ("‖", "bold yellow"),
    Phase.DEGRADED: ("✖", "bold red"),
    Phase.ABORTED: ("■", "red"),
    Phase.PROGRESSING: ("▸", "cyan"),
    Phase.HEALTHY: ("✔", "green"),
}


def status_text(view: RolloutView) -> Text:
    phase = view.rollout.phase
    icon, style = PHASE_STYLE[phase]
    label = phase.value
    if view.attention is Attention.SUSPECT:
        icon, style = "⚠", "bold reverse red"
    elif view.attention is Attention.ROLLED_BACK:
        icon, label, style = "↩", "Rolled back", "magenta"
    elif view.attention is Attention.UNHEALTHY and phase is not Phase.DEGRADED:
        style = "bold red"
    if view.stale:
        return Text(f"? {label}", style="dim")
    return Text(f"{icon} {label}", style=style)


def error_text(view: RolloutView, thresholds: Thresholds) -> Text:
    thresholds = thresholds.for_service(view.rollout.service)
    health = view.health
    if health is None:
        return Text("-", style="dim")
    style = "bold red" if health.error_ratio >= thresholds.error_ratio else (
        "yellow" if health.error_ratio >= thresholds.error_ratio / 2 else "")
    return Text(percent(health.error_ratio), style="dim" if view.stale else style, justify="right")


def step_text(view: RolloutView) -> str:
    """Steps completed / steps, as `kubectl argo rollouts get` shows it (0/8 at the first step)."""
    r = view.rollout
    if r.current_step is None or not r.steps:
        return "-"
    return f"{min(r.current_step, len(r.steps))}/{len(r.steps)}"


def weight_text(view: RolloutView) -> str:
    """Set/actual share of traffic in % (the weights themselves when max_weight is 100; Argo Rollouts' 500/500 of
    a maxTrafficWeight of 1000 is 50/50%); the bare weights when max_weight gives no scale."""
    r = view.rollout
    set_share, actual_share = r.share(r.set_weight), r.share(r.actual_weight)
    if set_share is None or actual_share is None:
        return f"{r.set_weight}/{r.actual_weight}"
    return f"{share_number(set_share)}/{share_number(actual_share)}%"


def row_cells(view: RolloutView, now: datetime, thresholds: Thresholds) -> tuple[Text, ...]:
    r = view.rollout
    dim = "dim" if view.stale else ""
    return (
        plain(r.service, style="bold" if not view.stale else "dim", limit=40),
        plain(r.environment, style="dim" if view.stale else "cyan", limit=40),
        status_text(view),
        error_text(view, thresholds),
        Text(f"! {view.alerts}", style="bold red") if view.alerts else Text(""),
        Text(step_text(view), style=dim),
        Text(weight_text(view), style=dim),
        plain(r.version, style=dim, limit=20),
        age_text(view, now),
        plain(r.author, style=dim, limit=16),
        Text("b/g" if r.strategy is Strategy.BLUE_GREEN else "canary", style=dim),
    )


def matches(view: RolloutView, needle: str) -> bool:
    """The `/` filter: a case-insensitive substring of service, status, version, author, environment or source."""
    if not needle:
        return True
    r = view.rollout
    hay = " ".join((r.service, r.phase.value, r.version, r.author, r.environment, view.source, r.strategy.value))
    return needle.lower() in hay.lower()


AGE_COLUMN = [c.key for c in COLUMNS].index("age")


def age_text(view: RolloutView, now: datetime) -> Text:
    # minutes at the finest: a cell that changed every second would repaint the whole table every second
    seconds = (now - view.rollout.started_at).total_seconds()
    text = "<1m" if 0 <= seconds < 60 else since(view.rollout.started_at, now)
    return Text(text, style="dim" if view.stale else "")


class RowRenderer:
    """Cells per row, rebuilt only when the row's rollout, health or standing changed (the models are immutable,
    so identity tells); with `ages`, only the age cell is brought up to the clock. Thousands of rows stay cheap."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._cache: dict[str, tuple[RolloutView, str, tuple[Text, ...]]] = {}

    @staticmethod
    def _shown_health(view: RolloutView) -> str:
        return percent(view.health.error_ratio) if view.health else "-"

    def cells(self, view: RolloutView, now: datetime, ages: bool = False) -> tuple[Text, ...]:
        hit = self._cache.get(view.key)
        shown_health = self._shown_health(view)
        if hit is not None:
            old, old_health, cells = hit
            # health objects are new at every poll: compare what the row shows of them
            if (old.rollout is view.rollout and old_health == shown_health and old.stale == view.stale
                    and old.attention == view.attention and old.alerts == view.alerts):
                if ages:
                    age = age_text(view, now)
                    if age.plain != cells[AGE_COLUMN].plain:
                        cells = (*cells[:AGE_COLUMN], age, *cells[AGE_COLUMN + 1:])
                        self._cache[view.key] = (view, shown_health, cells)
                return cells
        cells = row_cells(view, now, self.thresholds)
        self._cache[view.key] = (view, shown_health, cells)
        return cells

    def keep_only(self, keys: set[str]) -> None:
        for key in [k for k in self._cache if k not in keys]:
            del self._cache[key]
