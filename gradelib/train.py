"""Training a network of the notes with the student's own update function, and plotting how it went.

    data = regression_data("single_neuron")
    start = initial_params("single_neuron")
    params, losses = train("single_neuron", single_neuron_update, start, data, eta=0.1, epochs=30)
    plot_losses(losses)
    print(summary("single_neuron", start, params, losses, data))   # or "training did not run"

    # mini-batches: the student's batch gradient, p ← p − η·(mean gradient of a batch)
    params, batch_losses = train_minibatch("single_neuron", single_neuron_batch_gradients, start, data,
                                           eta=0.2, epochs=30, batch_size=8)
    plot_loss_runs({"one example at a time": losses, "mini-batches of 8": batch_losses})

Stochastic gradient descent: each epoch visits every example once, in an order
shuffled with the seed, and calls update(x, params, target, eta).  The loss of
an epoch is the mean of gradelib's forward-pass Loss over the data after it.
If the update raises, loops, returns junk, or the numbers blow up, training
stops with one sentence on stdout and returns what it has: a notebook cell
never fails (or hangs) because a student has not written the function yet.
The update is called through gradelib.student.call, as check() calls it: with
a time limit, and with what it prints kept out of the cell's output.

Mini-batch gradient descent (train_minibatch) splits each shuffled epoch into
batches of batch_size examples and takes one step per batch with the
student's batch_gradients(X, params, targets), the gradient of the batch's
mean loss; it stops in the same polite way.
"""

from __future__ import annotations

import collections
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .alt import set_alt
from .draw import new_figure, tex
from .exercises import NETWORKS, find_network
from .student import Problem, call, read_dict
from .text import full_stop

# The fixed "teacher" networks that label the regression data: a student network of the
# same shape can fit them exactly, so training can drive the loss towards 0.
TEACHERS = {
    "single_neuron": dict(w1=0.9, w2=-0.6, b=0.3),
    "relu_chain": dict(w11=1.2, b1=0.3, w12=0.8, b2=-0.1),
}
X_RANGE = 1.5  # inputs uniform in [-1.5, 1.5], rounded to 2 decimals
CENTRES = {5: (0.0, 1.2), 6: (-1.1, -0.7), 7: (1.1, -0.7)}  # the three blobs of three_class_data
SPREAD = 0.35
CLASS_COLOURS = {5: "tab:blue", 6: "tab:orange", 7: "tab:green"}
RUN_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")  # plot_loss_runs: one per run, in order
ALIVE = 0.7  # initial_params keeps every ReLU on for at least this share of the data


def _last(steps, default):
    """The last value steps gives, or default if it gives none: the parameters after an epoch's last step."""
    tail = collections.deque(steps, maxlen=1)
    return tail[0] if tail else default


def _network(network):
    return find_network(network, "gradelib.train")


def regression_data(network: str, n: int = 40, seed: int = 0) -> list[tuple[Any, float]]:
    """n examples (x, target) for "single_neuron" (x = (x1, x2)) or "relu_chain" (x = (x1,)).

    x is uniform in [-1.5, 1.5] (2 decimals); target is the teacher network's output Y (or Y2),
    rounded to 3 decimals.
    """
    if network not in TEACHERS:
        raise ValueError(
            f"regression_data is for 'single_neuron' and 'relu_chain'; for 'softmax_223' "
            f"use three_class_data(). Got {network!r}."
        )
    net = NETWORKS[network]
    rng = np.random.default_rng([seed, 1])
    X = np.round(rng.uniform(-X_RANGE, X_RANGE, size=(n, len(net.inputs))), 2)
    Y = net.forward(tuple(X.T), TEACHERS[network], 0.0)[net.output]
    return [(tuple(float(v) for v in X[i]), float(np.round(Y[i], 3))) for i in range(n)]


def three_class_data(n_per_class: int = 30, seed: int = 0) -> list[tuple[Any, int]]:
    """3·n_per_class examples (x, target): 2-D points in three blobs, labelled with the output nodes 5, 6, 7."""
    rng = np.random.default_rng([seed, 2])
    data = []
    for k, (cx, cy) in CENTRES.items():
        pts = np.round(rng.normal((cx, cy), SPREAD, size=(n_per_class, 2)), 2)
        data += [((float(a), float(b)), k) for a, b in pts]
    return data


def _default_data(net):
    return three_class_data() if net.classes else regression_data(net.name)


