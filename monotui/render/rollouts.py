"""The rollouts table: its columns (as data: label, cell function, priority, minimum width) and a row's cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text

from monotui.config import Thresholds
from monotui.engine.attention import Attention
from monotui.engine.platform_moves import ICONS
from monotui.engine.state import RolloutView
from monotui.formats import percent, share_number, since
from monotui.models import FlagChange, Phase, ServiceHealth, Strategy
from monotui.render.flags import indicator
from monotui.render.pods import pod_marker
from monotui.render.text import plain
from monotui.text import clean

# Signals survive NO_COLOR (Textual strips colour, keeps attributes): reverse marks a suspect, bold what needs a
# human, underline a figure over its threshold. Colour only repeats them.
SUSPECT_STYLE = "bold reverse red"
OVER_THRESHOLD_STYLE = "bold underline red"
WHERE_WIDTH = 18  # longer environments (an Argo context/namespace) are shortened; the detail panel has them whole


def no_flag_change(service: str) -> FlagChange | None:
    return None


@dataclass(frozen=True)
class Cells:
    """What a cell function may look at besides the row."""

    now: datetime
    thresholds: Thresholds
    flag_change: Callable[[str], FlagChange | None] = no_flag_change  # a flag of the service changed lately
    name_sources: bool = False  # several Kubernetes sources: their context names may be the same (where_text)
    plain_names: bool = False  # NO_COLOR: bold is a signal (what needs a human), so a name is bold only then


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    cell: Callable[[RolloutView, Cells], Text]
    priority: int = 0  # 0: always shown, never cut; higher numbers give way first on a narrow terminal
    min_width: int = 0  # the column is never narrower than this
    hide_when_empty: bool = False  # a column with nothing to say (no alerts, no health figures) takes no width
    sort_key: Callable[[RolloutView], Any] | None = None  # sort by this column (most telling first); None: cannot


PHASE_STYLE: dict[Phase, tuple[str, str]] = {
    Phase.PAUSED: ("‖", "bold yellow"),
    Phase.DEGRADED: ("✖", "bold red"),
    Phase.ABORTED: ("■", "bold red"),
    Phase.PROGRESSING: ("▸", "cyan"),
    Phase.HEALTHY: ("✔", "green"),
}


def status_text(view: RolloutView) -> Text:
    """The phase with its icon; a suspect reads `⚠ SUSPECT` first, with the phase still readable after it."""
    phase = view.rollout.phase
    icon, style = PHASE_STYLE[phase]
    label = phase.value
    if view.stale:
        return Text(f"? {label}", style="dim")
    if view.attention is Attention.SUSPECT:
        out = Text("⚠ SUSPECT", style=SUSPECT_STYLE)
        out.append(f" {label}", style=style)
        return out
    if view.attention is Attention.ROLLED_BACK:
        icon, label, style = "↩", "Rolled back", "magenta"
    elif view.attention is Attention.UNHEALTHY and phase is not Phase.DEGRADED:
        style = "bold red"
    return Text(f"{icon} {label}", style=style)


def error_text(view: RolloutView, thresholds: Thresholds) -> Text:
    thresholds = thresholds.for_service(view.rollout.service)
    health = view.health
    if health is None:
        return Text("-", style="dim")
    style = OVER_THRESHOLD_STYLE if health.error_ratio >= thresholds.error_ratio else (
        "yellow" if health.error_ratio >= thresholds.error_ratio / 2 else "")
    return Text(percent(health.error_ratio), style="dim" if view.stale else style, justify="right")


def step_text(view: RolloutView) -> str:
    """Steps completed / steps, as `kubectl argo rollouts get` shows it (0/8 at the first step, 7/5 past the end):
    `Rollout.step_text`, the one definition the confirmations use too."""
    return view.rollout.step_text() or "-"


def weight_text(view: RolloutView) -> str:
    """Set/actual share of traffic in % (the weights themselves when max_weight is 100; Argo Rollouts' 500/500 of
    a maxTrafficWeight of 1000 is 50/50%); the bare weights when max_weight gives no scale."""
    r = view.rollout
    set_share, actual_share = r.share(r.set_weight), r.share(r.actual_weight)
    if set_share is None or actual_share is None:
        return f"{r.set_weight}/{r.actual_weight}"
    return f"{share_number(set_share)}/{share_number(actual_share)}%"


def short_where(value: str, width: int = WHERE_WIDTH) -> str:
    """Keep both ends of a long environment (`kind-production-eu/payments`): the cluster and the namespace."""
    value = clean(value, None)
    if len(value) <= width:
        return value
    head = (width - 1) // 3
    return value[:head] + "…" + value[len(value) - (width - 1 - head):]


def where_text(view: RolloutView, cells: Cells) -> str:
    """The environment; with several Kubernetes sources, a context/namespace row starts with its source's name:
    two clusters whose kubeconfig contexts have the same name (`default`, `kind-kind`) must not look alike."""
    environment = view.rollout.environment
    if cells.name_sources and "/" in environment:
        environment = f"{view.source}:{environment}"
    return short_where(environment)


def age_text(view: RolloutView, now: datetime) -> Text:
    # minutes at the finest: a cell that changed every second would repaint the whole table every second
    seconds = (now - view.rollout.started_at).total_seconds()
    text = "<1m" if 0 <= seconds < 60 else since(view.rollout.started_at, now)
    return Text(text, style="dim" if view.stale else "")


def _dim(view: RolloutView) -> str:
    return "dim" if view.stale else ""


def move_text(view: RolloutView, now: datetime) -> Text:
    """The platform's last automatic move on the service while recent: `↩ auto 4m` (minutes at the finest, as
    the Age column: a cell changing every second would repaint the table every second)."""
    move = view.platform_move
    if move is None:
        return Text("")
    seconds = (now - move.at).total_seconds()
    ago = "<1m" if seconds < 60 else since(move.at, now)
    return Text(f"{ICONS[move.kind]} auto {ago}", style="dim" if view.stale else "bold magenta")


def service_text(view: RolloutView, cells: Cells) -> Text:
    """The service's name: bold (dim when its source is stale); under NO_COLOR, where bold is the one signal of
    what needs a human, bold only on such a row (a suspect, a paused, unhealthy or aborted rollout)."""
    needs_human = view.attention <= Attention.ABORTED
    style = "dim" if view.stale else "bold" if needs_human or not cells.plain_names else ""
    return plain(view.rollout.service, style=style, limit=40)


COLUMNS: tuple[Column, ...] = (
    Column("service", "Service", lambda v, c: service_text(v, c), min_width=7,
           sort_key=lambda v: v.rollout.service),
    # environment: region, or Kubernetes context/namespace
    Column("where", "Where", lambda v, c: Text(where_text(v, c), style=_dim(v) or "cyan"),
           priority=3, sort_key=lambda v: v.rollout.environment),
    Column("status", "Status", lambda v, c: status_text(v) + pod_marker(v.rollout), min_width=9,
           sort_key=lambda v: (int(v.attention), v.rollout.phase.value)),
    Column("errors", "Err%", lambda v, c: error_text(v, c.thresholds), priority=1, hide_when_empty=True,
           sort_key=lambda v: -(v.health.error_ratio if v.health else -1.0)),
    Column("alerts", "Alerts", lambda v, c: Text(f"! {v.alerts}", style="bold red") if v.alerts else Text(""),
           priority=1, hide_when_empty=True, sort_key=lambda v: -v.alerts),
    # a flag of the service changed recently (⚑ and how long ago): a flip is as likely a cause as a deploy
    Column("flags", "Flags", lambda v, c: indicator(c.flag_change(v.rollout.service), c.now), priority=1,
           hide_when_empty=True),
    # the platform's own automatic rollback, abort or pause, kept in view after the next deploy
    Column("moves", "Auto", lambda v, c: move_text(v, c.now), priority=1, hide_when_empty=True,
           sort_key=lambda v: -(v.platform_move.at.timestamp() if v.platform_move else 0.0)),
    Column("step", "Step", lambda v, c: Text(step_text(v), style=_dim(v)),
           sort_key=lambda v: (v.rollout.current_step or 0, len(v.rollout.steps))),
    Column("weight", "Weight", lambda v, c: Text(weight_text(v), style=_dim(v)),
           sort_key=lambda v: (v.rollout.share(v.rollout.actual_weight) or 0.0, v.rollout.actual_weight)),
    Column("version", "Version", lambda v, c: plain(v.rollout.version, style=_dim(v), limit=24),
           sort_key=lambda v: v.rollout.version),
    Column("age", "Age", lambda v, c: age_text(v, c.now), priority=2,
           sort_key=lambda v: -v.rollout.started_at.timestamp()),
    Column("author", "Author", lambda v, c: plain(v.rollout.author, style=_dim(v), limit=16), priority=4,
           sort_key=lambda v: v.rollout.author),
    Column("strategy", "Strategy",
           lambda v, c: Text("b/g" if v.rollout.strategy is Strategy.BLUE_GREEN else "canary", style=_dim(v)),
           priority=5, sort_key=lambda v: v.rollout.strategy.value),
)

COLUMN_KEYS = tuple(c.key for c in COLUMNS)
COLUMN_LABELS = {c.key: c.label for c in COLUMNS}
SORT_KEYS: dict[str, Callable[[RolloutView], Any]] = {c.key: c.sort_key for c in COLUMNS if c.sort_key}
SORTED_DOWN = frozenset({"status", "errors", "alerts"})  # largest or worst first (▼); the others smallest first (▲)
AGE_COLUMN = COLUMN_KEYS.index("age")
FLAGS_COLUMN = COLUMN_KEYS.index("flags")
MOVES_COLUMN = COLUMN_KEYS.index("moves")
STATUS_COLUMN = COLUMN_KEYS.index("status")
ACTING_AT_MOST_S = 30.0  # a row says "rolling back" until a newer health figure, or this long at most
_EMPTY = frozenset({"", "-"})


def row_cells(view: RolloutView, now: datetime, thresholds: Thresholds,
              flag_change: Callable[[str], FlagChange | None] = no_flag_change,
              name_sources: bool = False, plain_names: bool = False) -> tuple[Text, ...]:
    context = Cells(now, thresholds, flag_change, name_sources, plain_names)
    return tuple(column.cell(view, context) for column in COLUMNS)


def fit_columns(widths: Sequence[int], available: int, padding: int = 2) -> tuple[int, ...]:
    """Which columns (indices, in table order) fit in `available` cells, given each column's content width
    (0: empty). Priority-0 columns always stay; the others join by priority while they fit; empty
    `hide_when_empty` columns never do."""
    shown = {i for i, c in enumerate(COLUMNS) if c.priority == 0}
    used = sum(max(widths[i], COLUMNS[i].min_width, len(COLUMNS[i].label)) + padding for i in shown)
    for i in sorted(set(range(len(COLUMNS))) - shown, key=lambda i: (COLUMNS[i].priority, i)):
        column = COLUMNS[i]
        if column.hide_when_empty and widths[i] == 0:
            continue
        need = max(widths[i], column.min_width, len(column.label)) + padding
        if used + need <= available:
            shown.add(i)
            used += need
    return tuple(sorted(shown))


def cell_width(cell: Text) -> int:
    """What a cell needs of its column's width; 0 for an empty one (blank or "-")."""
    return 0 if cell.plain in _EMPTY else cell.cell_len




