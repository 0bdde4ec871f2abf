"""The detail panel of one rollout, and the events list, as rich renderables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.text import Text

from monotui.config import Thresholds
from monotui.engine.platform_moves import ICONS
from monotui.engine.state import RolloutView, SourceEvent, SourceStatus
from monotui.engine.suspects import FLAT, Evidence, rank_key
from monotui.formats import age, clock_time, millis, percent, since, sparkline, traffic_percent
from monotui.models import Alert, EventKind, Flag, RevisionInfo, Rollout
from monotui.render.flags import change_line, flag_lines
from monotui.render.owners import owner_head, owner_links
from monotui.render.pods import pod_lines
from monotui.render.rollouts import status_text
from monotui.render.text import join, plain
from monotui.text import clean

LABEL = "bold"


def _line(label: str, *parts: Text | str) -> Text:
    return join(Text(f"{label:<9}", style=LABEL), *parts)


def steps_text(rollout: Rollout) -> Text:
    out = Text()
    current = rollout.current_step
    for i, step in enumerate(rollout.steps):
        if step.weight is not None:
            share = rollout.share(step.weight)
            label = traffic_percent(share) if share is not None else f"weight {step.weight}"
        elif not step.pause:
            label = clean(step.label, limit=40) if step.label else "step"  # a server's text
        elif step.duration_s is None:
            label = "pause ∞"
        else:
            label = f"pause {step.duration_s:g}s"
        if current is None or i > current:
            out.append(f"· {label}", style="dim")
        elif i == current:
            out.append(f"▸ {label}", style="bold reverse")
        else:
            out.append(f"✓ {label}", style="green")
        out.append("  ")
    return out


def weights_text(rollout: Rollout) -> str:
    """Set and actual weight: in % when they are, else as the engine states them with their share of traffic
    (Argo Rollouts' `maxTrafficWeight`)."""
    r = rollout
    if r.max_weight == 100:
        return f"weight {r.set_weight}% set / {r.actual_weight}% actual"
    set_share, actual_share = r.share(r.set_weight), r.share(r.actual_weight)
    shares = (f"{traffic_percent(set_share)} / {traffic_percent(actual_share)} of traffic"
              if set_share is not None and actual_share is not None else "no share of traffic")
    return f"weight {r.set_weight} set / {r.actual_weight} actual of {r.max_weight} ({shares})"


def _revision(info: RevisionInfo, now: datetime) -> Text:
    parts: list[Text | str] = [Text(f"r{info.revision}", style="bold"), plain(info.version, limit=40)]
    if info.commit:
        parts.append(plain(info.commit, style="cyan", limit=12))
    if info.commit_message:
        parts.append(plain(info.commit_message, style="italic", limit=80))
    if info.author:
        parts += ["by", plain(info.author, limit=40)]
    if info.deployed_at:
        parts.append(f"({since(info.deployed_at, now)} ago)")
    return join(*parts)


def _spark(values: Sequence[float | None], floor: float) -> str:
    known = [v for v in values if v is not None]
    line = sparkline([v if v is not None else 0.0 for v in values], len(values), floor)
    return "".join(ch if v is not None else " " for ch, v in zip(line, values, strict=True)) if known else ""


def history_lines(history: Any, rollout: Rollout, thresholds: Thresholds,
                  step_times: Sequence[datetime] = ()) -> list[Text]:
    """The last 30 minutes from Prometheus, with the rollout's start (▲) and its steps (△) marked."""
    n = len(history.error_ratio)
    marks = [" "] * n
    moments = [("△", at) for at in step_times] + [("△", rollout.updated_at), ("▲", rollout.started_at)]
    legend: dict[str, str] = {}
    for mark, at in moments:
        if at is None:
            continue
        index = round((at.timestamp() - history.start) / history.step)
        if 0 <= index < n:
            marks[index] = mark
            legend[mark] = f"{mark} {'started' if mark == '▲' else 'step'} {clock_time(at)}"
    return [
        _line("30 min", Text("errors ", style="dim"), Text(_spark(history.error_ratio, thresholds.error_ratio),
                                                           style="cyan")),
        _line("", Text("       ", style="dim"), Text("".join(marks), style="bold yellow"),
              Text("  ".join(legend[m] for m in ("▲", "△") if m in legend), style="dim")),
        _line("", Text("p99    ", style="dim"), Text(_spark(history.p99_ms, thresholds.p99_ms), style="cyan")),
    ]


def _figure_format(ev: Evidence) -> Any:
    return (lambda v: percent(v, 2)) if ev.figure == "error ratio" else millis


def evidence_text(ev: Evidence, since_what: str) -> Text:
    """Figure before → now, change time, who (when the source says), breach time. A change whose share of traffic
    cannot explain the rise does not read as its cause: the figure now, and why it is not the change's doing."""
    fmt = _figure_format(ev)
    # no figure before the change: it was live before the history monotui has (before monotui started)
    before = fmt(ev.before) if ev.before is not None else "not known (live before monotui started)"
    if ev.flat_until is not None:
        out = Text(f"{ev.figure} {before} before {since_what}, flat until another change at "
                   f"{clock_time(ev.flat_until)}, {fmt(ev.now)} now;", style="bold")
    elif ev.share is not None and ev.share_covers is False and (ev.jump is None or ev.jump >= FLAT * ev.threshold):
        out = Text(f"{ev.figure} {fmt(ev.now)} now, not from it: it serves {traffic_percent(ev.share * 100)} of "
                   "traffic;", style="bold")
    elif ev.before is None:  # "error ratio not known (…) before it started" read as if the rollout was unknown
        out = Text(f"{ev.figure} before {since_what}: {before} → {fmt(ev.now)} now;", style="bold")
    else:
        out = Text(f"{ev.figure} {before} before {since_what} → {fmt(ev.now)} now;", style="bold")
    out.append(f" changed {clock_time(ev.changed_at)}")
    if ev.actor:
        out.append(" by ")
        out.append_text(plain(ev.actor, style="bold", limit=60))
    out.append(f", breached {clock_time(ev.breach_at)}")
    return out


def suspect_reasons(ev: Evidence, with_rank: bool = True) -> str:
    """The rank and why, in words: "#1 of 2: before the breach, 25% of traffic, errors 0.60% → 18.86% since, 8s
    before"; a change that cannot explain the rise, or came after the breach, says so."""
    fmt = _figure_format(ev)
    parts = [f"after the breach (+{age(ev.gap_s)}): listed only" if ev.after_breach else "before the breach"]
    if ev.share is not None:
        parts.append(f"{traffic_percent(ev.share * 100)} of traffic")
    what = "errors" if ev.figure == "error ratio" else "p99"
    if ev.flat_until is not None:
        parts.append(f"{what} flat after it until another change at {clock_time(ev.flat_until)}")
    elif ev.jump is not None and ev.jump < FLAT * ev.threshold:
        parts.append(f"{what} {fmt(ev.before)} → {fmt(ev.now)} since: no rise after it")
    elif ev.share_covers is False:
        rise = f"the rise of {what} from {fmt(ev.before)}" if ev.before is not None else f"{what} at {fmt(ev.now)}"
        parts.append(f"cannot explain {rise} to {fmt(ev.now)}" if ev.before is not None else f"cannot explain {rise}")
    elif ev.before is not None:
        parts.append(f"{what} {fmt(ev.before)} → {fmt(ev.now)} since")
    if not ev.after_breach:
        parts.append(f"{age(ev.gap_s)} before it")
    head = f"#{ev.rank} of {ev.of}: " if ev.rank and with_rank else ""
    return head + ", ".join(parts)


def suspect_lines(view: RolloutView, keys: SuspectKeys) -> list[Text]:
    """The "What changed?" lines of a row, best evidenced first (engine/suspects.py ranks them): its rollout and
    its service's flags that changed around the breach, each with its rank and why. The first names the suspect
    key; the others their own key (roll back, flag off)."""
    cases: list[tuple[Evidence, Text, str, str]] = []  # (evidence, text, own key's hint, the suspect key's)
    if view.evidence is not None:
        cases.append((view.evidence, join(Text("⚠ SUSPECT", style="bold reverse red"),
                                          evidence_text(view.evidence, "it started")),
                      f"— {keys.rollback} rolls it back", f"— {keys.suspect} rolls it back"))
    for suspect in view.flag_suspects:
        hint = f"— {keys.flag_off} turns it off"
        cases.append((suspect.evidence, join(
            Text("⚠ SUSPECT FLAG", style="bold reverse red"), plain(suspect.flag.name, style="bold", limit=60),
            evidence_text(suspect.evidence, "the flip")),
            hint if suspect.flag.enabled else "— already off",
            f"— {keys.suspect} turns it off" if suspect.flag.enabled else "— already off"))
    cases.sort(key=lambda c: rank_key(c[0]))
    out = []
    for i, (ev, text, own, first) in enumerate(cases):
        hint = "— read-only: actions are off" if view.read_only else first if i == 0 else own
        out.append(join(text, Text(f"· {suspect_reasons(ev)}", style="italic"), Text(hint, style="dim")))
    return out


@dataclass(frozen=True)
class SuspectKeys:
    """The keys as the user's keymap has them, for the hints after a suspect's evidence."""

    suspect: str = "s"
    rollback: str = "b"
    flag_off: str = "x"


def detail(view: RolloutView | None, status: SourceStatus | None, events: Sequence[SourceEvent],
           now: datetime, thresholds: Thresholds, history: Any = None, keys: SuspectKeys | None = None,
           flags: Sequence[Flag] = ()) -> Group:
    if view is None:
        return Group(Text("No rollout selected.", style="dim"))
    r = view.rollout
    lines: list[Text] = [
        join(plain(r.service, style="bold", limit=80), status_text(view),
             Text(r.strategy.value, style="dim"), plain(r.environment, limit=160),
             join(Text("source"), plain(view.source), sep=" ")),
    ]
    lines += suspect_lines(view, keys or SuspectKeys())  # rollout and flag suspects side by side
    move = view.platform_move
    if move is not None:  # the platform's own move, kept in view after the next deploy
        said = join(Text(f"{ICONS[move.kind]} {move.words}", style="bold magenta"),
                    Text("by"), plain(move.actor or "the platform", style="bold", limit=60))
        if move.reason:
            said.append(": ")
            said.append_text(plain(move.reason, limit=200))
        said.append(f" ({clock_time(move.at)}, {since(move.at, now)} ago)", style="dim")
        lines.append(_line("Platform", said))
    if status is not None and status.stale:
        lines.append(join(Text("⚠ stale", style="bold reverse"),
                          Text(f"data is {age(status.age())} old:"), plain(status.error or "", limit=300)))
    # the service's flags near the top: a flip is as likely a cause as the deploy below
    for i, line in enumerate(flag_lines(flags, now)):
        lines.append(_line("Flags" if i == 0 else "", line))
    if r.message:
        lines.append(_line("Message", plain(r.message, limit=300)))
    if r.steps:
        done = r.current_step is not None and r.current_step >= len(r.steps)
        shown = r.step_text() or f"0/{len(r.steps)}"  # as the Step column shows it (7/5 past the end)
        step = f"{shown} (done)" if done else shown
        lines.append(_line("Steps", steps_text(r)))
        lines.append(_line("Progress", f"step {step} · {weights_text(r)} · started {since(r.started_at, now)} ago"))
    owner = _line("Owner", owner_head(view.owner))  # who to call, after where the rollout is: one line, cut with …
    owner.no_wrap, owner.overflow = True, "ellipsis"
    lines.append(owner)
    lines.append(_line("Revision", join(Text(f"r{r.revision}", style="bold"), plain(r.version, limit=40),
                                        plain(r.image, style="dim", limit=120))))
    if r.commit or r.commit_message or r.author:
        lines.append(_line("Commit", join(plain(r.commit, style="cyan", limit=12),
                                          plain(r.commit_message, style="italic", limit=200),
                                          "by", plain(r.author or "?", limit=60))))
    if r.stable is not None:
        lines.append(_line("Stable", _revision(r.stable, now)))
    lines.append(_line("Rollback", Text("→ ") + _revision(r.rollback_to, now) if r.rollback_to
                       else Text("no earlier revision", style="dim")))
    lines += [_line(label, value) for label, value in owner_links(view.owner)]
    if r.pause_reason:
        lines.append(_line("Paused", plain(r.pause_reason, style="yellow", limit=200)))
    for error in r.errors:
        lines.append(_line("Error", plain(error, style="bold red", limit=400)))
    for i, image in enumerate(r.images):
        tags = plain(f"({', '.join(image.tags)})", style="dim", limit=80) if image.tags else Text("")
        lines.append(_line("Images" if i == 0 else "", plain(image.image, limit=160), tags))
    lines += pod_lines(r, now)  # the pods under each revision, as the plugin's tree
    for run in r.analysis[:4]:
        style = {"Successful": "green", "Failed": "bold red", "Error": "bold red",
                 "Inconclusive": "yellow"}.get(run.phase, "")
        head = join(plain(run.name, limit=80), plain(run.phase or "?", style=style, limit=20),
                    Text(f"(r{run.revision})" if run.revision is not None else "", style="dim"))
        lines.append(_line("Analysis", head))
        if run.message:
            lines.append(_line("", plain(run.message, style=style, limit=300)))
        for metric in run.metrics:
            counts = f"✔{metric.successful} ✖{metric.failed} ?{metric.inconclusive} ⚠{metric.error}"
            values = plain(", ".join(metric.values), limit=120) if metric.values else Text("")
            lines.append(_line("", join(Text("·"), plain(metric.name, style="bold", limit=60),
                                        plain(metric.phase, style=style, limit=20), Text(counts, style="dim"),
                                        values)))
    h = view.health
    thresholds = thresholds.for_service(r.service)
    if h is not None:
        err_style = "bold red" if h.error_ratio >= thresholds.error_ratio else ""
        p99_style = "bold red" if h.p99_ms >= thresholds.p99_ms else ""
        err_line = sparkline(h.series.error_ratio, 30, thresholds.error_ratio)
        lines.append(_line("Errors", Text(f"{percent(h.error_ratio, 2):>7}", style=err_style),
                           Text(err_line, style=err_style or "cyan")))
        lines.append(_line("p99", Text(f"{millis(h.p99_ms):>7}", style=p99_style),
                           Text(sparkline(h.series.p99_ms, 30, thresholds.p99_ms), style=p99_style or "cyan"),
                           f"{h.rps:.0f} req/s"))
    if history is not None:
        steps = [e.event.time for e in events if e.event.kind in (EventKind.STEP_ADVANCED, EventKind.PROMOTED)
                 and e.event.revision == r.revision]
        lines.extend(history_lines(history, r, thresholds, steps))
    if events:
        lines.append(Text("Events", style=LABEL))
        lines.extend(event_line(e, now, with_service=False) for e in events)
    return Group(*lines)


EVENT_ICONS: dict[EventKind, tuple[str, str]] = {
    EventKind.DEPLOY_STARTED: ("+", "cyan"),
    EventKind.STEP_ADVANCED: ("›", ""),
    EventKind.PAUSED: ("‖", "yellow"),
    EventKind.RESUMED: ("▸", "cyan"),
    EventKind.PROMOTED: ("»", "cyan"),
    EventKind.PROMOTED_FULL: ("»»", "cyan"),
    EventKind.COMPLETED: ("✔", "green"),
    EventKind.DEGRADED: ("✖", "bold red"),
    EventKind.ABORTED: ("■", "red"),
    EventKind.ROLLED_BACK: ("↩", "magenta"),
}


def alert_line(alert: Alert, now: datetime) -> Text:
    style = "dim" if alert.silenced else "bold red"
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in ("alertname", "service"))
    parts: list[Text | str] = [Text("!", style=style), plain(alert.service, style="bold", limit=40),
                               plain(alert.name, style=style, limit=60), plain(alert.severity, limit=20),
                               plain(alert.summary, limit=160), Text(f"({since(alert.starts_at, now)})", style="dim")]
    if alert.silenced:
        parts.append(Text("silenced", style="dim italic"))
    if labels:
        parts.append(plain(labels, style="dim", limit=160))
    return join(*parts)


def event_line(item: SourceEvent, now: datetime, with_service: bool = True) -> Text:
    if item.flag_change is not None:
        return change_line(item.flag_change, with_service)
    e = item.event
    icon, style = EVENT_ICONS.get(e.kind, ("·", ""))
    parts: list[Text | str] = [Text(clock_time(e.time), style="dim"), Text(icon, style=style)]
    if with_service:
        parts.append(plain(e.service, style="bold", limit=40))
    parts.append(plain(e.message or e.kind.value, style=style, limit=200))
    return join(*parts)
