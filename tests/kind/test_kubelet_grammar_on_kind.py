"""tests/cluster/test_kubelet_grammar.py against a real kubelet: what the simulated kubelet's
grammar claims, checked on the original (and the fingerprint tests/compare compares)."""

from kind_reuse import load, reused_tests

globals().update(reused_tests(load("cluster/test_kubelet_grammar.py")))
