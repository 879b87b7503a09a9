"""gradelib.matrix: the 2-2-3 gradients as four NumPy lines, checked against the scalar oracle."""
import numpy as np
import pytest

from gradelib import matrix
from gradelib.exercises import NETWORKS

NET = NETWORKS["softmax_223"]


def test_row_i_is_from_node_i_and_column_j_into_node_j():
    """W1[i, j] is W from input node i+1 to hidden node j+3; W2[i, j] from hidden node i+3 to output j+5."""
    n = matrix.names()
    assert [[n["W1"][i][j] for j in range(2)] for i in range(2)] == [[f"W{i + 1}{j + 3}" for j in range(2)]
                                                                     for i in range(2)]
    assert n["W2"] == [[f"W{i + 3}{j + 5}" for j in range(3)] for i in range(2)]
    assert n["b1"] == ["b3", "b4"] and n["b2"] == ["b5", "b6", "b7"]


def test_pack_and_unpack_are_inverse_and_pack_gives_the_forward_pass():
    rng = np.random.default_rng(11)
    params = {p: float(v) for p, v in zip(NET.params, rng.normal(size=len(NET.params)))}
    a = matrix.pack(params)
    assert matrix.unpack(a) == params
    x = (0.7, -1.1)
    z = np.array(x) @ a["W1"] + a["b1"]
    out = np.maximum(z, 0) @ a["W2"] + a["b2"]
    state = NET.forward(x, params, 6)
    assert np.allclose(z, [state["z3"], state["z4"]]) and np.allclose(out, [state[f"Y{k}"] for k in (5, 6, 7)])


def matrix_gradients(X, W1, b1, W2, b2, target, *, swap=False, dz_first=False, outer_wrong=False, gated=True,
                     sign=1.0):
    z = (W1 @ X if swap else X @ W1) + b1
    Yh = np.maximum(z, 0.0)
    Yo = Yh @ W2 + b2
    P = np.exp(Yo - Yo.max())
    P /= P.sum()
    e = sign * (P - (np.arange(5, 8) == target))
    dz = (W2 @ e) * ((z > 0) if gated else 1.0)
    return {"W1": np.outer(dz, X) if dz_first else np.outer(X, dz), "b1": dz,
            "W2": np.outer(e, Yh) if outer_wrong else np.outer(Yh, e), "b2": e}


def test_the_four_lines_pass_at_every_seed():
    for seed in (0, 3, 9):
        r = matrix.check_matrix(matrix_gradients, seed=seed)
        assert r.passed, str(r)


@pytest.mark.parametrize("knob,mistake", [
    (dict(dz_first=True), "matrix_dW1_transposed"), (dict(outer_wrong=True), "matrix_outer_order"),
    (dict(swap=True), "matrix_mapping_swapped"), (dict(gated=False), "matrix_no_relu_prime"),
    (dict(sign=-1.0), "matrix_sign")])
def test_each_matrix_slip_is_named(knob, mistake):
    for seed in (0, 4):
        r = matrix.check_matrix(lambda *a: matrix_gradients(*a, **knob), seed=seed)
        assert r.mistakes == [mistake], str(r)


@pytest.mark.parametrize("answer,mistake", [
    (None, "wrong_type"), ({"W1": [[0.0, 0.0], [0.0, 0.0]]}, "missing_key"),
    ({"W1": np.zeros((2, 2)), "b1": np.zeros(2), "W2": np.zeros((2, 3)), "b2": "0"}, "wrong_type"),
    ({"W1": np.zeros((2, 2)), "b1": np.zeros(3), "W2": np.zeros((2, 3)), "b2": np.zeros(3)}, "wrong_shape"),
    ({"W1": np.zeros((2, 2)), "b1": np.full(2, np.nan), "W2": np.zeros((2, 3)), "b2": np.zeros(3)}, "not_finite"),
    ({"W1": np.zeros((2, 2)), "b1": np.zeros(2), "W2": np.zeros((2, 3)), "b2": np.zeros(3)}, "wrong_value")])
def test_a_bad_answer_gets_a_sentence(answer, mistake, capfd):
    r = matrix.check_matrix(lambda *a: answer)
    assert r.mistakes == [mistake], str(r)
    assert capfd.readouterr().err == ""


def test_an_exception_and_a_non_function_are_named(capfd):
    def shapes(X, W1, b1, W2, b2, target):
        return W2.T @ np.ones(3)
    assert matrix.check_matrix(shapes).mistakes == ["exception"]
    assert matrix.check_matrix(42).mistakes == ["not_callable"]
    assert capfd.readouterr().err == ""
