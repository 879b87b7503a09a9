"""Students' answers, written out by hand: right ones in several styles, and wrong ones with one slip each.

These analytic formulas live in the tests only; the package that students
import has no answer key.  Each wrong answer is a knob turned on the right
derivation, so a catalogue entry reads as the slip a student makes.
"""
import math

import numpy as np


def relu(z):
    return max(z, 0.0)


def relu_prime(z):
    return 1.0 if z > 0 else 0.0


def relu_prime_at_0_is_1(z):
    return 1.0 if z >= 0 else 0.0


# ---------------------------------------------------------------- single neuron

def single_neuron(x, p, t, *, rp=relu_prime, err_sign=1.0, scale=1.0, swap=False, bias_input=False,
                  one=None, one_factor=-1.0):
    x1, x2 = x
    z = p["w1"] * x1 + p["w2"] * x2 + p["b"]
    Y = relu(z)
    delta = err_sign * (t - Y) * rp(z)           # δ = Err·ReLU'(z), minus the gradient wrt z
    g = {"w1": -delta * x1 * scale, "w2": -delta * x2 * scale, "b": -delta * scale}
    if swap:
        g["w1"], g["w2"] = g["w2"], g["w1"]
    if bias_input:
        g["b"] = g["b"] * x1
    if one:
        g[one] *= one_factor
    return g


# ---------------------------------------------------------------- chain

def relu_chain(x, p, t, *, rp=relu_prime, rp1=None, rp2=None, err_sign=1.0, hidden_sign=1.0, back=None,
               scale=1.0, bias_input=False):
    (x1,) = x
    rp1, rp2 = rp1 or rp, rp2 or rp
    z1 = p["w11"] * x1 + p["b1"]
    Y1 = relu(z1)
    z2 = p["w12"] * Y1 + p["b2"]
    Y2 = relu(z2)
    delta2 = err_sign * (t - Y2) * rp2(z2)
    w_back = p["w12"] if back is None else back
    delta1 = hidden_sign * delta2 * w_back * rp1(z1)
    g = {"w11": -delta1 * x1, "b1": -delta1, "w12": -delta2 * Y1, "b2": -delta2}
    if bias_input:
        g["b2"] = g["b2"] * Y1
    return {k: v * scale for k, v in g.items()}


# ---------------------------------------------------------------- 2-2-3 softmax net

def softmax_stable(logits):
    m = max(logits)
    e = [math.exp(v - m) for v in logits]
    s = sum(e)
    return [v / s for v in e]


def softmax_223(x, p, t, *, rp=relu_prime, rp3=None, hidden_sign=1.0, out_sign=1.0, parents=(5, 6, 7),
                target=None, back=None, swap_back=False, scale=1.0, transpose_first=False, bias_input=False):
    x1, x2 = x
    rp3 = rp3 or rp
    z3 = p["W13"] * x1 + p["W23"] * x2 + p["b3"]
    z4 = p["W14"] * x1 + p["W24"] * x2 + p["b4"]
    Y3, Y4 = relu(z3), relu(z4)
    Y = {k: p[f"W3{k}"] * Y3 + p[f"W4{k}"] * Y4 + p[f"b{k}"] for k in (5, 6, 7)}
    P = dict(zip((5, 6, 7), softmax_stable([Y[5], Y[6], Y[7]])))
    tt = t if target is None else target
    dY = {k: out_sign * (P[k] - (1.0 if k == tt else 0.0)) for k in (5, 6, 7)}
    W = dict(p) if back is None else back
    if swap_back:
        W = {**W, **{f"W3{k}": p[f"W4{k}"] for k in (5, 6, 7)}, **{f"W4{k}": p[f"W3{k}"] for k in (5, 6, 7)}}
    dY3 = hidden_sign * sum(dY[k] * W[f"W3{k}"] for k in parents)
    dY4 = hidden_sign * sum(dY[k] * W[f"W4{k}"] for k in parents)
    d3, d4 = dY3 * rp3(z3), dY4 * rp(z4)
    g = {"W13": d3 * x1, "W23": d3 * x2, "W14": d4 * x1, "W24": d4 * x2, "b3": d3, "b4": d4}
    for k in (5, 6, 7):
        g[f"W3{k}"], g[f"W4{k}"], g[f"b{k}"] = dY[k] * Y3, dY[k] * Y4, dY[k]
    if transpose_first:
        g["W14"], g["W23"] = g["W23"], g["W14"]
    if bias_input:
        g["b3"] = g["b3"] * x1
    return {k: v * scale for k, v in g.items()}


def numpy_223(x, p, t):
    """The same net in matrix form, returning NumPy scalars: another right style."""
    X = np.array(x)
    W1 = np.array([[p["W13"], p["W23"]], [p["W14"], p["W24"]]])
    b1 = np.array([p["b3"], p["b4"]])
    W2 = np.array([[p["W35"], p["W45"]], [p["W36"], p["W46"]], [p["W37"], p["W47"]]])
    b2 = np.array([p["b5"], p["b6"], p["b7"]])
    z = W1 @ X + b1
    h = np.maximum(z, 0)
    Y = W2 @ h + b2
    P = np.exp(Y - Y.max())
    P /= P.sum()
    dY = P - np.eye(3)[t - 5]
    dh = W2.T @ dY * (z > 0)
    gW1, gW2 = np.outer(dh, X), np.outer(dY, h)
    names1 = {("W13"): (0, 0), "W23": (0, 1), "W14": (1, 0), "W24": (1, 1)}
    g = {k: gW1[i, j] for k, (i, j) in names1.items()}
    g.update({"b3": dh[0], "b4": dh[1]})
    for r, k in enumerate((5, 6, 7)):
        g[f"W3{k}"], g[f"W4{k}"], g[f"b{k}"] = gW2[r, 0], gW2[r, 1], dY[r]
    return g


# ---------------------------------------------------------------- updates

def descend(grad_fn, **knobs):
    def update(x, p, t, eta):
        g = grad_fn(x, p, t, **knobs)
        return {k: p[k] - eta * g[k] for k in p}
    return update


def update_with(grad_fn, *, step=lambda p, g, eta: p - eta * g, only=None, **knobs):
    """An update whose step rule is changed for all parameters, or for those in `only`."""
    def update(x, p, t, eta):
        g = grad_fn(x, p, t, **knobs)
        return {k: (step(p[k], g[k], eta) if only is None or k in only else p[k] - eta * g[k]) for k in p}
    return update


def sequential_chain(x, p, t, eta):
    """Updates w12 and b2 first (as the notes do), then sends δ2 back through the new w12."""
    g = relu_chain(x, p, t)
    new = dict(p)
    new["w12"], new["b2"] = p["w12"] - eta * g["w12"], p["b2"] - eta * g["b2"]
    g1 = relu_chain(x, p, t, back=new["w12"])
    new["w11"], new["b1"] = p["w11"] - eta * g1["w11"], p["b1"] - eta * g1["b1"]
    return new


def sequential_223(x, p, t, eta):
    """Updates the output layer first, then sends the error back through the new output weights."""
    g = softmax_223(x, p, t)
    out = [k for k in p if k[0] == "W" and k[1] in "34" or k in ("b5", "b6", "b7")]
    new = dict(p)
    for k in out:
        new[k] = p[k] - eta * g[k]
    g1 = softmax_223(x, p, t, back=new)
    for k in ("W13", "W23", "W14", "W24", "b3", "b4"):
        new[k] = p[k] - eta * g1[k]
    return new
