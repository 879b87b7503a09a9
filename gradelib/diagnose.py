"""Naming the mistake: which wrong network, or which branch, produces the student's numbers.

Every candidate is computed from the numerical oracle: the correct gradient G
transformed (−G, 2G, G/2, another parameter's gradient, ...), or the gradient
of a network with one local derivative changed (gradelib.surgery), or of the
same network with another target.  A parameter is explained by the first
candidate that matches the student at every test point (and differs from G
somewhere).  What no candidate explains is described by the forward-pass
state: at which points it is wrong, and which ReLUs were on there.

Agreement uses the checker's tolerance: |s − g| ≤ ATOL + RTOL·|g|.
"""
import numpy as np

from .oracle import loss_gradients
from .surgery import record, variants

# The oracle's own error is below 1e-9 at the test points (see gradelib.oracle);
# a right answer in float64 or even float32 is well inside these, while every
# real mistake misses by a factor, not by a rounding error.
RTOL = 1e-5
ATOL = 1e-7


def agree(s, g):
    """Element-wise |s − g| ≤ ATOL + RTOL·|g|."""
    return np.abs(np.asarray(s) - np.asarray(g)) <= ATOL + RTOL * np.abs(np.asarray(g))


def close(s, g):
    return bool(np.all(agree(s, g)))


def candidates(ex, pts, G):
    """(label, detail, {param: values}) in order of preference, computed only as far as they are asked for."""
    net, update = ex.network, ex.kind == "update"
    names = net.params
    yield "sign", None, {k: -G[k] for k in names}
    if update:
        yield "missing_eta", None, {k: G[k] / pts.E for k in names}
        yield "ascent_missing_eta", None, {k: -G[k] / pts.E for k in names}
        yield "returned_gradient", None, {k: (pts.P[k] - G[k]) / pts.E for k in names}
    yield "factor", 2, {k: 2 * G[k] for k in names}
    yield "factor", 0.5, {k: 0.5 * G[k] for k in names}
    base, _ = record(net, pts.X, pts.P, pts.T)
    for label, detail, ops in variants(net, base, pts.P, G if update else None, pts.E):
        yield label, detail, loss_gradients(net, pts.X, pts.P, pts.T, ops)
    if net.classes:
        c = np.array(net.classes)
        rules = [(f"node {t} at every point", np.full(len(pts), t)) for t in net.classes]
        rules += [("the node after the real target", c[(np.searchsorted(c, pts.T) + 1) % 3]),
                  ("the node before the real target", c[(np.searchsorted(c, pts.T) - 1) % 3])]
        for rule, T in rules:
            if np.any(T != pts.T):
                yield "wrong_target", rule, loss_gradients(net, pts.X, pts.P, T)
    for q in names:
        yield "swap", q, {k: G[q] for k in names if k != q}
    yield "zero", None, {k: 0 * G[k] for k in names}


def label_parameters(ex, pts, S, G, wrong):
    """{param: (label, detail)} for every wrong parameter some candidate explains."""
    labels = {}
    for label, detail, V in candidates(ex, pts, G):
        if len(labels) == len(wrong):
            break
        for k in wrong:
            if k not in labels and k in V and close(S[k], V[k]) and not close(V[k], G[k]):
                labels[k] = (label, detail)
    return labels


def diagnose(ex, pts, S, G):
    """[(mistake, [params], sentence, example point index)] for every parameter that is wrong."""
    net = ex.network
    wrong = [k for k in net.params if not close(S[k], G[k])]
    labels = label_parameters(ex, pts, S, G, wrong)
    words = Words(ex, pts)
    findings, done = [], set()
    groups = {}
    for k in wrong:
        if k in labels:
            groups.setdefault(labels[k], []).append(k)
    for (label, detail), ks in groups.items():
        if label == "swap":
            for k in ks:
                if k in done:
                    continue
                partner = detail if labels.get(detail) == ("swap", k) else None
                done.update([k, partner])
                findings.append(words.swap(k, detail, partner) + (_first_bad(S[k], G[k]),))
            continue
        findings.append(words.explain(label, detail, ks) + (_first_bad(S[ks[0]], G[ks[0]]),))
    for k in wrong:
        if k not in labels:
            findings.append(words.unexplained(k, S[k], G[k]) + (_first_bad(S[k], G[k]),))
    return findings


def _first_bad(s, g):
    return int(np.argmax(~agree(s, g)))


