"""Reading failure waves and the back-off between them from a run's timeline."""

import pandas as pd

from kjlab.runs.result import Recording


def _run(fail_times):
    rows = [{"kind": "pod", "name": f"p{i}", "phase": "Running", "t": t - 5} for i, t in enumerate(fail_times)]
    rows += [{"kind": "pod", "name": f"p{i}", "phase": "Failed", "t": t} for i, t in enumerate(fail_times)]
    rows += [{"kind": "pod", "name": f"p{i}", "phase": "Failed", "t": t + 0.5} for i, t in enumerate(fail_times)]
    return Recording(rows)


def backoff_waves(recording):
    return recording.backoff_waves()


def test_two_pods_a_wave_double_n_each_time():
    # failjob without its policy, measured on v1.36: two pods fail per wave, gaps 26 / 85 / 325 s.
    waves = backoff_waves(_run([5.8, 6.1, 31.7, 31.9, 116.5, 117.0, 441.2, 441.4]))
    assert list(waves["pods failed"]) == [2, 2, 2, 2]
    assert list(waves["failures so far (n)"]) == [2, 4, 6, 8]
    assert list(waves["back-off (s)"]) == [20, 80, 320, 600]  # 10 s x 2^(n-1), at most 10 min
    assert list(waves["gap to next wave (s)"])[:3] == [26, 85, 325]
    assert pd.isna(list(waves["gap to next wave (s)"])[3])
