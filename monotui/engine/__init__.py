"""The engine: polling, production state, action planning and dispatch, audit. Nothing here imports textual."""

from monotui.engine.actions import ROLLOUT_ACTIONS, ActionPlan, ActionSpec, action_spec
from monotui.engine.audit import AuditLog, AuditRecord
from monotui.engine.core import ActionOutcome, Engine
from monotui.engine.flag_plan import FlagPlan
from monotui.engine.flag_state import FlagSuspect, Suspect
from monotui.engine.state import ProductionState, RolloutView, SourceStatus

__all__ = [
    "ROLLOUT_ACTIONS",
    "ActionOutcome",
    "ActionPlan",
    "ActionSpec",
    "AuditLog",
    "AuditRecord",
    "Engine",
    "FlagPlan",
    "FlagSuspect",
    "ProductionState",
    "RolloutView",
    "SourceStatus",
    "Suspect",
    "action_spec",
]
