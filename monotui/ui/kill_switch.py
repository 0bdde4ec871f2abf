"""The kill switch flow: which flag of the selected service a key acts on (its suspect flag first, else the only
one, else a picker), the confirmation, and the engine's outcome. The engine plans, pins, audits and sends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monotui.engine.state import RolloutView
from monotui.models import Flag
from monotui.text import clean

if TYPE_CHECKING:
    from monotui.engine.flag_plan import FlagPlan
    from monotui.engine.flag_state import FlagSuspect
    from monotui.ui.app import MonotuiApp
    from monotui.ui.screens.confirm import Confirmation
    from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

SourceFlag = tuple[str, Flag]


@dataclass(frozen=True)
class RowSuspect:
    """A row's rollout (flag None), or a flag of its service, that changed just before the service breached."""

    view: RolloutView
    changed_at: datetime
    flag: FlagSuspect | None = None


def suspects_of(views: Iterable[RolloutView]) -> list[RowSuspect]:
    """Every suspect the rows show; a flag once, though every rollout of its service names it."""
    out: list[RowSuspect] = []
    seen: set[tuple[str, str]] = set()
    for view in views:
        if view.evidence is not None:
            out.append(RowSuspect(view, view.evidence.changed_at))
        for case in view.flag_suspects:
            if (case.source, case.flag.name) not in seen:
                seen.add((case.source, case.flag.name))
                out.append(RowSuspect(view, case.evidence.changed_at, case))
    return out


def service_flags(app: MonotuiApp, service: str) -> list[SourceFlag]:
    return list(app.engine.state.flags_of(service))


def candidates(app: MonotuiApp, view: RolloutView, enabled: bool) -> list[SourceFlag]:
    """The service's flags the key would change (on ones for `off`; not one whose state could not be read), from
    sources that take actions; the suspect flags first, newest change first."""
    engine = app.engine
    usable = [(s, f) for s, f in service_flags(app, view.rollout.service)
              if f.enabled != enabled and not f.unreadable and engine.can_flag(s) and not engine.read_only(s)]
    suspects = sorted(view.flag_suspects, key=lambda c: c.evidence.changed_at, reverse=True)
    order = {(c.source, c.flag.name): i for i, c in enumerate(suspects)}
    return sorted(usable, key=lambda sf: order.get((sf[0], sf[1].name), len(order)))


def why_not(app: MonotuiApp, view: RolloutView | None, enabled: bool) -> str | None:
    if view is None:
        return "select a rollout first"
    service = clean(view.rollout.service, 60)
    flags = service_flags(app, view.rollout.service)
    if not flags:
        return f"no flags for {service}: no flag source maps a flag to it"
    engine = app.engine
    acting = [(s, f) for s, f in flags if engine.can_flag(s)]
    if not acting:
        return f"the flag source of {service} takes no actions"
    if all(engine.read_only(s) for s, _ in acting):
        return f"read-only: source {clean(acting[0][0], 40)} takes no actions"
    if not candidates(app, view, enabled):
        return f"every flag of {service} is {'on' if enabled else 'off'} already"
    return None


def open_for_view(app: MonotuiApp, view: RolloutView, enabled: bool) -> None:
    """The key on the selected row: the suspect flag (or the only one) straight to its confirmation, else pick."""
    options = candidates(app, view, enabled)
    if not options:
        app.notify(why_not(app, view, enabled) or "nothing to change", severity="warning", markup=False)
        return
    suspect_names = {(c.source, c.flag.name) for c in view.flag_suspects}
    first = options[0]
    if len(options) == 1 or (first[0], first[1].name) in suspect_names:
        confirm(app, *first, enabled)
        return

    def picked(index: int | None) -> None:
        if index is None:
            app.notify("Cancelled. Nothing was sent.", markup=False)
            return
        confirm(app, *options[index], enabled)

    from monotui.ui.screens.flag_picker import FlagPickerScreen

    app.push_screen(FlagPickerScreen(view.rollout.service, [f for _, f in options], enabled, app.clock()), picked)


def confirm(app: MonotuiApp, source: str, flag: Flag, enabled: bool) -> None:
    """The confirmation for one flag, pinned to the flag as monotui sees it now."""
    plan = app.engine.plan_flag(source, flag, enabled)

    def confirmed(result: Confirmation | None) -> None:
        if result is None:
            app.notify(f"Cancelled: {clean(plan.summary(), 200)}. Nothing was sent.", markup=False)
            return
        app.run_worker(execute(app, plan, result), group="actions", exit_on_error=False)

    from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

    app.push_screen(ConfirmFlagScreen(plan), confirmed)


async def execute(app: MonotuiApp, plan: FlagPlan, result: Confirmation) -> None:
    try:
        outcome = await app.engine.execute_flag(plan, result.reason, confirmed_by=result.confirmed_by)
    except Exception as e:  # never silent: the engine maps every provider failure, so this is a bug
        app.notify(f"{clean(plan.summary(), 200)}: internal error ({type(e).__name__}); the outcome is unknown — "
                   "check the flag before acting again", severity="error", markup=False, timeout=30)
        raise
    app._show_outcome(outcome)


def recheck(app: MonotuiApp, screen: ConfirmFlagScreen) -> None:
    screen.recheck(app.engine.flag_target_changed(screen.plan))
