"""The Argo Rollouts kinds, read and patched through the shared Kubernetes access (monotui/providers/kubernetes.py).
"""

from __future__ import annotations

from monotui.providers.kubernetes import REPLICA_SETS, SERVICE_ACCOUNT, Expired, KubeClient, Resource, error_for

ROLLOUTS = Resource("argoproj.io/v1alpha1", "rollouts", "Rollout")
ANALYSIS_RUNS = Resource("argoproj.io/v1alpha1", "analysisruns", "AnalysisRun")
EXPERIMENTS = Resource("argoproj.io/v1alpha1", "experiments", "Experiment")

__all__ = ["ANALYSIS_RUNS", "EXPERIMENTS", "REPLICA_SETS", "ROLLOUTS", "SERVICE_ACCOUNT", "Expired", "KubeClient",
           "Resource", "error_for"]
