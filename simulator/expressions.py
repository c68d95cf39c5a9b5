"""Values and connection rules written as expressions of indices and positions.

``sim.expr("w0*exp(-d/lam)", w0=50*pA, lam=0.2)`` (or a plain string where no constant
is needed) can stand wherever a distribution can: weights and delays of ``connect``,
``proj.weights = ...``, initial values and ``pop.set``. The connection rule
:class:`axonforge.PairwiseBernoulli` takes a probability and a condition written the
same way (Brian2's ``connect(condition=..., p=...)``, NEST's ``pairwise_bernoulli``
with spatial probabilities).

Symbols of a synapse (a pair): ``i`` and ``j``, the pre and post neuron's index in its
population; ``x_pre``, ``y_pre``, ``z_pre``, ``x_post``, ``y_post``, ``z_post``, their
positions (:mod:`axonforge.space`); ``dx``, ``dy``, ``dz``, the displacement from pre
to post, and ``d``, the distance (both wrapped around a periodic space). Symbols of a
neuron: ``i``, ``x``, ``y``, ``z``. Functions and operators are those of model specs
(:mod:`axonforge.spec`), without ``rand()``: every expression is deterministic; the
random part of a rule is its Bernoulli draw, keyed by (seed, projection, target).

Values are evaluated with NumPy over blocks of synapses or neurons; rules are compiled
with Numba (one kernel per expression text, cached on disk), with no Python loop per
pair.
"""

from __future__ import annotations

import ast

import numpy as np

from axonforge import spec
from axonforge.draws import Distribution

PAIR = ("i", "j", "d", "dx", "dy", "dz", "x_pre", "y_pre", "z_pre", "x_post", "y_post", "z_post")
NEURON = ("i", "x", "y", "z")
AXES = "xyz"


class Expression(Distribution):
    """An expression (text) with named constants; see the module docstring."""

    def __init__(self, text, **constants):
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"expr: expected an expression string, got {text!r}")
        self.text = text.strip()
        for k, v in constants.items():
            if not k.isidentifier() or k in PAIR or k in NEURON or k in spec.FUNCTIONS:
                raise ValueError(f"expr({self.text!r}): {k!r} cannot name a constant")
            if not (np.ndim(v) == 0 and np.isfinite(float(v))):
                raise ValueError(f"expr({self.text!r}): constant {k}={v!r} must be a finite number")
        self.constants = {k: float(v) for k, v in constants.items()}
        try:
            node = ast.parse(self.text, mode="eval").body
        except SyntaxError as exc:
            raise ValueError(f"expr({self.text!r}): not a valid expression ({exc.msg})") from None
        self.node = node
        self.names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    def __repr__(self):
        consts = "".join(f", {k}={v!r}" for k, v in self.constants.items())
        return f"expr({self.text!r}{consts})"

    def checked(self, symbols, what, boolean=False) -> ast.expr:
        """The expression's tree with constants inlined, checked against ``symbols``."""
        allowed = set(symbols) | set(self.constants) | set(spec.CONSTANTS)
        for sub in ast.walk(self.node):
            if isinstance(sub, ast.Call) and getattr(sub.func, "id", None) in spec.RANDOM:
                raise ValueError(
                    f"{what} {self.text!r}: rand()/randn() are not allowed (an expression "
                    "is deterministic; the rule draws its own Bernoulli numbers)"
                )
        known = spec.NeuronSpec(name=what, parameters={}, state={}, equations=())
        try:
            spec._check_names(known, what, self.text, self.node, allowed)
        except spec.SpecError as err:
            raise ValueError(str(err).replace(f"spec {what!r}, ", "")) from None
        if boolean and not _is_boolean(self.node):
            raise ValueError(
                f"{what} {self.text!r} is not a condition: write a comparison or a boolean "
                "combination of comparisons, such as 'i != j' or 'd < 0.2 and i < j'"
            )
        consts = {k: ast.Constant(v) for k, v in self.constants.items()}
        tree = spec._Inline(consts).visit(spec._copy(self.node))
        return ast.fix_missing_locations(tree)

    # Distribution interface: values of elements, by their context
    def sample(self, rng, size):
        context = getattr(rng, "context", None)
        if context is None:
            raise ValueError(f"{self!r}: an expression needs neurons or synapses to evaluate")
        if context[0] == "neuron":
            pop = context[1]
            env = neuron_env(pop, rng.index)
            node = self.checked(NEURON, f"value of {pop.name!r}")
        else:
            pre_pop, post_pop = context[1], context[2]
            env = pair_env(pre_pop, post_pop, rng.index // post_pop.n, rng.index % post_pop.n)
            node = self.checked(PAIR, "synapse value")
        out = np.asarray(spec.evaluate(node, env), dtype=np.float64)
        return np.broadcast_to(out, (len(rng.index),)).copy()


def expr(text, **constants) -> Expression:
    """An expression of indices and positions with named constants (module docstring)."""
    return Expression(text, **constants)


def as_expression(value, what) -> Expression:
    """A number, string or :class:`Expression` as an Expression."""
    if isinstance(value, Expression):
        return value
    if isinstance(value, str):
        return Expression(value)
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        return Expression(repr(float(value)))
    raise TypeError(f"{what}: expected a number or an expression string, got {value!r}")


def _is_boolean(node) -> bool:
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, bool)
    if isinstance(node, ast.IfExp):
        return _is_boolean(node.body) and _is_boolean(node.orelse)
    return False


