"""Compiler front end: parse a :class:`axonforge.models.NeuronSpec` into checked ASTs.

Every string in a spec (ODEs, threshold, reset, port statements, initial values) is parsed
with Python's ``ast`` and checked here, before any code is generated: unknown symbols,
ODEs for undeclared variables, assignments to parameters, a method that cannot integrate
the system. Errors are :class:`SpecError` (a ``ValueError``) naming the spec, the line and
the fix. The result, :class:`CheckedSpec`, is what the code printers consume.

Also here: the linearity analysis that decides whether a system can be integrated exactly
(matrix exponential, as NEST does for ``iaf_psc_*``), and the expression printers.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from dataclasses import dataclass, field

from axonforge.models.base import NeuronSpec

#: Functions allowed in spec expressions, with their NumPy and Numba spellings.
FUNCTIONS = {
    "exp": ("np.exp", "math.exp"),
    "log": ("np.log", "math.log"),
    "sqrt": ("np.sqrt", "math.sqrt"),
    "abs": ("np.abs", "abs"),
    "tanh": ("np.tanh", "math.tanh"),
    "sin": ("np.sin", "math.sin"),
    "cos": ("np.cos", "math.cos"),
    "expm1": ("np.expm1", "math.expm1"),
    "log1p": ("np.log1p", "math.log1p"),
    "min": ("np.minimum", "min"),
    "max": ("np.maximum", "max"),
    "floor": ("np.floor", "np.floor"),
    "ceil": ("np.ceil", "np.ceil"),
    # rewritten by _Inline into the functions above and conditional expressions
    "clip": (None, None),  # clip(x, lo, hi) = min(max(x, lo), hi)
    "exprel": (None, None),  # (exp(x) - 1)/x, 1 at x = 0 (Brian2's exprel)
    "where": (None, None),  # where(cond, a, b) = a if cond else b
    "sign": (None, None),  # -1, 0 or 1 (NaN stays NaN)
    "heaviside": (None, None),  # heaviside(x[, h0]) = 1 for x > 0, h0 (default 0) at 0
    # per-element random numbers, fresh in every step (counter-based: the same for any
    # number of threads or ranks); numbered by check_spec, drawn by the engine
    "rand": (None, None),  # uniform in [0, 1)
    "randn": (None, None),  # standard normal
}
#: number of arguments of each function (a tuple: the numbers allowed)
ARITY = {
    **{f: (1,) for f in FUNCTIONS},
    "min": (2,),
    "max": (2,),
    "clip": (3,),
    "where": (3,),
    "heaviside": (1, 2),
    "rand": (0,),
    "randn": (0,),
}
RANDOM = ("rand", "randn")
CONSTANTS = {"pi": "3.141592653589793"}
RESERVED = set(FUNCTIONS) | set(CONSTANTS) | {"w_in", "dt", "t"}
#: white-noise symbols in ODEs: ``xi`` or ``xi_<name>`` (units 1/sqrt(s)); the same name in
#: two equations is the same noise, different names are independent (as in Brian2)
NOISE = re.compile(r"^xi(_\w+)?$")
METHODS = ("auto", "exact", "euler", "rk2", "rk4", "exponential_euler", "rkf45")
#: scale of a state variable's absolute error tolerance under method ``"rkf45"``: the unit
#: in which NEST states ``gsl_error_tol`` (mV, pA, nS, pF, ms; concentrations in uM),
#: so ``error_tol=1e-6`` means what it means in NEST's aeif models. Other units: 1.
TOLERANCE_SCALE = {"V": 1e-3, "A": 1e-12, "S": 1e-9, "F": 1e-12, "s": 1e-3, "uM": 1.0, "1": 1.0}
_ODE = re.compile(r"^\s*d\s*([A-Za-z_]\w*)\s*/\s*dt\s*=(.*)$", re.S)


class SpecError(ValueError):
    """A model spec is malformed; the message names the spec, the line and the fix."""


@dataclass
class CheckedSpec:
    """A parsed, validated spec, ready for code generation.

    Attributes
    ----------
    ode_vars : list of str
        State variables that have an ODE, in equation order.
    odes : dict
        ``var -> ast.expr`` right-hand side, subexpressions inlined.
    threshold : ast.expr or None
    reset : list of (target, op, ast.expr)
        ``op`` is ``"="`` or an augmented operator such as ``"+="``.
    ports : dict
        ``port -> (target, op, ast.expr)`` using the symbol ``w_in``.
    method : str
        The resolved integration method.
    linear : bool
        Whether every ODE is affine in the state variables.
    depends : dict
        ``var -> set of state vars`` its RHS reads.
    has_const : dict
        ``var -> bool``: whether its RHS may have a state-independent term.
    """

    spec: NeuronSpec
    ode_vars: list
    odes: dict
    threshold: ast.expr | None
    reset: list
    ports: dict
    method: str
    linear: bool
    depends: dict = field(default_factory=dict)
    has_const: dict = field(default_factory=dict)
    initial: dict = field(default_factory=dict)
    #: ``var -> {noise symbol -> factor g}``: ``dvar/dt = f + sum(g * xi)`` (only noisy vars)
    noise: dict = field(default_factory=dict)
    #: the noise symbols, sorted: each is one independent standard white noise
    noise_names: list = field(default_factory=list)
    #: rand()/randn() call sites (numbered 0..n_random-1)
    n_random: int = 0
    #: ``var -> (A, B)`` with ``dvar/dt = A*var + B``, ``A`` and ``B`` free of ``var``
    #: (``None`` for a term that is zero): method ``"exponential_euler"`` only
    affine: dict = field(default_factory=dict)
    #: ``var -> absolute error tolerance`` (SI) of each ODE variable: method ``"rkf45"`` only
    atol: dict = field(default_factory=dict)
    #: ``var -> (lo, hi)`` expression nodes (``None``: unbounded side), clipped after
    #: integration
    bounds: dict = field(default_factory=dict)
    #: ``name -> expression node`` of the graded output (at most one)
    outputs: dict = field(default_factory=dict)
    #: a refractory *condition* (Brian2's ``refractory='C > C_theta'``): after a spike the
    #: neuron stays refractory until the condition is false at the start of a step
    refractory_when: ast.expr | None = None

    @property
    def name(self):
        return self.spec.name

    @property
    def state_vars(self):
        return list(self.spec.state)

    @property
    def param_names(self):
        return list(self.spec.parameters)


def _fail(spec, where, text, msg):
    raise SpecError(f"spec {spec.name!r}, {where} {text!r}: {msg}")


def _parse_expr(spec, where, text):
    if not isinstance(text, str) or not text.strip():
        _fail(spec, where, text, "expected a non-empty expression string")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        _fail(spec, where, text, f"not a valid Python expression ({exc.msg})")


_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Compare,
    ast.BoolOp,
    ast.IfExp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.Mod,
)


def _check_names(spec, where, text, node, allowed: set):
    """Reject unknown symbols and constructs we cannot compile, with a suggestion."""
    for sub in ast.walk(node):
        if not isinstance(sub, _ALLOWED_NODES):
            _fail(
                spec,
                where,
                text,
                f"'{type(sub).__name__}' is not allowed in model "
                "expressions (use arithmetic, comparisons and the functions "
                f"{sorted(FUNCTIONS)})",
            )
        if isinstance(sub, ast.Call):
            fname = sub.func.id if isinstance(sub.func, ast.Name) else None
            if fname not in FUNCTIONS or sub.keywords:
                _fail(
                    spec,
                    where,
                    text,
                    f"unknown function {ast.unparse(sub.func)!r}; allowed: {sorted(FUNCTIONS)}",
                )
            if len(sub.args) not in ARITY[fname]:
                n = " or ".join(map(str, ARITY[fname]))
                _fail(spec, where, text, f"{fname}() takes {n} argument(s): {ast.unparse(sub)!r}")
        if isinstance(sub, ast.Constant) and not isinstance(sub.value, (int, float, bool)):
            _fail(spec, where, text, f"constant {sub.value!r} is not a number")
        if isinstance(sub, ast.Name) and NOISE.match(sub.id) and sub.id not in allowed:
            _fail(
                spec,
                where,
                text,
                f"white noise {sub.id!r} can appear only in differential equations "
                "(dX/dt = f + g*xi); a threshold, reset, port or subexpression cannot hold "
                "it (for a random number per step there use rand() or randn())",
            )
        if isinstance(sub, ast.Name) and sub.id not in allowed and sub.id not in FUNCTIONS:
            hint = difflib.get_close_matches(sub.id, sorted(allowed), n=1)
            fix = f"did you mean {hint[0]!r}? " if hint else ""
            if sub.id == "w" and "w_in" in allowed:  # Brian2/NEST habit, and older docs
                fix = "did you mean 'w_in', the summed weight arriving in the step? "
            _fail(
                spec,
                where,
                text,
                f"unknown symbol {sub.id!r}; {fix}declare it as a "
                "parameter or state variable of the spec",
            )


class _Inline(ast.NodeTransformer):
    def __init__(self, subs):
        self.subs = subs

    def visit_Name(self, node):
        if node.id in self.subs:
            return ast.copy_location(self.visit(_copy(self.subs[node.id])), node)
        if node.id in CONSTANTS:
            return ast.copy_location(ast.Constant(float(CONSTANTS[node.id])), node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else None
        rewrite = _REWRITES.get(name)
        if rewrite is None:
            return node
        return ast.fix_missing_locations(ast.copy_location(rewrite(*node.args), node))


def _fn(name, *args):
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _cmp(a, op, b):
    return ast.Compare(a, [op], [b])


def _num(x):
    return ast.Constant(float(x))


def _exprel(x):
    # expm1(x)/x loses nothing for small x; the limit 1 at x = 0 (as Brian2's exprel)
    quotient = ast.BinOp(_fn("expm1", _copy(x)), ast.Div(), _copy(x))
    return ast.IfExp(_cmp(x, ast.Eq(), _num(0)), _num(1), quotient)


def _sign(x):
    zero = ast.BinOp(_copy(x), ast.Mult(), _num(0))  # 0 (or NaN for NaN)
    below = ast.IfExp(_cmp(_copy(x), ast.Lt(), _num(0)), _num(-1), zero)
    return ast.IfExp(_cmp(x, ast.Gt(), _num(0)), _num(1), below)


def _heaviside(x, h0=None):
    at_zero = ast.IfExp(_cmp(_copy(x), ast.Eq(), _num(0)), h0 or _num(0), _num(0))
    return ast.IfExp(_cmp(x, ast.Gt(), _num(0)), _num(1), at_zero)


_REWRITES = {
    "clip": lambda x, lo, hi: _fn("min", _fn("max", x, lo), hi),
    "where": lambda c, a, b: ast.IfExp(c, a, b),
    "exprel": _exprel,
    "sign": _sign,
    "heaviside": _heaviside,
}


def _copy(node):
    return ast.parse(ast.unparse(node), mode="eval").body


def _statement(spec, where, text, targets: set, allowed: set):
    """Parse ``x = expr`` / ``x += expr`` into (target, op, expr)."""
    if not isinstance(text, str):
        _fail(spec, where, text, "expected a statement string")
    try:
        tree = ast.parse(text.strip(), mode="exec").body
    except SyntaxError as exc:
        _fail(spec, where, text, f"not a valid statement ({exc.msg})")
    if len(tree) != 1 or not isinstance(tree[0], (ast.Assign, ast.AugAssign)):
        _fail(spec, where, text, "expected one assignment such as 'v = v_reset' or 'u += d'")
    st = tree[0]
    tgt = st.targets[0] if isinstance(st, ast.Assign) else st.target
    if isinstance(st, ast.Assign) and len(st.targets) != 1 or not isinstance(tgt, ast.Name):
        _fail(spec, where, text, "the left side must be a single state variable")
    if tgt.id not in targets:
        kind = "a parameter" if tgt.id in spec.parameters else "not a state variable"
        _fail(
            spec,
            where,
            text,
            f"cannot assign to {tgt.id!r}: it is {kind}; only state "
            f"variables {sorted(targets)} can change",
        )
    if isinstance(st, ast.AugAssign):
        ops = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}
        if type(st.op) not in ops:
            _fail(spec, where, text, "only =, +=, -=, *=, /= are supported")
        op = ops[type(st.op)]
    else:
        op = "="
    _check_names(spec, where, text, st.value, allowed)
    return tgt.id, op, st.value


INF = float("inf")


def degree(node, state: set) -> float:
    """Polynomial degree of ``node`` in the state variables (inf if not polynomial)."""
    if isinstance(node, ast.Name):
        return 1.0 if node.id in state else 0.0
    if isinstance(node, ast.Constant):
        return 0.0
    if isinstance(node, ast.UnaryOp):
        return degree(node.operand, state)
    if isinstance(node, ast.BinOp):
        a, b = degree(node.left, state), degree(node.right, state)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return max(a, b)
        if isinstance(node.op, ast.Mult):
            return a + b
        if isinstance(node.op, ast.Div):
            return a if b == 0 else INF
        if isinstance(node.op, ast.Pow):
            if b == 0 and a == 0:
                return 0.0
            if (
                b == 0
                and isinstance(node.right, ast.Constant)
                and float(node.right.value).is_integer()
            ):
                return a * float(node.right.value)
            return INF
        return 0.0 if a == b == 0 else INF
    if isinstance(node, (ast.Call, ast.Compare, ast.BoolOp, ast.IfExp)):
        return (
            0.0
            if all(
                degree(c, state) == 0 for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)
            )
            else INF
        )
    return INF


def _linear_w(node) -> bool:
    """Whether ``node`` is ``w_in`` times an expression free of it (homogeneous, degree 1)."""
    return degree(node, {"w_in"}) == 1 and not _may_have_const(node, {"w_in"})


def _linear_in_w(target, op, node) -> bool:
    """Whether a port statement adds a term linear in ``w_in`` to its target: ``x += f``,
    ``x -= f`` or ``x = x + f`` / ``x = f + x`` / ``x = x - f`` with ``f`` linear in it;
    or sets the target to such a term, ``x = f`` (``x`` then holds this step's input,
    e.g. a slow inward current that lasts one step)."""
    if op in ("+=", "-="):
        return _linear_w(node)
    if op == "=" and target not in _names(node) and _linear_w(node):
        return True
    if op != "=" or not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Add, ast.Sub)):
        return False

    def is_target(n):
        return isinstance(n, ast.Name) and n.id == target

    if is_target(node.left):
        return _linear_w(node.right)
    return isinstance(node.op, ast.Add) and is_target(node.right) and _linear_w(node.left)


def _may_have_const(node, state: set) -> bool:
    """Whether an affine expression may contain a state-independent term."""
    if isinstance(node, ast.Name):
        return node.id not in state
    if isinstance(node, ast.Constant):
        return node.value != 0
    if isinstance(node, ast.UnaryOp):
        return _may_have_const(node.operand, state)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return _may_have_const(node.left, state) or _may_have_const(node.right, state)
        if isinstance(node.op, ast.Mult):
            return _may_have_const(node.left, state) and _may_have_const(node.right, state)
        if isinstance(node.op, ast.Div):
            return _may_have_const(node.left, state)
    return True


def _names(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class NotAffineError(ValueError):
    """An expression is not affine in the variable asked for."""


def _neg(x):
    if x is None:
        return None
    if isinstance(x, ast.Constant):
        return ast.Constant(-x.value)
    if isinstance(x, ast.UnaryOp) and isinstance(x.op, ast.USub):
        return x.operand
    return ast.UnaryOp(ast.USub(), x)


def _plus(a, b, subtract=False):
    if b is None:
        return a
    if a is None:
        return _neg(b) if subtract else b
    return ast.BinOp(a, ast.Sub() if subtract else ast.Add(), b)


def _times(c, x):
    """``c*x`` for ``c`` free of the variable (``x`` None: zero)."""
    if x is None:
        return None
    if isinstance(x, ast.Constant) and x.value == 1:
        return _copy(c)
    if isinstance(x, ast.Constant) and x.value == -1:
        return _neg(_copy(c))
    return ast.BinOp(_copy(c), ast.Mult(), x)


def affine_split(node, var: str):
    """``(A, B)`` with ``node == A*var + B`` and ``A``, ``B`` free of ``var`` (``None``
    stands for zero). The other symbols are held fixed: this is the conditional
    linearity that exponential Euler needs (Hodgkin-Huxley gates: ``A = -(alpha + beta)``,
    ``B = alpha``). Raises :class:`NotAffineError` when ``node`` is not of that form."""
    if var not in _names(node):
        return None, _copy(node)
    if isinstance(node, ast.Name):
        return ast.Constant(1.0), None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        a, b = affine_split(node.operand, var)
        return (_neg(a), _neg(b)) if isinstance(node.op, ast.USub) else (a, b)
    if isinstance(node, ast.BinOp):
        left, right = node.left, node.right
        if isinstance(node.op, (ast.Add, ast.Sub)):
            (a1, b1), (a2, b2) = affine_split(left, var), affine_split(right, var)
            sub = isinstance(node.op, ast.Sub)
            return _plus(a1, a2, sub), _plus(b1, b2, sub)
        if isinstance(node.op, ast.Mult):
            if var not in _names(left):
                a, b = affine_split(right, var)
                return _times(left, a), _times(left, b)
            if var not in _names(right):
                a, b = affine_split(left, var)
                return _times(right, a), _times(right, b)
        if isinstance(node.op, ast.Div) and var not in _names(right):
            a, b = affine_split(left, var)

            def div(x):
                return None if x is None else ast.BinOp(x, ast.Div(), _copy(right))

            return div(a), div(b)
        if (
            isinstance(node.op, ast.Pow)
            and isinstance(right, ast.Constant)
            and not isinstance(right.value, bool)
            and right.value == 1
        ):
            return affine_split(left, var)
    if isinstance(node, ast.IfExp) and var not in _names(node.test):
        (a1, b1), (a2, b2) = affine_split(node.body, var), affine_split(node.orelse, var)
        if a1 is None and a2 is None:
            a = None
        else:
            a = ast.IfExp(_copy(node.test), a1 or ast.Constant(0.0), a2 or ast.Constant(0.0))
        if b1 is None and b2 is None:
            b = None
        else:
            b = ast.IfExp(_copy(node.test), b1 or ast.Constant(0.0), b2 or ast.Constant(0.0))
        return a, b
    raise NotAffineError(f"{ast.unparse(node)!r} is not affine in {var!r}")


def check_spec(spec: NeuronSpec) -> CheckedSpec:
    """Parse and validate ``spec``; raise :class:`SpecError` on the first problem."""
    if not isinstance(spec, NeuronSpec):
        raise TypeError(f"expected a NeuronSpec, got {type(spec).__name__}")
    params, state = set(spec.parameters), set(spec.state)
    for name in params | state | set(spec.subexpressions):
        if not name.isidentifier() or name in RESERVED or NOISE.match(name):
            raise SpecError(
                f"spec {spec.name!r}: {name!r} cannot be used as a name "
                f"(reserved: {sorted(RESERVED)} and the noise symbols xi, xi_*)"
            )
    both = params & state
    if both:
        raise SpecError(
            f"spec {spec.name!r}: {sorted(both)} declared as both parameter and "
            "state variable; rename one"
        )
    if spec.method not in METHODS:
        raise SpecError(
            f"spec {spec.name!r}: unknown method {spec.method!r}; choose one of {METHODS}"
        )
    known = params | state | {"dt"}

    # subexpressions, inlined recursively (cycles are reported)
    subs = {}
    for name, text in spec.subexpressions.items():
        subs[name] = _parse_expr(spec, f"subexpression {name!r}", text)
    for name, node in subs.items():
        _check_names(
            spec,
            f"subexpression {name!r}",
            spec.subexpressions[name],
            node,
            known | set(subs) | set(CONSTANTS),
        )
    for name in subs:
        seen, stack = set(), [name]
        while stack:
            cur = stack.pop()
            for ref in _names(subs[cur]) & set(subs):
                if ref == name:
                    raise SpecError(
                        f"spec {spec.name!r}: subexpression {name!r} refers to "
                        "itself (directly or indirectly)"
                    )
                if ref not in seen:
                    seen.add(ref)
                    stack.append(ref)
    inline = _Inline(subs)

    odes, noise, lines = {}, {}, {}
    for idx, text in enumerate(spec.equations, 1):
        where = f"equation {idx}"
        m = _ODE.match(text) if isinstance(text, str) else None
        if not m:
            _fail(spec, where, text, "expected the form 'dX/dt = expression'")
        var, rhs = m.group(1), m.group(2)
        if var not in state:
            hint = difflib.get_close_matches(var, sorted(state), n=1)
            fix = f"did you mean {hint[0]!r}? " if hint else ""
            _fail(
                spec,
                where,
                text,
                f"{var!r} is not a state variable; {fix}add it to the spec's state",
            )
        if var in odes:
            _fail(spec, where, text, f"{var!r} already has an ODE")
        node = _parse_expr(spec, where, rhs)
        xis = {n for n in _names(node) if NOISE.match(n) and n not in known}
        _check_names(spec, where, text, node, (known - {"dt"}) | set(subs) | set(CONSTANTS) | xis)
        _no_random(spec, where, text, node, "use the white noise xi in equations")
        odes[var], noise[var] = _split_noise(spec, where, text, inline.visit(node), xis)
        lines[var] = (where, text)
    ode_vars = list(odes)
    noise = {v: g for v, g in noise.items() if g}
    noise_names = sorted(set().union(*(set(g) for g in noise.values())))

    threshold = None
    if spec.threshold is not None:
        threshold = _parse_expr(spec, "threshold", spec.threshold)
        _check_names(
            spec, "threshold", spec.threshold, threshold, known | set(subs) | set(CONSTANTS)
        )
        if not isinstance(threshold, (ast.Compare, ast.BoolOp)):
            _fail(spec, "threshold", spec.threshold, "must be a condition such as 'v >= v_thresh'")
        threshold = inline.visit(threshold)

    def stmts(texts, where, extra=()):
        out = []
        for text in texts:
            tgt, op, value = _statement(
                spec, where, text, state, known | set(subs) | set(CONSTANTS) | set(extra)
            )
            out.append((tgt, op, inline.visit(value)))
        return out

    reset = stmts(spec.reset, "reset")
    ports = {}
    for port, text in spec.ports.items():
        (entry,) = stmts([text], f"port {port!r}", extra=("w_in",))
        if "w_in" not in _names(entry[2]):
            _fail(spec, f"port {port!r}", text, "must use the summed input weight 'w_in'")
        if not _linear_in_w(*entry):
            _fail(
                spec,
                f"port {port!r}",
                text,
                "is not linear in w_in (it is applied once to the step's summed weight, so "
                "f(w1 + w2) must equal f(w1) + f(w2)); port statements must be linear in "
                "w_in, e.g. v += w_in or g += w_in*scale",
            )
        ports[port] = entry

    bounds = {}
    for var, pair in spec.bounds.items():
        where = f"bounds of {var!r}"
        if var not in state:
            raise SpecError(f"spec {spec.name!r}: {where}: {var!r} is not a state variable")
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise SpecError(f"spec {spec.name!r}: {where} must be a pair (lo, hi); got {pair!r}")
        sides = []
        for side in pair:
            if side is None:
                sides.append(None)
                continue
            text = repr(float(side)) if isinstance(side, int | float) else side
            node = _parse_expr(spec, where, text)
            _check_names(spec, where, text, node, params | set(CONSTANTS))
            sides.append(node)
        bounds[var] = tuple(sides)
    outputs = {}
    if len(spec.outputs) > 1:
        raise SpecError(
            f"spec {spec.name!r}: {len(spec.outputs)} graded outputs {sorted(spec.outputs)}; "
            "a model has at most one (split it into two populations)"
        )
    for name, text in spec.outputs.items():
        where = f"output {name!r}"
        if not name.isidentifier():
            raise SpecError(f"spec {spec.name!r}: {where} is not a valid name")
        if spec.threshold is not None:
            raise SpecError(
                f"spec {spec.name!r}: {where}: a model emits either spikes (a threshold) or "
                "a graded output, not both"
            )
        node = _parse_expr(spec, where, text)
        _check_names(spec, where, text, node, params | state | set(subs) | set(CONSTANTS))
        _no_random(spec, where, text, node, "outputs are deterministic functions of the state")
        outputs[name] = inline.visit(node)

    refractory_when = None
    if spec.refractory is not None and spec.refractory not in params:
        text = spec.refractory
        if not isinstance(text, str) or text.strip().isidentifier():
            raise SpecError(
                f"spec {spec.name!r}: refractory={spec.refractory!r} must name a "
                f"parameter (a time in seconds; parameters are {sorted(params)}) or be a "
                "condition such as 'ca > c_theta'"
            )
        node = _parse_expr(spec, "refractory", text)
        _check_names(spec, "refractory", text, node, known | set(subs) | set(CONSTANTS))
        if not isinstance(node, ast.Compare | ast.BoolOp):
            _fail(spec, "refractory", text, "must be a parameter name or a condition")
        _no_random(spec, "refractory", text, node, "a refractory condition is deterministic")
        refractory_when = inline.visit(node)
    for c in spec.clamped:
        if c not in state:
            raise SpecError(f"spec {spec.name!r}: clamped variable {c!r} is not a state variable")
    if spec.clamped and spec.refractory is None:
        raise SpecError(
            f"spec {spec.name!r}: clamped={list(spec.clamped)} needs a refractory parameter"
        )

    # each rand()/randn() call site gets its own number: rand(c), randn(c)
    number = _NumberRandom()
    threshold = threshold if threshold is None else number.visit(threshold)
    reset = [(tgt, op, number.visit(value)) for tgt, op, value in reset]
    ports = {p: (tgt, op, number.visit(value)) for p, (tgt, op, value) in ports.items()}

    initial = {}
    for idx, (name, (init, *_unit_doc_range)) in enumerate(spec.state.items()):
        if isinstance(init, str):
            where = f"initial value of {name!r}"
            node = _parse_expr(spec, where, init)
            _check_names(
                spec, where, init, node, params | set(list(spec.state)[:idx]) | set(CONSTANTS)
            )
            _no_random(
                spec, where, init, node, "give random initial values when creating the "
                "population, e.g. net.population(model, n, v=sim.uniform(lo, hi))"
            )  # fmt: skip
            initial[name] = node
        else:
            initial[name] = ast.Constant(float(init))

    ode_set = set(ode_vars)
    degs = {v: degree(odes[v], ode_set) for v in ode_vars}
    # an ODE that reads a state variable without an ODE (changed only by resets) cannot
    # use a propagator computed from parameters alone
    frozen = state - ode_set
    linear = all(d <= 1 for d in degs.values()) and not any(
        _names(odes[v]) & frozen for v in ode_vars
    )
    # noise whose intensity depends on the state (multiplicative) has no exact propagator
    additive = all(degree(g, state) == 0 for per_var in noise.values() for g in per_var.values())
    method = spec.method
    if method == "auto":
        method = ("exact" if linear and additive else "euler") if noise else (
            "exact" if linear else "rk4"
        )  # fmt: skip
    if method == "exact" and not linear:
        bad = next(v for v in ode_vars if degs[v] > 1 or _names(odes[v]) & frozen)
        raise SpecError(
            f"spec {spec.name!r}: method 'exact' needs ODEs linear in the state; "
            f"d{bad}/dt = {ast.unparse(odes[bad])} is not; use "
            f"{'euler' if noise else 'rk4'!r} or 'euler'"
        )
    if method == "exact" and not additive:
        raise SpecError(
            f"spec {spec.name!r}: method 'exact' needs additive noise (its factor free of "
            "the state variables); this noise is multiplicative: use 'euler' (Euler-Maruyama)"
        )
    if noise and method in ("rk2", "rk4", "rkf45"):
        raise SpecError(
            f"spec {spec.name!r}: method {method!r} cannot integrate stochastic equations "
            "(white noise xi); use 'euler' (Euler-Maruyama) or, for linear equations with "
            "additive noise, 'exact' (the exact Ornstein-Uhlenbeck update); 'auto' chooses"
        )
    affine = {}
    if method == "exponential_euler":
        if noise:
            raise SpecError(
                f"spec {spec.name!r}: method 'exponential_euler' cannot integrate stochastic "
                "equations (white noise xi), as in Brian2; use 'euler' (Euler-Maruyama) or, "
                "for linear equations with additive noise, 'exact'"
            )
        for v in ode_vars:
            try:
                a, b = affine_split(odes[v], v)
            except NotAffineError:
                where, text = lines[v]
                _fail(
                    spec,
                    where,
                    text,
                    "method 'exponential_euler' needs every equation to be affine in its own "
                    "variable (dX/dt = A*X + B, with A and B free of X but possibly depending "
                    f"on the other variables); d{v}/dt = {ast.unparse(odes[v])} is not affine "
                    f"in {v!r}: use 'rk4' (or 'rk2', 'euler') for this model",
                )
            affine[v] = tuple(None if x is None else _copy(x) for x in (a, b))
    atol = {}
    if method == "rkf45":
        tol = spec.error_tol
        if not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
            raise SpecError(f"spec {spec.name!r}: error_tol must be a positive number, got {tol!r}")
        atol = {v: tol * TOLERANCE_SCALE.get(spec.state[v][1], 1.0) for v in ode_vars}
    depends = {v: _names(odes[v]) & ode_set for v in ode_vars}
    has_const = {v: _may_have_const(odes[v], ode_set) for v in ode_vars}
    return CheckedSpec(
        spec=spec,
        ode_vars=ode_vars,
        odes=odes,
        threshold=threshold,
        reset=reset,
        ports=ports,
        method=method,
        linear=linear,
        depends=depends,
        has_const=has_const,
        initial=initial,
        noise=noise,
        noise_names=noise_names,
        n_random=number.count,
        affine=affine,
        atol=atol,
        bounds=bounds,
        outputs=outputs,
        refractory_when=refractory_when,
    )


def _no_random(spec, where, text, node, fix):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", None) in RANDOM:
            _fail(spec, where, text, f"{sub.func.id}() is not allowed here; {fix}")


class _NumberRandom(ast.NodeTransformer):
    """``rand()``/``randn()`` become ``rand(c)``/``randn(c)``, ``c`` counting call sites:
    each site draws its own number per element and step."""

    def __init__(self):
        self.count = 0

    def visit_Call(self, node):
        self.generic_visit(node)
        if getattr(node.func, "id", None) in RANDOM:
            node = ast.Call(ast.Name(node.func.id, ast.Load()), [ast.Constant(self.count)], [])
            self.count += 1
        return node


def _terms(node, sign=1.0):
    """The additive terms of ``node`` as ``(sign, term)`` pairs."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        right = -sign if isinstance(node.op, ast.Sub) else sign
        return _terms(node.left, sign) + _terms(node.right, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _terms(node.operand, -sign if isinstance(node.op, ast.USub) else sign)
    return [(sign, node)]


def _sum(terms):
    """An expression of ``(sign, term)`` pairs (0.0 when empty)."""
    out = None
    for sign, term in terms:
        if out is None:
            out = term if sign > 0 else ast.UnaryOp(ast.USub(), term)
        else:
            out = ast.BinOp(out, ast.Add() if sign > 0 else ast.Sub(), term)
    return ast.Constant(0.0) if out is None else out


def _split_noise(spec, where, text, node, xis):
    """``f, {xi: g}`` with ``node = f + sum(g*xi)``: each term holding a noise symbol
    must be linear in it (a factor ``g`` free of noise), as Ito calculus reads ``g*xi``."""
    if not xis:
        return node, {}
    deterministic, noise = [], {}
    for sign, term in _terms(node):
        used = _names(term) & xis
        if not used:
            deterministic.append((sign, term))
            continue
        q = used.pop()
        if used or degree(term, {q}) != 1 or _may_have_const(term, {q}):
            _fail(
                spec,
                where,
                text,
                f"white noise must enter as an additive term g*{q} with g free of noise "
                f"symbols; {ast.unparse(term)!r} is not of that form",
            )
        factor = ast.fix_missing_locations(_Inline({q: ast.Constant(1.0)}).visit(_copy(term)))
        noise.setdefault(q, []).append((sign, factor))
    return _sum(deterministic), {q: _sum(parts) for q, parts in noise.items()}


# --------------------------------------------------------------------------------------
# Printers: one checked AST, several targets. A CUDA C printer plugs in the same way.
# --------------------------------------------------------------------------------------
class Printer:
    """Prints checked expressions for one target language.

    ``names`` maps spec symbols to target identifiers (e.g. a parameter to an array
    element). Subclasses choose the function spellings.
    """

    func_index = 0

    def __init__(self, names: dict):
        self.names = names

    def expr(self, node) -> str:
        printer = self

        class _Rename(ast.NodeTransformer):
            def visit_Name(self, n):
                if n.id in printer.names:
                    return ast.copy_location(ast.Name(printer.names[n.id], ast.Load()), n)
                return n

            def visit_Call(self, n):
                self.generic_visit(n)
                fname = FUNCTIONS[n.func.id][printer.func_index]
                if fname is None:
                    raise ValueError(f"{n.func.id}() cannot be evaluated on the host")
                n.func = ast.Name(fname, ast.Load())
                return n

            # element-wise over arrays (NumPy printing only)
            def visit_IfExp(self, n):
                self.generic_visit(n)
                if printer.func_index != 0:
                    return n
                return ast.Call(ast.Name("np.where", ast.Load()), [n.test, n.body, n.orelse], [])

            def visit_BoolOp(self, n):
                self.generic_visit(n)
                if printer.func_index != 0:
                    return n
                name = "np.logical_and" if isinstance(n.op, ast.And) else "np.logical_or"
                out = n.values[0]
                for v in n.values[1:]:
                    out = ast.Call(ast.Name(name, ast.Load()), [out, v], [])
                return out

            def visit_UnaryOp(self, n):
                self.generic_visit(n)
                if printer.func_index != 0 or not isinstance(n.op, ast.Not):
                    return n
                return ast.Call(ast.Name("np.logical_not", ast.Load()), [n.operand], [])

        return ast.unparse(_Rename().visit(_copy(node)))

    def stmt(self, target: str, op: str, node) -> str:
        return f"{self.names.get(target, target)} {op} {self.expr(node)}"


class NumpyPrinter(Printer):
    """Vectorised NumPy expressions (used for propagators and initial values)."""

    func_index = 0


class NumbaPrinter(Printer):
    """Scalar Python expressions for Numba-compiled kernels."""

    func_index = 1


def evaluate(node, env: dict):
    """Evaluate a checked expression with NumPy over ``env`` (name -> scalar or array)."""
    import numpy as np

    printer = NumpyPrinter({})
    return eval(printer.expr(node), {"np": np, "__builtins__": {}}, env)  # noqa: S307