class RowRenderer:
    """Cells per row, rebuilt only when the row's rollout, health or standing changed (the models are immutable,
    so identity tells); with `ages`, only the age cell is brought up to the clock. Thousands of rows stay cheap."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.flag_change: Callable[[str], FlagChange | None] = no_flag_change  # set by the screen per refresh
        self.name_sources = False  # set by the screen: several Kubernetes sources (where_text)
        self.plain_names = False  # set by the screen under NO_COLOR (service_text)
        self._cache: dict[str, tuple[RolloutView, str, tuple[Text, ...]]] = {}
        # rows an action of this operator just moved: what the row says instead of its phase, the health it had
        self._acting: dict[str, tuple[Text, ServiceHealth | None, datetime]] = {}

    def acting(self, key: str, status: Text, health: ServiceHealth | None, since: datetime) -> None:
        """The row says `status` ("↩ Rolling back") instead of "✔ Healthy" until a health figure newer than the
        action arrives (a new health object: a poll after it): a rollback answered "Healthy" at once, beside the
        error ratio of before, read "✔ Healthy 9.8%". A row that says what happened ("↩ Rolled back") keeps it."""
        self._acting[key] = (status, health, since)
        self._cache.pop(key, None)

    @staticmethod
    def _shown_health(view: RolloutView) -> str:
        return percent(view.health.error_ratio) if view.health else "-"

    def cells(self, view: RolloutView, now: datetime, ages: bool = False) -> tuple[Text, ...]:
        if self._acting:
            acting = self._acting.get(view.key)
            if acting is not None:
                status, health, since = acting
                if view.health is health and (now - since).total_seconds() < ACTING_AT_MOST_S:
                    cells = row_cells(view, now, self.thresholds, self.flag_change, self.name_sources, self.plain_names)
                    if not cells[STATUS_COLUMN].plain.startswith("✔"):  # "↩ Rolled back" says it already
                        return cells
                    return (*cells[:STATUS_COLUMN], status, *cells[STATUS_COLUMN + 1:])
                del self._acting[view.key]
                self._cache.pop(view.key, None)
        hit = self._cache.get(view.key)
        shown_health = self._shown_health(view)
        if hit is not None:
            old, old_health, cells = hit
            # health objects are new at every poll: compare what the row shows of them
            if (old.rollout is view.rollout and old_health == shown_health and old.stale == view.stale
                    and old.attention == view.attention and old.alerts == view.alerts
                    and old.platform_move == view.platform_move):
                if ages:
                    cells = self._renew(view, cells, AGE_COLUMN, age_text(view, now), shown_health)
                    if view.platform_move is not None:
                        cells = self._renew(view, cells, MOVES_COLUMN, move_text(view, now), shown_health)
                # flags change apart from the rollout: the cell is brought up to date at every refresh
                flags = indicator(self.flag_change(view.rollout.service), now)
                return self._renew(view, cells, FLAGS_COLUMN, flags, shown_health)
        cells = row_cells(view, now, self.thresholds, self.flag_change, self.name_sources, self.plain_names)
        self._cache[view.key] = (view, shown_health, cells)
        return cells

    def _renew(self, view: RolloutView, cells: tuple[Text, ...], index: int, cell: Text,
               shown_health: str) -> tuple[Text, ...]:
        if cell.plain == cells[index].plain:
            return cells
        cells = (*cells[:index], cell, *cells[index + 1:])
        self._cache[view.key] = (view, shown_health, cells)
        return cells

    def forget(self, key: str) -> None:
        self._cache.pop(key, None)
