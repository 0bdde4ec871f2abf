"""Argo Rollouts on Kubernetes as a deploy source (provider kind `argo-rollouts`).

- `status.py`: how the kubectl plugin computes status, message, step, weights, revisions and images (pure).
- `patches.py`: the exact requests the plugin sends for each action (pure).
- `kube.py`: the Argo Rollouts kinds; list + watch and PATCH are the shared `monotui/providers/kubernetes.py`
  (kr8s, imported on first use, handles kubeconfig and credentials).
- `provider.py`: the provider the engine drives.
"""
