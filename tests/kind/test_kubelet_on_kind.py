"""tests/cluster/test_kubelet.py against a real kubelet: exit codes, sleeps, ErrImagePull ->
ImagePullBackOff, eviction -> DisruptionTarget and phase Failed, OnFailure restarts, Indexed
branches. What the simulated kubelet claims to copy, checked on the original."""

from kind_reuse import load, reused_tests

globals().update(reused_tests(load("cluster/test_kubelet.py")))