# ----------------------------------------------------------------------- environments
def _positions(pop, what):
    pos = getattr(pop, "positions", None)
    if pos is None:
        raise ValueError(
            f"{what}: population {pop.name!r} has no positions; give them with "
            "net.population(..., positions=sim.grid(...) or an (n, d) array)"
        )
    return pos


def neuron_env(pop, ids) -> dict:
    env = {"i": np.asarray(ids, np.float64)}
    pos = getattr(pop, "positions", None)
    for a, axis in enumerate(AXES):
        env[axis] = pos[ids, a] if pos is not None and a < pos.shape[1] else _missing(axis)
    return env


def pair_env(pre_pop, post_pop, pre, post) -> dict:
    env = {"i": np.asarray(pre, np.float64), "j": np.asarray(post, np.float64)}
    p_pre, p_post = getattr(pre_pop, "positions", None), getattr(post_pop, "positions", None)
    if p_pre is None or p_post is None:
        for name in PAIR[2:]:
            env[name] = _missing(name)
        return env
    extent = periodic_extent(pre_pop, post_pop)
    squared = 0.0
    for a, axis in enumerate(AXES):
        if a < p_pre.shape[1]:
            delta = p_post[post, a] - p_pre[pre, a]
            if extent is not None:
                delta = delta - extent[a] * np.round(delta / extent[a])
            env[f"{axis}_pre"], env[f"{axis}_post"] = p_pre[pre, a], p_post[post, a]
            env[f"d{axis}"] = delta
            squared = squared + delta * delta
        else:
            for name in (f"{axis}_pre", f"{axis}_post", f"d{axis}"):
                env[name] = _missing(name)
    env["d"] = np.sqrt(squared)
    return env


def periodic_extent(pre_pop, post_pop):
    """The box both populations wrap around, or None; one periodic and one not, or two
    different boxes, is an error (distances would be ambiguous)."""
    a, b = getattr(pre_pop, "extent", None), getattr(post_pop, "extent", None)
    pa, pb = getattr(pre_pop, "positions", None), getattr(post_pop, "positions", None)
    if pa is not None and pb is not None and pa.shape[1] != pb.shape[1]:
        raise ValueError(
            f"populations {pre_pop.name!r} and {post_pop.name!r} have positions in "
            f"{pa.shape[1]} and {pb.shape[1]} dimensions; distances need the same"
        )
    if a is None and b is None:
        return None
    if a is None or b is None or not np.array_equal(a, b):
        raise ValueError(
            f"populations {pre_pop.name!r} and {post_pop.name!r} do not share one periodic "
            f"space (extents {a} and {b}); give both the same periodic layout, or neither"
        )
    return a


