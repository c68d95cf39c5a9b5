"""Exact integration of linear ODE systems: propagator coefficients via the matrix exponential.

For a spec whose ODEs are affine in the state, ``dx/dt = A x + b``, one step of length
``h`` is exactly ``x(t+h) = Phi x(t) + psi`` with ``[[Phi, psi], [0, 1]] = expm(h
[[A, b], [0, 0]])`` (Rotter & Diesmann 1999, Biol. Cybern. 81:381; NEST ``iaf_psc_*``).
``A`` and ``b`` are read off the spec by evaluating its right-hand sides at ``x = 0`` and
at unit vectors (valid because each RHS is affine, which :mod:`axonforge.spec` checks).
Parameters may differ per neuron: the matrix exponential is taken once per distinct
parameter set (``scipy.linalg.expm`` batched).

While refractory, clamped variables have zero derivative: their rows of ``A`` and ``b``
are zeroed, which gives a second propagator for refractory neurons.

White noise: ``dx/dt = A x + b + G xi`` with additive noise (``G`` free of the state) is
integrated exactly too (the Ornstein-Uhlenbeck update, as NEST's and Brian2's exact
integration of linear SDEs): the step adds a Gaussian vector of covariance
``Sigma = int_0^h e^{As} G G^T e^{A^T s} ds``, computed by Van Loan's method (1978,
IEEE Trans. Autom. Control 23:395: one matrix exponential of ``h [[-A, G G^T], [0, A^T]]``)
and drawn as ``L z`` with ``L L^T = Sigma`` over the variables the noise reaches and ``z``
standard normals, one per such variable.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from axonforge.spec import CheckedSpec, evaluate


def closure(checked: CheckedSpec, zero_rows=()) -> dict:
    """``var -> set of ODE vars that can influence it`` (itself included), transitively."""
    deps = {
        v: (set() if v in zero_rows else set(checked.depends[v])) | {v} for v in checked.ode_vars
    }
    changed = True
    while changed:
        changed = False
        for v in checked.ode_vars:
            new = set().union(*(deps[u] for u in deps[v]))
            if new != deps[v]:
                deps[v], changed = new, True
    return deps


def structure(checked: CheckedSpec):
    """The coefficients that can be nonzero, for normal and refractory steps.

    Returns ``(normal, refractory, separate)``: ``normal[j]`` lists the column indices
    (``m`` meaning the affine term) of row ``j``; ``refractory`` likewise for the
    non-clamped rows during refractoriness; ``separate`` is True when the refractory
    rows differ from the normal ones and need their own arrays.
    """
    ode = checked.ode_vars
    m = len(ode)
    clamped = set(checked.spec.clamped)

    def rows(zero_rows):
        reach = closure(checked, zero_rows)
        out = {}
        for j, v in enumerate(ode):
            if v in zero_rows:
                continue
            cols = [ode.index(u) for u in ode if u in reach[v]]
            if any(checked.has_const[u] and u not in zero_rows for u in reach[v]):
                cols.append(m)
            out[j] = sorted(cols)
        return out

    normal = rows(set())
    refr = rows(clamped & set(ode)) if clamped else {}
    reach = closure(checked)
    separate = any(reach[v] & clamped for v in ode if v not in clamped)
    return normal, refr, separate


def noisy(checked: CheckedSpec) -> list:
    """Indices of the ODE variables that white noise reaches (directly or through
    others): the rows of the noise factor, one standard normal each per step."""
    reach = closure(checked)  # var -> the variables that influence it
    sources = set(checked.noise)
    return [j for j, v in enumerate(checked.ode_vars) if reach[v] & sources]


def noise_coefficients(checked: CheckedSpec, params: dict, dt: float, n: int) -> dict:
    """The noise factor of exact integration as coefficient arrays: ``s_{j}_{r}`` (row
    ``j`` of the ODE variables, normal ``r``) and, where the refractory propagator is
    separate (:func:`structure`), ``sr_{j}_{r}`` for refractory neurons."""
    rows = noisy(checked)
    out = {}
    _, refr_rows, separate = structure(checked)
    for prefix, refractory in (("s", False), ("sr", True)):
        if refractory and not separate:
            break
        factor = _noise_factor(checked, params, dt, n, rows, refractory)
        for a, j in enumerate(rows):
            if refractory and j not in refr_rows:
                continue  # a clamped variable: no noise while refractory
            for r in range(len(rows)):
                out[f"{prefix}_{j}_{r}"] = factor[:, a, r]
    return out


def _noise_factor(checked, params, dt, n, rows, refractory):
    """``(n, k, k)``: per neuron, ``L`` with ``L L^T`` the covariance of the noise one
    step adds to the ``k`` variables ``rows``."""
    m = len(checked.ode_vars)
    gen = _generator(checked, params, n, refractory)
    env = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    clamped = set(checked.spec.clamped) if refractory else set()
    names = checked.noise_names
    G = np.zeros((n, m, len(names)))
    for j, v in enumerate(checked.ode_vars):
        if v in clamped:
            continue
        for q, xi in enumerate(names):
            if xi in checked.noise.get(v, {}):
                G[:, j, q] = np.broadcast_to(evaluate(checked.noise[v][xi], env), (n,))
    A = gen[:, :m, :m]
    vl = np.zeros((n, 2 * m, 2 * m))
    vl[:, :m, :m] = -A
    vl[:, :m, m:] = G @ G.transpose(0, 2, 1)
    vl[:, m:, m:] = A.transpose(0, 2, 1)
    vl *= dt
    if not np.all(np.isfinite(vl)):
        bad = int(np.flatnonzero(~np.isfinite(vl).all(axis=(1, 2)))[0])
        raise ValueError(
            f"{checked.name}: the noise intensity of neuron {bad} is not finite; check its "
            "parameters"
        )
    uniq, inverse = np.unique(vl.reshape(n, -1), axis=0, return_inverse=True)
    E = expm(uniq.reshape(-1, 2 * m, 2 * m))
    F = E[:, m:, m:].transpose(0, 2, 1)  # e^{A h}
    cov = F @ E[:, :m, m:]
    cov = cov[:, rows][:, :, rows]
    cov = 0.5 * (cov + cov.transpose(0, 2, 1))
    lam, vec = np.linalg.eigh(cov)
    factor = vec * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]
    return factor[inverse.reshape(-1)]


def _generator(checked: CheckedSpec, params: dict, n: int, refractory=False):
    """``(n, m+1, m+1)``: per neuron ``[[A, b], [0, 0]]`` of the deterministic part."""
    ode = checked.ode_vars
    m = len(ode)
    env = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    zeros = {v: 0.0 for v in checked.spec.state}
    gen = np.zeros((n, m + 1, m + 1))
    clamped = set(checked.spec.clamped) if refractory else set()
    for j, v in enumerate(ode):
        if v in clamped:
            continue
        b = np.broadcast_to(evaluate(checked.odes[v], {**env, **zeros}), (n,))
        gen[:, j, m] = b
        for col, u in enumerate(ode):
            if u in checked.depends[v]:
                a = evaluate(checked.odes[v], {**env, **zeros, u: 1.0}) - b
                gen[:, j, col] = np.broadcast_to(a, (n,))
    return gen


def coefficients(checked: CheckedSpec, params: dict, dt: float, n: int, refractory=False):
    """Propagator matrices, one per neuron, shape ``(n, m+1, m+1)``.

    ``params`` maps parameter names to arrays of length ``n``. With ``refractory=True``
    the clamped variables' rows are zeroed before exponentiation.
    """
    m = len(checked.ode_vars)
    gen = _generator(checked, params, n, refractory) * dt
    if not np.all(np.isfinite(gen)):
        bad = int(np.flatnonzero(~np.isfinite(gen).all(axis=(1, 2)))[0])
        raise ValueError(
            f"{checked.name}: the ODE coefficients of neuron {bad} are not finite "
            "(a time constant or capacitance of 0?); check its parameters"
        )
    flat = gen.reshape(n, -1)
    uniq, inverse = np.unique(flat, axis=0, return_inverse=True)
    props = expm(uniq.reshape(-1, m + 1, m + 1))
    return props[inverse.reshape(-1)]
