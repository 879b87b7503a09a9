"""Latency of gradelib.check() per exercise, for a right answer and for a wrong one (with diagnosis).

Every exercise of the contract is timed: the gradients and updates, and the newer checks (the staged pieces,
the learner's own central difference and relative error, the mini-batch).

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


def _pieces_223(x, p, t, *, output_error=lambda P, k, t: P[k] - (k == t)):
    """Every local piece of the 2-2-3 net's backward pass, written out (the learner's staged functions)."""
    z = {h: p[f"W1{h}"] * x[0] + p[f"W2{h}"] * x[1] + p[f"b{h}"] for h in (3, 4)}
    Y = {h: hw.relu(z[h]) for h in (3, 4)}
    logits = [p[f"W3{k}"] * Y[3] + p[f"W4{k}"] * Y[4] + p[f"b{k}"] for k in (5, 6, 7)]
    P = dict(zip((5, 6, 7), hw.softmax_stable(logits)))
    dY = {k: output_error(P, k, t) for k in (5, 6, 7)}
    dYh = {h: sum(dY[k] * p[f"W{h}{k}"] for k in (5, 6, 7)) for h in (3, 4)}
    return {
        "output": {f"Y{k}": dY[k] for k in (5, 6, 7)},
        "hidden": {f"Y{h}": dYh[h] for h in (3, 4)},
        "deltas": {f"z{h}": dYh[h] * hw.relu_prime(z[h]) for h in (3, 4)},
    }


def _deltas_chain(x, p, t, *, gate=True):
    z1 = p["w11"] * x[0] + p["b1"]
    z2 = p["w12"] * hw.relu(z1) + p["b2"]
    delta2 = (t - hw.relu(z2)) * (hw.relu_prime(z2) if gate else 1.0)
    return {"delta2": delta2, "delta1": delta2 * p["w12"] * hw.relu_prime(z1)}


def _central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def _batch(X, p, targets, *, reduce=lambda gs: sum(gs) / len(gs)):
    grads = [hw.single_neuron(x, p, t) for x, t in zip(X, targets)]
    return {k: reduce([g[k] for g in grads]) for k in grads[0]}


CASES.update({
    "relu_chain_deltas": (_deltas_chain, partial(_deltas_chain, gate=False)),
    "softmax_223_output_errors": (lambda x, p, t: _pieces_223(x, p, t)["output"],
                                  lambda x, p, t: _pieces_223(x, p, t, output_error=lambda P, k, t: P[k])["output"]),
    "softmax_223_hidden_errors": (lambda x, p, t: _pieces_223(x, p, t)["hidden"],
                                  lambda x, p, t: _pieces_223(x, p, t, output_error=lambda P, k, t: P[k])["hidden"]),
    "softmax_223_hidden_deltas": (lambda x, p, t: _pieces_223(x, p, t)["deltas"],
                                  lambda x, p, t: _pieces_223(x, p, t, output_error=lambda P, k, t: P[k])["deltas"]),
    "central_difference": (_central, lambda f, x, h=1e-5: (f(x + h) - f(x)) / h),
    "relative_error": (lambda a, b: 0.0 if a == b == 0 else abs(a - b) / max(abs(a), abs(b)),
                       lambda a, b: abs(a - b)),
    "single_neuron_batch": (_batch, partial(_batch, reduce=sum)),
})


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
    print(f"{'exercise':26} {'right: median':>14} {'max':>8} {'wrong+diagnosis: median':>24} {'max':>8}   (ms, {runs} seeds)")
    worst = 0.0
    for exercise, (right, wrong) in CASES.items():
        assert gradelib.check(exercise, right).passed and not gradelib.check(exercise, wrong).passed
        r_med, r_max = median_ms(exercise, right, runs)
        w_med, w_max = median_ms(exercise, wrong, runs)
        worst = max(worst, r_med, w_med)
        print(f"{exercise:26} {r_med:14.2f} {r_max:8.2f} {w_med:24.2f} {w_max:8.2f}")
    print(f"worst median: {worst:.2f} ms (goal < 20 ms)")


if __name__ == "__main__":
    main()