class _Missing:
    """A symbol the elements do not have (no positions, or fewer dimensions): using it
    raises an error naming it."""

    def __init__(self, name):
        self.name = name

    def _fail(self, *_):
        raise ValueError(
            f"the expression uses {self.name!r}, but the populations have no positions in "
            "that dimension (net.population(..., positions=...))"
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __lt__ = __gt__ = _fail
    __le__ = __ge__ = __array__ = _fail


def _missing(name):
    return _Missing(name)


# ------------------------------------------------------------------------ rule kernels
_KERNEL = """\
import math
import numpy as np
from numba import njit
from axonforge.rng import step_key, uniform
from axonforge.engine.runtime import fast_exp, nan_max, nan_min


@njit(cache=True, nogil=True, error_model="numpy")
def rule(pre_sel, post_sel, post_order, self_pre, pos_pre, pos_post, extent, seed, stream,
         lo, hi, chosen, bad):
    # One pass over the pairs, target by target in ascending order: each target's
    # accepted sources are appended to ``chosen`` (grown by doubling), and the number
    # per target is returned, so that the rows fill without evaluating twice. Per target
    # three loops that LLVM vectorises one by one (together it does not): the pair
    # geometry (gathers), the expressions, the keyed draws; then the compaction.
    n_pre = pre_sel.shape[0]
    n = np.uint64(n_pre)  # unsigned indices: no wrap-around of negative ones
    counts = np.zeros(post_sel.shape[0], np.int64)
    accept = np.zeros(n_pre, np.bool_)
    prob = np.zeros(n_pre)
{buffers}
    used = 0
    for q in range(post_sel.shape[0]):
        t = post_order[q] if post_order.shape[0] else q
        tp = post_sel[t]
        if tp < lo or tp >= hi:  # another rank's target
            continue
        key = step_key(seed, stream, tp)
        forbidden = self_pre[t] if self_pre.shape[0] else -1
        skip = np.uint64(forbidden) if forbidden >= 0 else n
        j = float(tp)
{post_axes}
        for s in range(n):
            sp = np.uint64(pre_sel[s])
{pair_axes}
        wrong = 0
        for s in range(n):
{loads}
            cond = ({condition}) & (s != skip)
            p = {p}
            wrong += cond & ((p < 0.0) | (p > 1.0) | (p != p))
            prob[s] = p if cond else 0.0
        if wrong:
            for s in range(n):
{loads_deep}
                p = {p}
                if ({condition}) & (s != skip) & ((p < 0.0) | (p > 1.0) | (p != p)):
                    bad[0], bad[1], bad[2] = pre_sel[s], tp, p
                    return counts, chosen[:0], False
        for s in range(n):
            accept[s] = uniform(key, np.uint64(pre_sel[s])) < prob[s]
        for s in range(n_pre):
            if accept[s]:
                if used == chosen.shape[0]:
                    grown = np.empty(2 * chosen.shape[0] + 1024, chosen.dtype)
                    grown[:used] = chosen[:used]
                    chosen = grown
                chosen[used] = pre_sel[s]
                used += 1
                counts[q] += 1
    return counts, chosen[:used], True
"""


#: pair symbols computed per source (the others, of the target, once per target)
_PER_SOURCE = ("i", "x_pre", "y_pre", "z_pre", "dx", "dy", "dz", "d")


def rule_kernel(p_node, cond_node, names, dims, periodic):
    """The compiled kernel of a pairwise rule (see :data:`_KERNEL`): ``names`` are the
    pair symbols the expressions read."""
    from axonforge.backends.numba_backend import load_kernel
    from axonforge.engine.printers import PythonPrinter

    need = set(names)
    if "d" in need:
        need |= {f"d{x}" for x in AXES[:dims]}
    for axis in AXES[:dims]:
        if f"d{axis}" in need:
            need |= {f"{axis}_pre", f"{axis}_post"}
    post_axes = [f"        {x}_post = pos_post[tp, {a}]" for a, x in enumerate(AXES[:dims])]
    pair = ["            i = float(sp)"]
    for a, axis in enumerate(AXES[:dims]):
        pair.append(f"            {axis}_pre = pos_pre[sp, {a}]")
        pair.append(f"            d{axis} = {axis}_post - {axis}_pre")
        if periodic:
            pair.append(
                f"            d{axis} = d{axis} - extent[{a}] * np.rint(d{axis} / extent[{a}])"
            )
    if dims:
        pair.append(
            "            d = math.sqrt(" + " + ".join(f"d{x} * d{x}" for x in AXES[:dims]) + ")"
        )
    stored = [x for x in _PER_SOURCE if x in need]
    pair += [f"            b_{x}[s] = {x}" for x in stored]
    printer = PythonPrinter()

    def text(node, boolean=False):
        out = printer.expr(_Bitwise().visit(spec._copy(node)) if boolean else node)
        # a library exp keeps the pair loop scalar: see runtime.fast_exp
        return out.replace("math.exp(", "fast_exp(")

    source = _KERNEL.format(
        buffers="\n".join(f"    b_{x} = np.zeros(n_pre)" for x in stored) or "    pass",
        post_axes="\n".join(post_axes) or "        pass",
        pair_axes="\n".join(pair),
        loads="\n".join(f"            {x} = b_{x}[s]" for x in stored) or "            pass",
        loads_deep="\n".join(f"                {x} = b_{x}[s]" for x in stored)
        or "                pass",
        condition=text(cond_node, boolean=True),
        p=text(p_node),
    )
    return load_kernel(source).rule


class _Bitwise(ast.NodeTransformer):
    """``and``/``or``/``not`` of conditions as ``&``/``|``/``~`` on booleans: the same
    truth values without branches, so the pair loop vectorises."""

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        op = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
        out = node.values[0]
        for v in node.values[1:]:
            out = ast.BinOp(out, op, v)
        return out

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.Compare(node.operand, [ast.Eq()], [ast.Constant(False)])
        return node


def estimate_p(p_expr, cond_expr, pre_pop, pre_sel, post_pop, post_sel, samples=4096):
    """The mean connection probability over pairs, from a fixed sample of pairs (for
    memory estimates only)."""
    rng = np.random.default_rng(0)
    if len(pre_sel) == 0 or len(post_sel) == 0:
        return 0.0
    pre = pre_sel[rng.integers(0, len(pre_sel), samples)]
    post = post_sel[rng.integers(0, len(post_sel), samples)]
    env = pair_env(pre_pop, post_pop, pre, post)
    p = np.broadcast_to(spec.evaluate(p_expr.checked(PAIR, "p"), env), (samples,))
    ok = np.broadcast_to(spec.evaluate(cond_expr.checked(PAIR, "condition"), env), (samples,))
    return float(np.mean(np.where(ok, np.clip(p, 0.0, 1.0), 0.0)))
