"""The three networks of the lecture notes: forward pass and loss, nothing else.

Names follow the notes: notes 000 for ``single_neuron`` and ``relu_chain``,
notes 002 for ``softmax_223`` (W_ij is the weight from node i to node j).

Every function takes ``x`` (a tuple), ``params`` (a dict keyed by the notes'
names) and ``target``, and returns a dict of every intermediate value, ending
with ``Loss``.  The arithmetic broadcasts, so the oracle can push many
perturbed copies of the parameters through one call; ``ops`` lets the
diagnosis swap a local derivative (see ``gradelib.surgery``) without a second
copy of each network.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Plain:
    """The ordinary arithmetic: ReLU(z) = max(z, 0) and an edge carries w·y."""

    def relu(self, node: str, z: Any) -> Any:
        return np.maximum(z, 0.0)

    def edge(self, weight: str, w: Any, y: Any) -> Any:
        return w * y


PLAIN = Plain()


def single_neuron(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """Y = ReLU(w1·x1 + w2·x2 + b),  Err = O_b − Y,  Loss = ½·Err²."""
    x1, x2 = x
    z = ops.edge("w1", params["w1"], x1) + ops.edge("w2", params["w2"], x2) + params["b"]
    Y = ops.relu("Y", z)
    Err = target - Y
    return {"z": z, "Y": Y, "Err": Err, "Loss": 0.5 * Err**2}


def relu_chain(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """Y1 = ReLU(w11·x1 + b1),  Y2 = ReLU(w12·Y1 + b2),  Loss = ½·(O_b2 − Y2)²."""
    (x1,) = x
    z1 = ops.edge("w11", params["w11"], x1) + params["b1"]
    Y1 = ops.relu("Y1", z1)
    z2 = ops.edge("w12", params["w12"], Y1) + params["b2"]
    Y2 = ops.relu("Y2", z2)
    Err2 = target - Y2
    return {"z1": z1, "Y1": Y1, "z2": z2, "Y2": Y2, "Err2": Err2, "Loss": 0.5 * Err2**2}


def log_softmax(logits: Any) -> Any:
    """log P_k = Y_k − m − log Σ_j exp(Y_j − m), with m = max_j Y_j.

    Subtracting the maximum keeps every exp() in [0, 1], so logits such as
    [1000, 1001, 1002] neither overflow nor lose the answer.
    """
    m = logits[0]
    for Y in logits[1:]:
        m = np.maximum(m, Y)
    total = sum(np.exp(Y - m) for Y in logits)
    return [Y - m - np.log(total) for Y in logits]


def softmax(logits: Any) -> Any:
    """P_k = exp(Y_k) / Σ_j exp(Y_j), computed through the stable log_softmax."""
    return [np.exp(logP) for logP in log_softmax(logits)]


def softmax_223(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """The 2-2-3 network of notes 002 with Loss = −log P_target, target ∈ {5, 6, 7}.

    Y3 = ReLU(W13·X1 + W23·X2 + b3),  Y4 = ReLU(W14·X1 + W24·X2 + b4),
    Y5..Y7 = W3k·Y3 + W4k·Y4 + bk (linear),  P = softmax(Y5, Y6, Y7).
    """
    x1, x2 = x
    p, e = params, ops.edge
    z3 = e("W13", p["W13"], x1) + e("W23", p["W23"], x2) + p["b3"]
    z4 = e("W14", p["W14"], x1) + e("W24", p["W24"], x2) + p["b4"]
    Y3, Y4 = ops.relu("Y3", z3), ops.relu("Y4", z4)
    Y5 = e("W35", p["W35"], Y3) + e("W45", p["W45"], Y4) + p["b5"]
    Y6 = e("W36", p["W36"], Y3) + e("W46", p["W46"], Y4) + p["b6"]
    Y7 = e("W37", p["W37"], Y3) + e("W47", p["W47"], Y4) + p["b7"]
    logP5, logP6, logP7 = log_softmax([Y5, Y6, Y7])
    target = np.asarray(target)
    Loss = -np.where(target == 5, logP5, np.where(target == 6, logP6, logP7))
    return {
        "z3": z3,
        "z4": z4,
        "Y3": Y3,
        "Y4": Y4,
        "Y5": Y5,
        "Y6": Y6,
        "Y7": Y7,
        "P5": np.exp(logP5),
        "P6": np.exp(logP6),
        "P7": np.exp(logP7),
        "Loss": Loss,
    }