def _join(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class Words:
    """The sentences, in the notes' symbols."""

    def __init__(self, ex, pts):
        self.ex, self.pts, self.net = ex, pts, ex.network
        self.update = ex.kind == "update"

    def name(self, k):
        return k if self.update else f"dLoss/d{k}"

    def names(self, ks):
        text = _join([self.name(k) for k in ks])
        return text + (" are" if len(ks) > 1 else " is")

    def loss_hint(self):
        if self.net.classes:
            return ("dLoss/dY_k = P_k − 1 at the target node and P_k at the other outputs "
                    "(not 1 − P_k and −P_k).")
        out = "Y" if "Y" in self.net.relus else "Y2"
        t = self.net.target_name.split()[-1]
        return f"With Loss = ½({t} − {out})², dLoss/d{out} = −({t} − {out}) = {out} − {t}: check the sign of your error term."

    def explain(self, label, detail, ks):
        net, all_params = self.net, set(self.net.params)
        hidden = set(net.hidden_params)
        if label == "sign":
            if self.update:
                if set(ks) == all_params:
                    return ("gradient_ascent", ks,
                            "Your update moves uphill: it returns p + η·dLoss/dp, which is gradient ascent. "
                            "Gradient descent subtracts: p ← p − η·dLoss/dp. (Notes 000 write w + η·δ·x only "
                            "because their δ = Err·ReLU'(z) is minus the gradient.)")
                if hidden and set(ks) == hidden:
                    return ("gradient_ascent_hidden", ks,
                            f"Your hidden-layer update ({_join(ks)}) climbs the loss: it adds η·dLoss/dp. "
                            "This is the slip in notes 002, whose hidden updates read W13 = W13 + η·{…}·Relu'(…)·X1: "
                            "there {…}·Relu'(…)·X1 is dLoss/dW13 itself, not its negative as δ was in notes 000, "
                            "so descent needs W13 − η·{…}·Relu'(…)·X1.")
                return ("gradient_ascent_param", ks,
                        f"Your update of {_join(ks)} adds η·dLoss/dp (a step uphill); "
                        "gradient descent subtracts: p ← p − η·dLoss/dp.")
            if set(ks) == all_params:
                return ("sign_flip", ks, "Every gradient has the wrong sign. " + self.loss_hint())
            if hidden and set(ks) == hidden:
                return ("sign_flip_hidden", ks,
                        f"The hidden-layer gradients ({_join(ks)}) have the wrong sign while the output "
                        "layer's are right: the error flowing back into the hidden layer has its sign flipped.")
            return ("sign_flip_param", ks, f"{self.names(ks)} the right size but {'have' if len(ks) > 1 else 'has'} "
                                           "the wrong sign.")
        if label == "factor":
            big = detail == 2
            what = "twice" if big else "half"
            if self.update:
                return ("factor_2" if big else "factor_half", ks,
                        f"Your update of {_join(ks)} takes a step {what} as long as η·dLoss/dp.")
            hint = ("Did you drop the ½ of the loss, or count a term twice?" if big else
                    "The 2 from differentiating the square cancels the ½ of the loss; is a stray ½ left?")
            return ("factor_2" if big else "factor_half", ks, f"{self.names(ks)} {what} the right value. {hint}")
        if label == "missing_eta":
            return ("missing_eta", ks, f"Your update of {_join(ks)} leaves out the learning rate: it returns "
                                       "p − dLoss/dp; gradient descent steps p − η·dLoss/dp.")
        if label == "ascent_missing_eta":
            return ("gradient_ascent", ks, f"Your update of {_join(ks)} returns p + dLoss/dp: it climbs the loss "
                                           "and leaves out η. Gradient descent steps p − η·dLoss/dp.")
        if label == "returned_gradient":
            return ("returned_gradient", ks, f"For {_join(ks)} you returned the gradient, not the new value "
                                             "p − η·dLoss/dp.")
        if label == "zero":
            if self.update:
                return ("not_updated", ks, f"Your update leaves {_join(ks)} unchanged.")
            return ("zero_gradient", ks, f"{self.names(ks)} 0 at every test point, but the gradient is not.")
        if label == "missing_relu_derivative":
            z = net.relus[detail]
            return ("missing_relu_derivative", ks,
                    f"{self._grads(ks)} nonzero at test points where {z[1]} is off ({z[2]} < 0, so "
                    f"ReLU'({z[2]}) = 0 and nothing flows back through it): multiply by ReLU'({z[2]}).")
        if label == "relu_instead_of_derivative":
            z = net.relus[detail]
            return ("relu_instead_of_derivative", ks,
                    f"In {_join(ks)} you multiplied by ReLU({z[2]}), the output of {z[1]}, where its "
                    f"derivative ReLU'({z[2]}) belongs (1 when on, 0 when off).")
        if label == "one_parent_only":
            h, keep = detail
            parents = [net.edges[e][1] for e in net.out_edges(h)]
            chain = self.back_sum(h)
            return ("one_parent_only", ks,
                    f"{self._grads(ks)} computed through only the path from {h} through {net.edges[keep][1]}. "
                    f"{net.relus[h][1].capitalize()} feeds {_join(parents)}, so its gradient sums over all "
                    f"its parents: dLoss/d{h} = {chain}.")
        if label == "missing_backprop_weight":
            chain = self.back_sum(detail)
            return ("missing_backprop_weight", ks,
                    f"{self._grads(ks)} computed with the error sent back to {net.relus[detail][1]} without the weight it "
                    f"flows through: dLoss/d{detail} = {chain}.")
        if label == "swapped_backprop_weights":
            h, other = detail
            return ("swapped_indices", ks,
                    f"{self._grads(ks)} computed with the error sent back to {net.relus[h][1]} through {net.relus[other][1]}'s "
                    f"weights ({_join(net.out_edges(other))}) instead of its own ({_join(net.out_edges(h))}): "
                    "W_ij runs from node i to node j.")
        if label == "sequential_update":
            outs = [e for h in net.hidden_nodes for e in net.out_edges(h)]
            return ("sequential_update", ks,
                    f"The update of {_join(ks)} sends the error back through {_join(outs)} after you had already "
                    f"updated {'it' if len(outs) == 1 else 'them'}. Compute every gradient at the old parameters "
                    "first, then update them all.")
        if label == "wrong_target":
            return ("wrong_target", ks,
                    f"{self._grads(ks)} computed as if the target were {detail}. "
                    "dLoss/dY_k = P_k − 1 only at the target node, and P_k at the others.")
        raise ValueError(label)

    def back_sum(self, h):
        """dLoss/dh as a sum over h's parents, with ReLU' where a parent is a ReLU node."""
        terms = []
        for e in self.net.out_edges(h):
            dst = self.net.edges[e][1]
            relu = f"·ReLU'({self.net.relus[dst][2]})" if dst in self.net.relus else ""
            terms.append(f"dLoss/d{dst}{relu}·{e}")
        return " + ".join(terms)

    def _grads(self, ks):
        if self.update:
            return f"Your update of {_join(ks)} uses gradients that are"
        return self.names(ks)

    def swap(self, k, q, partner):
        net = self.net
        src_k, dst_k = net.edges[k]
        src_q, dst_q = net.edges[q]
        if src_k is None and src_q is not None and dst_k == dst_q:
            return ("bias_times_input", [k],
                    f"Your {self.name(k)} equals {self.name(q)}: the bias {k} was multiplied by {src_q}. "
                    f"A bias is added to the sum, so d(sum)/d{k} = 1 and no input belongs in its gradient.")
        inputs_swapped = src_k is not None and src_q is not None and dst_k == dst_q
        why = f"{src_k} and {src_q} are exchanged" if inputs_swapped else \
            "check the indices (W_ij runs from node i to node j)"
        mistake = "swapped_inputs" if inputs_swapped else "swapped_indices"
        if partner:
            return (mistake, [k, q], f"Your {self.name(k)} and {self.name(q)} are swapped: {why}.")
        return (mistake, [k], f"Your {self.name(k)} is the right value for {self.name(q)}: {why}.")

    def unexplained(self, k, s, g):
        net, pts = self.net, self.pts
        bad = ~agree(s, g)
        n, m = len(bad), int(bad.sum())
        for u in net.units_on_path(k):
            off = ~pts.on(u)
            label, expr = net.relus[u][1], net.relus[u][2]
            if np.all(off[bad]) and np.all(np.abs(g[bad]) <= ATOL):
                own = u == net.edges[k][1] or u in net.downstream(net.edges[k][1])
                return (("missing_relu_derivative" if own else "nonzero_where_off"), [k],
                        f"{self.names([k])} nonzero at test points where {label} is off ({expr} < 0), "
                        f"where it must be 0" + (f": multiply by ReLU'({expr})." if own else
                                                 f" because {u} = ReLU(…) = 0 there."))
            if np.all(~off[bad]) and np.any(off):
                return ("wrong_value", [k], f"{self.names([k])} right where {label} is off but wrong where it "
                                            f"is on ({m} of {n} test points).")
        nz = np.abs(g) > ATOL
        if np.any(nz) and np.all(np.abs(s[~nz]) <= ATOL):
            ratio = s[nz] / g[nz]
            if np.allclose(ratio, ratio[0], rtol=1e-6) and abs(ratio[0] - 1) > 1e-3:
                return ("constant_factor", [k], f"{self.names([k])} off by a constant factor: "
                                                f"{ratio[0]:.4g} times the right value.")
        return ("wrong_value", [k], f"{self.names([k])} wrong at {m} of the {n} test points.")
