"""Figures for the live dashboard: latency from a watch event reaching the recorder to the
dashboard's widget showing it (p50/p95 over a run), and CPU used while a run is idle.

Usage: .venv/bin/python bench/dashboard.py [--scenario ignore] [--idle 20]
Needs the lab cluster (kjlab up).
"""

import argparse
import statistics
import sys
import time

from kjlab.runs import scenarios
from kjlab.runs.record import Recorder
from kjlab.widgets import JobDashboard


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="ignore")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measurement")
    args = parser.parse_args()

    boards = []

    def attach(recorder):
        board = JobDashboard(title=args.scenario)
        board.attach(recorder)
        boards.append(board)

    result = scenarios.run(args.scenario, fast=True, echo=False, on_start=attach, namespace="bench-dashboard")
    board = boards[0]
    board.finish()
    lat = sorted(board.latencies)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    print(f"{result.headline()}")
    print(f"rows recorded: {len(result.rows)}, dashboard renders: {board.renders}")
    print(f"event-to-widget latency: p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms (throttle {0.2 * 1000:.0f} ms)")

    # Idle: a recorder and a dashboard on a namespace where nothing happens.
    from kjlab.actions import namespaces
    from kjlab.cluster import lab_context

    ctx = lab_context()
    ns = scenarios.fresh_namespace(ctx, "bench-idle")
    recorder = Recorder(ctx, ns).start()
    idle = JobDashboard(title="idle").attach(recorder)
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(args.idle)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    recorder.stop()
    idle.finish()
    namespaces.delete(ctx, ns)
    print(f"idle CPU (recorder watches + dashboard, this process): {100 * cpu / wall:.2f}% of one core over {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
