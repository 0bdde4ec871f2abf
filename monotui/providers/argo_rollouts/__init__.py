"""Argo Rollouts on Kubernetes as a deploy source (provider kind `argo-rollouts`).

- `status.py`: how the kubectl plugin computes status, message, step, weights, revisions and images (pure).
- `patches.py`: the exact requests the plugin sends for each action (pure).
- `kube.py`: list + watch and PATCH over the Kubernetes API (kr8s handles kubeconfig and credentials).
- `provider.py`: the provider the engine drives.
"""