def initial_params(network: str, seed: int = 0) -> dict[str, float]:
    """Small random parameters (2 decimals) for network, with every ReLU on for most of its default data.

    Weights are uniform in [-0.8, 0.8]; the biases of ReLU nodes in [0.1, 0.5] and those of the
    softmax outputs 0.  A draw where some ReLU is off for more than 30% of the data is redrawn:
    a unit that starts dead gets no gradient and never learns.
    """
    net = _network(network)
    rng = np.random.default_rng([seed, 3, list(NETWORKS).index(network)])
    data = _default_data(net)
    X = tuple(np.array([x[i] for x, _ in data]) for i in range(len(net.inputs)))
    T = np.array([t for _, t in data])
    for _ in range(1000):
        params = {}
        for p, (src, dst) in net.edges.items():
            if src is not None:
                params[p] = float(np.round(rng.uniform(-0.8, 0.8), 2))
            else:
                params[p] = float(np.round(rng.uniform(0.1, 0.5), 2)) if dst in net.relus else 0.0
        state = net.forward(X, params, T)
        if all(np.mean(state[relu.pre] > 0) >= ALIVE for relu in net.relus.values()):
            return {k: params[k] for k in net.params}
    raise RuntimeError(f"no initial parameters for {network} keep every ReLU alive")  # never seen


def mean_loss(network: str, params: dict[str, float], data: Sequence[Any]) -> float:
    """The mean of gradelib's forward-pass Loss over the data (one vectorised pass)."""
    net = _network(network)
    X = tuple(np.array([x[i] for x, _ in data], float) for i in range(len(net.inputs)))
    T = np.array([t for _, t in data])
    with np.errstate(all="ignore"):  # parameters that blew up give inf or nan, which train() reports
        return float(np.mean(net.forward(X, {k: float(params[k]) for k in net.params}, T)["Loss"]))


def _fn_name(fn):
    return getattr(fn, "__name__", None) or "the update function"


class _Stop(Exception):
    """Training stops: the sentence says where and why."""


def _student_dict(fn, args, net, where, what):
    """One call of the learner's fn, through the checker's guarded path: its dict of floats, or _Stop."""
    name = _fn_name(fn)
    outcome = call(fn, args, name, refuse_oracle=False)  # a learner may train with a function built on the oracle
    sys.stdout.write(outcome.printed)  # the learner's own prints belong in the cell, as when they call it
    if outcome.problem is not None:
        if outcome.problem.mistake == "not_implemented":
            raise _Stop(
                f"Training did not run: {name} still raises NotImplementedError; "
                "write it above, then run this cell again."
            )
        raise _Stop(full_stop(f"Training stopped {where}: {outcome.problem.sentence}"))
    try:
        return read_dict(outcome.value, list(net.params), name, what)
    except Problem as problem:
        raise _Stop(f"Training stopped {where}: {problem.sentence}") from None


def _step(update, args, net, where):
    """One call of the student's update: its new parameters, or _Stop."""
    name, eta = _fn_name(update), args[-1]
    new = _student_dict(update, args, net, where, "new parameters")
    return _finite(new, where, eta, "update", lambda k: f"{name} returned {new[k]} for {k}")


def _finite(new: dict[str, float], where: str, eta: float, what: str, said: Callable[[str], str]) -> dict[str, float]:
    """new, if every parameter in it is finite; else _Stop, said(the first one that is not) saying what it became."""
    bad = [k for k, v in new.items() if not math.isfinite(v)]
    if bad:
        raise _Stop(
            f"Training stopped {where}: {said(bad[0])}; the step blew up, so try a smaller η than {eta:g} "
            f"or check the sign of the {what}."
        )
    return new


def train(network: str, update: Any, params: Any, data: Sequence[Any], eta: float, epochs: int, seed: int = 0) -> Any:
    """Stochastic gradient descent with the student's update(x, params, target, eta) -> new params.

    Returns (params, losses): the last parameters and the mean loss after each epoch.  If update
    raises, loops, returns something that is not a dict of finite numbers for every parameter, or the
    loss stops being finite, prints one sentence to stdout and returns what there is so far.
    """
    net = _network(network)

    def epoch_of(params, order, epoch):
        for step, i in enumerate(order, start=1):
            x, target = data[i]
            params = _step(update, (tuple(x), dict(params), target, eta), net, f"at epoch {epoch}, example {step}")
            yield params

    run = _Run(network, data, eta, epochs, seed, "update")
    return _descend(run, {k: float(params[k]) for k in net.params}, epoch_of)


