"""The rollout actions are one table (monotui/action_kinds.py): every surface — the keys, the footer and palette
(the command table), the CLI, the backend registry, the Argo Rollouts Events — derives from its lines, and every
provider's send knows each action its kind is said to take. A new action is its line and its send."""

from __future__ import annotations

from click.testing import CliRunner

from monotui.action_kinds import DEPLOY_API_ACTIONS, HELD_BY_FREEZE, ROLLOUT_ACTIONS, ActionKind, actions_for
from monotui.cli import cli
from monotui.engine.freeze import HELD
from monotui.providers.argo_rollouts import actors
from monotui.providers.argo_rollouts.patches import PATCHES
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.providers.registry import backend
from monotui.simulator.openapi import openapi_document
from monotui.ui.commands import COMMANDS


def test_every_line_is_a_key_a_cli_command_and_a_registry_capability() -> None:
    runner = CliRunner()
    for spec in ROLLOUT_ACTIONS:
        (entry,) = [c for c in COMMANDS if c.parameter == spec.kind.value]
        assert entry.key == spec.key and entry.label == spec.label and entry.mutating
        result = runner.invoke(cli, [spec.kind.value, "--help"])
        assert result.exit_code == 0, result.output
        assert " ".join(spec.description.split()[:3]) in " ".join(result.output.split())
        for kind in spec.kinds:
            assert spec.kind in backend(kind).actions
        assert spec.kind in actors.VERBS and actors.VERBS[spec.kind] == spec.past


def test_each_provider_sends_every_action_its_kind_takes() -> None:
    assert set(PATCHES) == set(actions_for("argo-rollouts")) == ArgoRolloutsProvider.capabilities
    assert HttpDeployProvider.capabilities == frozenset(DEPLOY_API_ACTIONS) == frozenset(actions_for("http"))
    # the simulator's deploy API documents (and serves) the same actions
    path = openapi_document()["paths"]["/v1/rollouts/{rollout_id}/actions/{action}"]["post"]
    (param,) = [p for p in path["parameters"] if p["name"] == "action"]
    assert param["schema"]["enum"] == [a.value for a in DEPLOY_API_ACTIONS]


def test_a_freeze_holds_exactly_the_lines_that_say_so_and_never_mitigation() -> None:
    assert HELD == HELD_BY_FREEZE == {ActionKind.PROMOTE, ActionKind.PROMOTE_FULL, ActionKind.RESUME}
    assert not HELD & {ActionKind.ROLLBACK, ActionKind.ABORT, ActionKind.PAUSE}
