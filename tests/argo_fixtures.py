"""Where the Argo Rollouts fixtures are (shared/, beside the checkout) and what the plugin shows for each."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    for candidate in (ROOT.parent / "shared" / "fixtures" / "argo-rollouts",
                      ROOT / "shared" / "fixtures" / "argo-rollouts"):
        if candidate.is_dir():
            return candidate
    pytest.fail("the Argo Rollouts fixtures (../shared/fixtures/argo-rollouts) are missing")


# What `kubectl argo rollouts get rollout NAME` (v1.9) shows for each fixture rollout:
# (folder, name, status, message, strategy, step, set weight, actual weight, images)
# Images and their tag order as in the plugin's tests at commit 9f8d111d8 (pkg/kubectl-argo-rollouts/cmd/get/
# get_test.go: TestGetBlueGreenRollout "blue (stable, active)", TestGetCanaryPingPongRollout "green (stable, pong)";
# info/info_test.go: TestBlueGreenRolloutInfo, TestPingPongCanaryRolloutInfo): a tag list is sorted only when the
# same image is merged twice (mergeImageAndTags in info/rollout_info.go).
DEADLINE = 'ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.'
CANARY_IMAGES = ["argoproj/rollouts-demo:does-not-exist (canary)", "argoproj/rollouts-demo:green (stable)"]
PLUGIN_SHOWS = [
    ("canary", "canary-demo", "Degraded", DEADLINE, "canary", "0/8", 20, 0, CANARY_IMAGES),
    ("canary", "canary-demo-workloadRef", "Degraded", DEADLINE, "canary", "0/8", 20, 0, CANARY_IMAGES),
    ("canary", "canary-demo-workloadRef-deploy", "Degraded", DEADLINE, "canary", "0/8", 20, 0, CANARY_IMAGES),
    ("canary", "canary-demo-pingpong", "Degraded", DEADLINE, "canary", "0/8", 20, 0,
     ["argoproj/rollouts-demo:does-not-exist (canary, ping)", "argoproj/rollouts-demo:green (stable, pong)"]),
    ("canary", "canary-demo-weights", "Degraded", DEADLINE, "canary", "0/8", 20, 20, CANARY_IMAGES),
    ("canary", "canary-demo-weights-na", "Degraded", DEADLINE, "canary", "0/8", 20, 20, CANARY_IMAGES),
    ("blue-green", "bluegreen-demo", "Paused", "BlueGreenPause", "blue-green", None, None, None,
     ["argoproj/rollouts-demo:blue (stable, active)", "argoproj/rollouts-demo:green (preview)"]),
    ("experiment-analysis", "rollout-experiment-analysis", "Degraded",
     'ProgressDeadlineExceeded: ReplicaSet "rollout-experiment-analysis-6f646bf7b7" has timed out progressing.',
     "canary", "1/2", 25, 25,
     ["argoproj/rollouts-demo:blue (stable)", "argoproj/rollouts-demo:yellow (canary)"]),
    ("experiment-step", "canary-demo", "Progressing", "more replicas need to be updated", "canary", "0/1", 0, 0,
     ["argoproj/rollouts-demo:blue (Σ:canary-preview)", "argoproj/rollouts-demo:green (stable)"]),
    ("rollout-aborted", "rollout-background-analysis", "Degraded",
     'RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)', "canary", "0/2", 0, 0,
     ["argoproj/rollouts-demo:blue (stable)"]),
    ("rollout-invalid", "rollout-invalid", "Degraded",
     'InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.template.metadata.labels: Invalid value: '
     'map[string]string{"app":"doesnt-match"}: `selector` does not match template `labels`',
     "canary", None, 100, 100, []),
]