@dataclass(frozen=True)
class _Run:
    """What both trainers ask of the loop they share: the same for every epoch of one training run."""

    network: str  # the network's name, for the mean loss after each epoch
    data: Sequence[Any]  # the (x, target) examples, visited in a shuffled order each epoch
    eta: float  # the step size, named in the sentence when the loss blows up
    epochs: int  # how many times the data is visited
    seed: int  # seeds the shuffling, so that a run is the same each time
    what: str  # what the student's function gives ("update", "gradient"), whose sign the sentence blames


def _descend(run: _Run, params: dict[str, float], epoch_of: Callable[..., Iterator[dict[str, float]]]) -> Any:
    """The loop both trainers share: each epoch, epoch_of(params, a shuffled order, epoch) yields the
    parameters after each of its steps; the mean loss is kept after each epoch.  A _Stop (or a mean loss
    that is no longer finite) ends training with its sentence on stdout and the parameters reached so far."""
    losses = []
    rng = np.random.default_rng(run.seed)
    try:
        for epoch in range(1, run.epochs + 1):
            params = _last(epoch_of(params, rng.permutation(len(run.data)), epoch), params)
            loss = mean_loss(run.network, params, run.data)
            if not math.isfinite(loss):
                raise _Stop(
                    f"Training stopped after epoch {epoch}: the mean loss is {loss}; "
                    f"try a smaller η than {run.eta:g} or check the sign of the {run.what}."
                )
            losses.append(loss)
    except _Stop as stop:
        print(stop)
    return params, losses


def _gradient_step(batch_gradients, args, net, eta, where):
    """One call of the student's batch gradients: the parameters after p − η·g, or _Stop."""
    grads = _student_dict(batch_gradients, args, net, where, "gradients")  # as train(): training is not checking
    params = args[1]
    new = {k: params[k] - eta * grads[k] for k in net.params}
    return _finite(new, where, eta, "gradient", lambda k: f"{k} became {new[k]}")


def train_minibatch(
    network: str,
    batch_gradients: Any,
    params: Any,
    data: Sequence[Any],
    *,
    eta: float,
    epochs: int,
    batch_size: int,
    seed: int = 0,
) -> Any:
    """Mini-batch gradient descent with the student's batch_gradients(X, params, targets) -> {p: dLoss_batch/dp}.

    The options after data are keyword-only (eta=, epochs=, batch_size=, seed=), as the notebooks write them:
    four numbers in a row are too easy to swap.

    Each epoch shuffles the data with the seed and cuts it into batches of batch_size examples (the
    last may be smaller); each batch moves every parameter by p ← p − η·dLoss_batch/dp, where
    Loss_batch is the mean loss over the batch.  Returns (params, losses) like train(), the loss after
    each epoch being the mean over all the data; stops with one sentence on stdout like train().
    """
    net = _network(network)
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size is a whole number of examples, at least 1; got {batch_size!r}.")

    def epoch_of(params, order, epoch):
        for step, start in enumerate(range(0, len(data), batch_size), start=1):
            chosen = [data[i] for i in order[start : start + batch_size]]
            args = ([tuple(x) for x, _ in chosen], dict(params), [t for _, t in chosen])
            params = _gradient_step(batch_gradients, args, net, eta, f"at epoch {epoch}, batch {step}")
            yield params

    run = _Run(network, data, eta, epochs, seed, "gradient")
    return _descend(run, {k: float(params[k]) for k in net.params}, epoch_of)


def summary(network: str, start: Any, trained: Any, losses: Sequence[float], data: Sequence[Any]) -> str:
    """Two lines for a training result cell: the start and the trained parameters (3 decimals), each with its
    mean loss.  When no epoch finished, the trained line says that training did not run, rather than show
    parameters that may be the start's again as if they had been learned."""

    def line(label, p):
        return f"{label} { ({k: round(v, 3) for k, v in p.items()}) }  mean loss {mean_loss(network, p, data):.4f}"

    if not losses:
        return line("start:  ", start) + "\ntrained: none: training did not run to the end of an epoch (see above)."
    return line("start:  ", start) + "\n" + line("trained:", trained)


