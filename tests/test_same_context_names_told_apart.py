"""Two Kubernetes sources whose kubeconfig contexts have the same name (`kind-kind`, `default`) do not look alike:
with several Kubernetes sources a row's Where starts with its source's name; with one, it is the context/namespace
as before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monotui.config import Thresholds, build_settings
from monotui.engine.attention import Attention
from monotui.engine.core import Engine
from monotui.engine.state import RolloutView
from monotui.models import Phase, Rollout, Strategy
from monotui.render.rollouts import COLUMN_KEYS, row_cells
from monotui.ui.app import MonotuiApp

NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
WHERE = COLUMN_KEYS.index("where")


def view(source: str) -> RolloutView:
    rollout = Rollout(id="payments/payments-api", service="payments-api", environment="kind-kind/payments",
                      strategy=Strategy.CANARY, phase=Phase.HEALTHY, revision=3, version="v1", started_at=NOW)
    return RolloutView(source, rollout, None, Attention.HEALTHY, False, False)


def test_rows_of_two_clusters_with_one_context_name_differ_in_where() -> None:
    east, west = view("east"), view("west")
    alike = [row_cells(v, NOW, Thresholds())[WHERE].plain for v in (east, west)]
    assert alike[0] == alike[1] == "kind-kind/payments"  # one Kubernetes source: as before
    told = [row_cells(v, NOW, Thresholds(), name_sources=True)[WHERE].plain for v in (east, west)]
    assert told[0] != told[1]
    assert told[0].startswith("east:") and told[0].endswith("payments")
    assert told[1].startswith("west:") and told[1].endswith("payments")


async def test_the_screen_names_sources_when_it_has_several_kubernetes_sources(tmp_path: Path) -> None:
    def app_for(*names: str) -> MonotuiApp:
        settings = build_settings({
            "sources": [{"name": n, "kind": "argo-rollouts", "context": "kind-kind",
                         "kubeconfig": str(tmp_path / f"{n}.yaml")} for n in names],
            "actor": "oncall@bastion-1", "audit_log": str(tmp_path / "audit.log")})
        return MonotuiApp(Engine(settings), poll=False)

    for names, named in ((("east", "west"), True), (("east",), False)):
        app = app_for(*names)
        async with app.run_test(size=(80, 24)):
            assert app.rollouts.rows.name_sources is named
