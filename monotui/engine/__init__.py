"""The engine: polling, production state, the one action pipeline, audit. Nothing here imports textual or rich.

Its names load lazily: importing one engine module (the CLI's `actions`, for `--help`) does not load the others
and their dependencies (config, the HTTP client…).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monotui.engine.actions import ActionPlan
    from monotui.engine.audit import AuditLog, AuditRecord
    from monotui.engine.core import Engine
    from monotui.engine.flag_plan import FlagPlan
    from monotui.engine.flag_state import FlagSuspect, Suspect
    from monotui.engine.outcomes import ActionOutcome
    from monotui.engine.pipeline import ActionPipeline, Sender
    from monotui.engine.resend_ledger import ResendLedger
    from monotui.engine.silences import SilencePlan
    from monotui.engine.state import ProductionState, RolloutView, SourceStatus

_WHERE = {
    "ActionPlan": "actions",
    "AuditLog": "audit",
    "AuditRecord": "audit",
    "ActionOutcome": "outcomes",
    "ActionPipeline": "pipeline",
    "Sender": "pipeline",
    "ResendLedger": "resend_ledger",
    "SilencePlan": "silences",
    "Engine": "core",
    "FlagPlan": "flag_plan",
    "FlagSuspect": "flag_state",
    "Suspect": "flag_state",
    "ProductionState": "state",
    "RolloutView": "state",
    "SourceStatus": "state",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ActionOutcome",
    "ActionPipeline",
    "ActionPlan",
    "AuditLog",
    "AuditRecord",
    "Engine",
    "FlagPlan",
    "FlagSuspect",
    "ProductionState",
    "ResendLedger",
    "RolloutView",
    "Sender",
    "SilencePlan",
    "SourceStatus",
    "Suspect",
]