def plot_losses(losses: Sequence[float], ax: Any = None, title: str | None = None) -> Any:
    """The mean loss after each epoch against the epoch number; returns the Figure."""
    own = ax is None  # lay out only a figure we made; a caller's figure keeps its own layout
    if own:
        ax = new_figure((6.0, 3.6)).add_subplot()
    fig = ax.figure
    epochs = np.arange(1, len(losses) + 1)
    if len(losses):
        ax.plot(epochs, losses, marker="o" if len(losses) <= 30 else None, markersize=3, color="tab:blue")
        ax.set_xlim(0.5, len(losses) + 0.5)
    else:
        _no_loss(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss over the data")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title if title is not None else "Training loss")
    if own:
        fig.tight_layout()
    return fig


def _no_loss(ax: Any) -> None:
    """The axes' note, in red, that no epoch ended, so there is no loss to plot."""
    ax.text(
        0.5,
        0.5,
        "No loss to plot: training stopped before the first epoch ended.",
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=10,
        color="#b3261e",
    )


def plot_loss_runs(
    runs: dict[str, Sequence[float]], ax: Any = None, title: str | None = None, log: bool = False
) -> Any:
    """Several training runs' mean loss after each epoch on one axes, overlaid: runs is {label: losses}.

    log: a logarithmic loss axis, on which runs that all end near 0 still differ by their factors.
    Returns the Figure.  A run that stopped before its first epoch ended is named in the legend as such.
    """
    own = ax is None
    if own:
        ax = new_figure((6.4, 3.8)).add_subplot()
    fig = ax.figure
    longest = max([len(losses) for losses in runs.values()] + [1])
    for (label, losses), colour in zip(runs.items(), RUN_COLOURS):
        if len(losses):
            epochs = np.arange(1, len(losses) + 1)
            ax.plot(epochs, losses, marker="o" if longest <= 30 else None, markersize=3, color=colour, label=label)
        else:
            ax.plot([], [], color=colour, label=f"{label}: stopped before the first epoch ended")
    if not any(len(losses) for losses in runs.values()):
        _no_loss(ax)
    ax.set_xlim(0.5, longest + 0.5)
    ax.set_xlabel("epoch")
    # a log axis needs a positive loss to place; with none (no run got through an epoch) it stays linear
    log = log and any(v > 0 for losses in runs.values() for v in losses)
    ax.set_ylabel("mean loss over the data" + (" (log scale)" if log else ""))
    if log:
        ax.set_yscale("log", nonpositive="mask")  # a loss of exactly 0 has no place on it: left out
    else:
        ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    ax.set_title(title if title is not None else "Training loss")
    if own:
        fig.tight_layout()
    return fig


def predict(params: dict[str, float], X1: Any, X2: Any) -> Any:
    """The predicted class (5, 6 or 7, the largest P) of the 2-2-3 net at each point of the arrays X1, X2."""
    net = NETWORKS["softmax_223"]
    with np.errstate(all="ignore"):
        state = net.forward((X1, X2), {k: float(params[k]) for k in net.params}, 5)
    return np.array(net.classes)[np.argmax(np.stack([state[p] for p in net.probability_keys]), axis=0)]


def plot_decision_regions(
    params: dict[str, float], data: Sequence[Any], ax: Any = None, title: str | None = None
) -> Any:
    """For softmax_223: the class argmax P over a grid, shaded, and the data points coloured by target."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D

    net = NETWORKS["softmax_223"]
    net.validate(params=params)
    own = ax is None
    if own:
        ax = new_figure((5.6, 4.6)).add_subplot()
    fig = ax.figure
    pts = np.array([x for x, _ in data], float)
    targets = np.array([t for _, t in data])
    lo, hi = pts.min(axis=0) - 0.5, pts.max(axis=0) + 0.5
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    regions = predict(params, g1, g2)
    colours = [CLASS_COLOURS[k] for k in net.classes]
    ax.pcolormesh(
        g1, g2, regions, cmap=ListedColormap(colours), vmin=4.5, vmax=7.5, alpha=0.22, shading="auto", rasterized=True
    )
    for k in net.classes:
        mine = pts[targets == k]
        ax.scatter(mine[:, 0], mine[:, 1], s=22, color=CLASS_COLOURS[k], edgecolor="black", linewidth=0.5)
    right = int(np.sum(predict(params, pts[:, 0], pts[:, 1]) == targets))
    handles = [
        Line2D([], [], marker="o", linestyle="", color=CLASS_COLOURS[k], markeredgecolor="black", label=f"node {k}")
        for k in net.classes
    ]
    ax.legend(handles=handles, title="target", loc="best", fontsize=9)
    ax.set_xlabel(tex(net.inputs[0]))
    ax.set_ylabel(tex(net.inputs[1]))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title if title is not None else f"Predicted class: {right} of {len(data)} points right")
    per_class = ", ".join(f"{int(np.sum(targets == k))} of target node {k}" for k in net.classes)
    set_alt(
        ax,
        f"The plane of the inputs {net.inputs[0]} and {net.inputs[1]}, shaded by the class the network "
        f"predicts there (node 5, 6 or 7), with the {len(data)} data points coloured by their target "
        f"({per_class}); {right} of {len(data)} are predicted right",
    )
    if own:
        fig.tight_layout()
    return fig
