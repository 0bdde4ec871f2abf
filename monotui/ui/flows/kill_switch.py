"""The kill switch flow: which flag of the selected service a key acts on (its suspect flag first, else the only
one, else a picker: screens/flag_picker.py), the confirmation (screens/confirm_flag.py), and the engine's outcome.
The engine plans, pins, audits and sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monotui.engine.core import Engine
from monotui.engine.state import RolloutView
from monotui.engine.suspects import rank_key
from monotui.models import Flag
from monotui.text import clean
from monotui.ui.flows.host import FlowHost

if TYPE_CHECKING:
    from rich.text import Text

    from monotui.engine.flag_plan import FlagPlan
    from monotui.ui.screens.confirm import Confirmation
    from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

# The dialogs are imported when a key opens one: not on the way to the first rows.

SourceFlag = tuple[str, Flag]


def candidates(engine: Engine, view: RolloutView, enabled: bool) -> list[SourceFlag]:
    """The service's flags the key would change (on ones for `off`; not one whose state could not be read), from
    sources that take actions; the suspect flags first, newest change first."""
    usable = [(s, f) for s, f in engine.state.flags_of(view.rollout.service)
              if f.enabled != enabled and not f.unreadable and engine.can_flag(s) and not engine.read_only(s)]
    suspects = sorted(view.flag_suspects, key=lambda c: rank_key(c.evidence))
    order = {(c.source, c.flag.name): i for i, c in enumerate(suspects)}
    return sorted(usable, key=lambda sf: order.get((sf[0], sf[1].name), len(order)))


def why_not(engine: Engine, view: RolloutView | None, enabled: bool) -> str | None:
    """Why the key cannot change a flag of the selected service, in one line; None when it can."""
    if view is None:
        return "select a rollout first"
    service = clean(view.rollout.service, 60)
    flags = list(engine.state.flags_of(view.rollout.service))
    if not flags:
        return f"no flags for {service}: no flag source maps a flag to it"
    acting = [(s, f) for s, f in flags if engine.can_flag(s)]
    if not acting:
        return f"the flag source of {service} takes no actions"
    if all(engine.read_only(s) for s, _ in acting):
        return f"read-only: source {clean(acting[0][0], 40)} takes no actions"
    if not candidates(engine, view, enabled):
        return f"every flag of {service} is {'on' if enabled else 'off'} already"
    return None


def open_for_view(host: FlowHost, view: RolloutView, enabled: bool) -> None:
    """The key on the selected row: the suspect flag (or the only one) straight to its confirmation, else pick."""
    options = candidates(host.engine, view, enabled)
    if not options:
        host.say(why_not(host.engine, view, enabled) or "nothing to change", severity="warning")
        return
    if goes_straight_to(view, options):
        confirm(host, *options[0], enabled)
        return

    def picked(index: int | None) -> None:
        if index is None:
            host.say("Cancelled. Nothing was sent.")
            return
        confirm(host, *options[index], enabled)

    from monotui.ui.screens.flag_picker import FlagPickerScreen

    host.ask(FlagPickerScreen(view.rollout.service, [f for _, f in options], enabled, host.now()), picked)


def goes_straight_to(view: RolloutView, options: list[SourceFlag]) -> bool:
    """Whether the key opens the first option's confirmation at once (the only flag, or a suspect one) rather than
    the picker."""
    suspect_names = {(c.source, c.flag.name) for c in view.flag_suspects}
    return len(options) == 1 or (options[0][0], options[0][1].name) in suspect_names


def confirm(host: FlowHost, source: str, flag: Flag, enabled: bool, why: Text | None = None) -> None:
    """The confirmation for one flag, pinned to the flag as monotui sees it now (`why`: opened on a suspect,
    its rank and evidence)."""
    plan = host.engine.plan_flag(source, flag, enabled)

    def confirmed(result: Confirmation | None) -> None:
        if result is None:
            host.say(f"Cancelled: {clean(plan.summary(), 200)}. Nothing was sent.")
            return
        host.run(execute(host, plan, result))

    from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

    dialog = ConfirmFlagScreen(plan, why, owner=host.engine.owner(flag.service) if flag.service else None)
    host.ask(dialog, confirmed, recheck=lambda: recheck(host.engine, dialog))


async def execute(host: FlowHost, plan: FlagPlan, result: Confirmation) -> None:
    try:
        outcome = await host.engine.execute_flag(plan, result.reason, confirmed_by=result.confirmed_by)
    except Exception as e:  # never silent: the engine maps every provider failure, so this is a bug
        host.say(f"{clean(plan.summary(), 200)}: internal error ({type(e).__name__}); the outcome is unknown — "
                 "check the flag before acting again", severity="error", timeout=30)
        raise
    host.show_outcome(outcome)


def recheck(engine: Engine, screen: ConfirmFlagScreen) -> None:
    """An open flag confirmation learns at once when its flag changed (it then refuses to confirm)."""
    screen.recheck(engine.flag_target_changed(screen.plan))
