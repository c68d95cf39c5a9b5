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
pair. A rule's kernel evaluates a pair in one vectorised loop (geometry, expressions,
the keyed draw), about 2 ns for a Gaussian of distance on one core, and computes the
probability within an ulp or two of the expression as written: ``d**2`` is the squared
distance without a square root, a division by a constant a multiplication by its
reciprocal, and ``exp`` a branch-free polynomial with fused multiply-adds
(:func:`rule_exp`). The probability is compared with a uniform of 53 bits.
"""

from __future__ import annotations

import ast
import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

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
#: elements per block of the vectorised pair loop (its accept flags stay in the L1 cache)
BLOCK = 4096
#: the pair loop runs over whole multiples of PAD elements (masking the excess): the
#: arrays of the inner side have PAD elements of padding
PAD = 16

_KERNEL = """\
import math
import numpy as np
from numba import njit
from axonforge.expressions import rule_exp, source_runs
from axonforge.rng import step_key, uniform
from axonforge.engine.runtime import nan_max, nan_min


@njit(cache=True, nogil=True, error_model="numpy")
def rule(outer, inner, ix, iy, iz, iwx, iwy, iwz, pos_outer, avoid, period, r2, grid_n,
         grid_f, cell_start, seed, stream, chosen, lengths, inner_counts, bad):
    # {order}
    # For each outer neuron, over the runs of inner ones that source_runs gives (all of
    # them without a cut-off), in blocks: one loop that LLVM vectorises evaluates the
    # pairs and draws, keyed by (seed, projection, target) with the source's population
    # index as the counter, so the same for any order, thread or rank; then a
    # branch-free compaction appends the accepted inner neurons to ``chosen`` (grown
    # when a block might not fit). ``lengths``: their number per outer neuron;
    # ``inner_counts`` (with a cut-off): the synapses of each inner neuron.
    n_i = inner.shape[0]
    acc = np.zeros({block}, np.uint8)
    k = grid_n[3]
    runs = np.zeros(4 * (2 * k + 1) * (2 * k + 1) + 4, np.int64)
{setup}
    used = 0
    for q in range(outer.shape[0]):
        op = outer[q]
        skip = op if avoid else -1
{outer}
        n_runs = source_runs({cell_of}, grid_n, grid_f, cell_start, runs)
        start = used
        for r in range(n_runs):
            for b0 in range(runs[2 * r], runs[2 * r + 1], {block}):
                m = min({block}, runs[2 * r + 1] - b0)
                base = np.uint64(b0)  # unsigned indices: no wrap-around of negative ones
                mu = np.uint64(m)
                wrong = 0
                # whole vectors, no scalar remainder: the arrays have {pad} elements more
                for u in range(np.uint64((m + {pad} - 1) // {pad} * {pad})):
                    s = base + u
                    ip = inner[s]
{pair}
                    cond = {condition} & (u < mu)
                    p = {p}
                    wrong += cond & ((p < 0.0) | (p > 1.0) | (p != p))
                    a = cond & (uniform({key}, {counter}) < p)
                    acc[u] = a
{count}
                if wrong:
                    for u in range(np.uint64(m)):
                        s = base + u
                        ip = inner[s]
{pair_deep}
                        p = {p}
                        if ({condition}) & ((p < 0.0) | (p > 1.0) | (p != p)):
                            bad[0], bad[1], bad[2] = {bad_pair}, p
                            return chosen[:0], False
                if used + m > chosen.shape[0]:
                    grown = np.empty(2 * chosen.shape[0] + m + 1024, chosen.dtype)
                    grown[:used] = chosen[:used]
                    chosen = grown
                w = np.uint64(used)
                for u in range(np.uint64(m)):  # a store per pair beats a mispredicted jump
                    chosen[w] = inner[base + u]
                    w += acc[u]
                used = np.int64(w)
        lengths[q] = used - start
    return chosen[:used], True
"""

#: pair symbols of each side: computed in the vectorised loop for the inner side, once
#: per neuron for the outer side
_SIDE = {"pre": ("i", "x_pre", "y_pre", "z_pre"), "post": ("j", "x_post", "y_post", "z_post")}


def rule_kernel(p_node, cond_node, dims, periodic, radius):
    """The compiled kernel of a pairwise rule (see :data:`_KERNEL`) for expressions of
    positions in ``dims`` dimensions (0: none), ``periodic`` or not.

    Without a ``radius`` the outer loop runs over sources and the inner (vectorised)
    one over all targets, so each source's row of targets comes out whole and in
    ascending order (the projection's rows, without a transposition). With a radius
    (bool: the kernel takes its square) the outer loop runs over targets and the inner
    one over the sources in the cells around each (:func:`axonforge.space.cells`),
    counting each source's synapses into ``inner_counts``."""
    from axonforge.backends.numba_backend import load_kernel
    from axonforge.engine.printers import PythonPrinter

    p_node, cond_node = _for_kernel(p_node), _for_kernel(cond_node)
    cond_node = _Bitwise().visit(cond_node)
    need = {n.id for node in (p_node, cond_node) for n in ast.walk(node) if isinstance(n, ast.Name)}
    if radius or "d" in need:
        need.add("d2")
    axes = AXES[:dims]
    out_side, in_side = ("post", "pre") if radius else ("pre", "post")
    setup = [f"    L{a}, H{a} = period[{a}], 0.5 * period[{a}]" for a in range(dims) if periodic]
    if not radius:  # each target's key, computed once
        setup += ["    keys = np.empty(n_i, np.uint64)", "    for s in range(n_i):",
                  "        keys[s] = step_key(seed, stream, inner[s])"]  # fmt: skip
    index, *names = _SIDE[out_side]
    outer = [f"{index} = float(op)"]
    if radius:
        outer.append("key = step_key(seed, stream, op)")
    for a, x in enumerate(axes):
        outer.append(f"{names[a]} = pos_outer[op, {a}]")
        if periodic:  # in the box [0, L), as the inner side's iwx, iwy, iwz
            outer.append(f"{x}_w = {names[a]} - L{a} * np.floor({names[a]} / L{a})")
            outer.append(f"{x}_w = {x}_w - L{a} if {x}_w >= L{a} else {x}_w")
    cell_of = ["0.0"] * (3 - dims) + [f"{x}_w" if periodic else n for x, n in zip(axes, names)]
    index, *names = _SIDE[in_side]
    pair = [f"{index} = float(ip)"] if index in need else []
    for a, x in enumerate(axes):
        if names[a] in need or (not periodic and (f"d{x}" in need or "d2" in need)):
            pair.append(f"{names[a]} = i{x}[s]")
    for a, x in enumerate(axes):
        ow, iw = f"{x}_w", f"iw{x}[s]"
        if periodic and f"d{x}" in need:  # both in [0, L): one correction gives the nearest image
            pair.append(f"d{x} = {iw} - {ow}" if in_side == "post" else f"d{x} = {ow} - {iw}")
            pair.append(f"d{x} = d{x} - L{a} if d{x} > H{a} else d{x}")
            pair.append(f"d{x} = d{x} + L{a} if d{x} < -H{a} else d{x}")
        elif periodic and "d2" in need:  # only its size: |dx| or L - |dx| (both exact)
            pair.append(f"a{x} = abs({ow} - {iw})")
            pair.append(f"a{x} = min(a{x}, L{a} - a{x})")
        elif f"d{x}" in need or "d2" in need:
            pair.append(f"d{x} = {x}_post - {x}_pre")
    if "d2" in need:
        size = [f"d{x}" if f"d{x}" in need or not periodic else f"a{x}" for x in axes]
        pair.append("d2 = " + " + ".join(f"{v} * {v}" for v in size))
    if "d" in need:
        pair.append("d = math.sqrt(d2)")
    printer = PythonPrinter()

    def text(node):
        # a library exp keeps the pair loop scalar: see rule_exp
        return printer.expr(node).replace("math.exp(", "rule_exp(")

    condition = f"({text(cond_node)}) & (ip != skip)" + (" & (d2 <= r2)" if radius else "")
    order = "outer: targets; inner: sources nearby" if radius else "outer: sources; inner: targets"
    source = _KERNEL.format(
        order=order,
        block=BLOCK,
        pad=PAD,
        setup="\n".join(setup) or "    pass",
        outer="\n".join(" " * 8 + line for line in outer),
        cell_of=", ".join(cell_of),
        pair="\n".join(" " * 20 + line for line in pair) or " " * 20 + "pass",
        pair_deep="\n".join(" " * 24 + line for line in pair) or " " * 24 + "pass",
        condition=condition,
        p=text(p_node),
        key="key" if radius else "keys[s]",
        counter="ip" if radius else "op",
        count=" " * 20 + ("inner_counts[s] += a" if radius else "pass"),
        bad_pair="ip, op" if radius else "op, ip",
    )
    return load_kernel(source).rule


def _for_kernel(node):
    """A rule's expression as its kernel computes it: ``d**2`` (and even powers) from
    the squared distance ``d2`` without the square root, and a division by a constant
    as a multiplication by its reciprocal (both within an ulp or two of the expression
    as written; the probability is compared with a 53-bit uniform)."""
    return ast.fix_missing_locations(_Squared().visit(spec._copy(node)))


class _Squared(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        right = node.right
        if isinstance(node.op, ast.Pow) and isinstance(node.left, ast.Name):
            k = right.value if isinstance(right, ast.Constant) else None
            if node.left.id == "d" and _number(k) and k == int(k) and k >= 2 and k % 2 == 0:
                squared = ast.Name("d2", ast.Load())
                return squared if k == 2 else ast.BinOp(squared, ast.Pow(), ast.Constant(k // 2))
        if isinstance(node.op, ast.Div):
            value = _constant(right)
            if value is not None and value != 0.0 and math.isfinite(1.0 / value):
                return ast.BinOp(node.left, ast.Mult(), ast.Constant(1.0 / value))
        return node


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _constant(node):
    """The value of an expression of numbers alone (``2*(0.1*0.1)``), else None."""
    if isinstance(node, ast.Constant):
        return float(node.value) if _number(node.value) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _constant(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None:
            return None
        try:
            out = _ARITHMETIC[type(node.op)](a, b)
        except (ArithmeticError, ValueError):
            return None
        return out if isinstance(out, float) and math.isfinite(out) else None
    return None


def _power(a, b):
    # as the printer writes them: small integral powers as products, others by pow
    if b == int(b) and 0 <= b <= 4:
        out = 1.0 if b == 0 else a
        for _ in range(int(b) - 1):
            out = out * a
        return out
    return math.pow(a, b)


_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: _power,
}


_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10  # Cody-Waite split of ln 2
#: Taylor coefficients of exp(r), highest first, |r| <= ln(2)/2: error < 1e-16
EXP_SERIES = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))


@intrinsic
def _bits_to_f64(typingctx, bits):
    """Reinterpret an int64 as the float64 with the same bits (one LLVM bitcast)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a*b + c`` rounded once (IEEE fused multiply-add: the same bits on any machine;
    one instruction where the CPU has it, which x86-64 since 2013 and ARM64 do)."""

    def codegen(context, builder, signature, args):
        d = llvm_ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], llvm_ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@njit(cache=True, inline="always")
def rule_exp(x):
    """``exp(x)`` for the pair loops of rules: :func:`axonforge.engine.runtime.fast_exp`
    (branch-free, so the loop vectorises; the same range reduction and Taylor series)
    with fused multiply-adds, 15 of them where fast_exp has 15 multiplications and 15
    additions: the loop of a Gaussian rule takes 2/3 of the time. Within 1 ulp of
    ``math.exp`` for -708 <= x <= 709 (equal in 9 of 10 cases); NaN stays NaN."""
    x = -708.0 if x < -708.0 else x
    x = 709.0 if x > 709.0 else x
    k = np.rint(x * _LOG2E)
    r = _fma(-k, _LN2_HI, x)
    r = _fma(-k, _LN2_LO, r)
    c = EXP_SERIES
    p = c[0]
    p = _fma(p, r, c[1])
    p = _fma(p, r, c[2])
    p = _fma(p, r, c[3])
    p = _fma(p, r, c[4])
    p = _fma(p, r, c[5])
    p = _fma(p, r, c[6])
    p = _fma(p, r, c[7])
    p = _fma(p, r, c[8])
    p = _fma(p, r, c[9])
    p = _fma(p, r, c[10])
    p = _fma(p, r, c[11])
    p = _fma(p, r, c[12])
    p = _fma(p, r, c[13])
    return p * _bits_to_f64((np.int64(k) + 1023) << 52)


@njit(cache=True, inline="always")
def _axis_cells(t, n, k, origin, inv_h, period):
    """The first of the cells along one axis to visit around coordinate ``t`` and their
    number: ``2k + 1`` (wrapped around by the caller where periodic, else clipped), or
    all ``n`` where there are fewer."""
    if n < 2 * k + 1:
        return 0, n
    c = int(min(max(np.floor((t - origin) * inv_h), 0.0), n - 1.0))
    if period > 0.0:
        return c - k, 2 * k + 1
    lo, hi = max(c - k, 0), min(c + k, n - 1)
    return lo, hi - lo + 1


@njit(cache=True, inline="always")
def _gap(t, c, origin, inv_h):
    """The distance from coordinate ``t`` to cell ``c`` (width ``1/inv_h``) along one
    axis, rounded down (a millionth of a cell)."""
    ct = (t - origin) * inv_h
    return max(max(c - ct, ct - (c + 1.0)) - 1e-6, 0.0) / inv_h


@njit(cache=True, nogil=True)
def source_runs(t0, t1, t2, grid_n, grid_f, cell_start, runs):
    """Ranges ``runs[2r]:runs[2r + 1]`` of the sources (sorted by cell, see
    :func:`axonforge.space.cells`) in the cells around the point ``(t0, t1, t2)``; their
    number is returned. One range (all sources) without a cut-off. With the radius
    ``grid_f[9]``, each row of cells along the last axis is trimmed to the cells that
    the sphere around the point reaches."""
    n0, n1, n2, k = grid_n[0], grid_n[1], grid_n[2], grid_n[3]
    f0, m0 = _axis_cells(t0, n0, k, grid_f[0], grid_f[3], grid_f[6])
    f1, m1 = _axis_cells(t1, n1, k, grid_f[1], grid_f[4], grid_f[7])
    f2, m2 = _axis_cells(t2, n2, k, grid_f[2], grid_f[5], grid_f[8])
    r = grid_f[9]
    trim = r > 0.0 and n2 >= 2 * k + 1
    ct2 = (t2 - grid_f[2]) * grid_f[5]
    count = 0
    for u0 in range(m0):
        c0 = (f0 + u0) % n0
        g0 = _gap(t0, f0 + u0, grid_f[0], grid_f[3]) if trim and n0 >= 2 * k + 1 else 0.0
        for u1 in range(m1):
            base = (c0 * n1 + (f1 + u1) % n1) * n2
            a, b = f2, f2 + m2  # cells a..b-1 along the last axis, maybe wrapped around
            if trim:
                g1 = _gap(t1, f1 + u1, grid_f[1], grid_f[4]) if n1 >= 2 * k + 1 else 0.0
                rest = r * r - g0 * g0 - g1 * g1
                if rest < 0.0:
                    continue
                w = math.sqrt(rest) * grid_f[5] + 1e-6  # in cells
                a = int(min(max(np.floor(ct2 - w), float(a)), float(b)))
                b = int(min(max(np.floor(ct2 + w) + 1.0, float(a)), float(b)))
            for piece in range(2):
                if piece == 0:
                    lo, hi = (a + n2, n2) if a < 0 else (a, min(b, n2))
                else:
                    lo, hi = (0, b) if a < 0 else (0, b - n2)
                if hi <= lo:
                    continue
                s0, s1 = cell_start[base + lo], cell_start[base + hi]
                if s1 <= s0:
                    continue
                if count and runs[2 * count - 1] == s0:  # adjacent: one run
                    runs[2 * count - 1] = s1
                else:
                    runs[2 * count], runs[2 * count + 1] = s0, s1
                    count += 1
    return count


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


def estimate_p(p_expr, cond_expr, pre_pop, pre_sel, post_pop, post_sel, samples=4096, radius=None):
    """The mean connection probability over pairs, from a fixed sample of pairs (for
    memory estimates only); pairs farther apart than ``radius`` count as 0."""
    rng = np.random.default_rng(0)
    if len(pre_sel) == 0 or len(post_sel) == 0:
        return 0.0
    pre = pre_sel[rng.integers(0, len(pre_sel), samples)]
    post = post_sel[rng.integers(0, len(post_sel), samples)]
    env = pair_env(pre_pop, post_pop, pre, post)
    p = np.broadcast_to(spec.evaluate(p_expr.checked(PAIR, "p"), env), (samples,))
    ok = np.broadcast_to(spec.evaluate(cond_expr.checked(PAIR, "condition"), env), (samples,))
    if radius is not None:
        ok = ok & (env["d"] <= radius)
    return float(np.mean(np.where(ok, np.clip(p, 0.0, 1.0), 0.0)))
