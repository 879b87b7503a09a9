"""Latency of gradelib.check() per exercise, for a right answer and for a wrong one (with diagnosis).

    python benchmarks/check_latency.py [--runs 200]

Each run uses a new seed, so new test points: nothing is cached between runs.
Goal (issue 2): median under 20 ms for every exercise.
"""
import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import handwritten as hw  # noqa: E402

import gradelib  # noqa: E402

CASES = {
    "single_neuron": (hw.single_neuron, partial(hw.single_neuron, swap=True)),
    "single_neuron_update": (hw.descend(hw.single_neuron), hw.update_with(hw.single_neuron, step=lambda p, g, e: p - g)),
    "relu_chain": (hw.relu_chain, partial(hw.relu_chain, back=1.0)),
    "relu_chain_update": (hw.descend(hw.relu_chain), hw.sequential_chain),
    "softmax": (hw.softmax_stable, lambda l: [2.718281828 ** v / sum(2.718281828 ** u for u in l) for v in l]),
    "softmax_223": (hw.softmax_223, partial(hw.softmax_223, parents=(5,))),
    "softmax_223_update": (hw.descend(hw.softmax_223), hw.sequential_223),
}


def median_ms(exercise, fn, runs):
    times = []
    for seed in range(runs):
        start = time.perf_counter()
        gradelib.check(exercise, fn, seed=seed)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), 1000 * max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    print(f"{'exercise':22} {'right: median':>14} {'max':>8} {'wrong+diagnosis: median':>24} {'max':>8}   (ms, {runs} seeds)")
    worst = 0.0
    for exercise, (right, wrong) in CASES.items():
        assert gradelib.check(exercise, right).passed and not gradelib.check(exercise, wrong).passed
        r_med, r_max = median_ms(exercise, right, runs)
        w_med, w_max = median_ms(exercise, wrong, runs)
        worst = max(worst, r_med, w_med)
        print(f"{exercise:22} {r_med:14.2f} {r_max:8.2f} {w_med:24.2f} {w_max:8.2f}")
    print(f"worst median: {worst:.2f} ms (goal < 20 ms)")


if __name__ == "__main__":
    main()
