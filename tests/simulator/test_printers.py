"""Both printers of the kernel IR (Python for Numba, C): precedence, floored operators,
literals, the NaN rule of min/max, the random numbers, and a property test that the
two compiled results agree bit for bit on many random expressions."""

from __future__ import annotations

import ast
import math
import random
import shutil
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axonforge import rng
from axonforge.backends.numba_backend import load_kernel
from axonforge.engine import c_target, ir
from axonforge.engine.c_printer import C_RUNTIME, CPrinter
from axonforge.engine.ir import X, call, ternary
from axonforge.engine.printers import PythonPrinter

needs_cc = pytest.mark.skipif(
    shutil.which("cc") is None, reason="no C compiler (cc) found: the C printer is not compiled"
)

a, b, c, d = (X.name(n) for n in "abcd")


def both(node):
    return PythonPrinter().expr(node), CPrinter().expr(node)


# ------------------------------------------------------------------ printed text
@pytest.mark.parametrize(
    "node, py, cc",
    [
        (-(a**2), "-(a * a)", "-(a * a)"),
        ((a - b) - c, "a - b - c", "a - b - c"),
        (a - (b - c), "a - (b - c)", "a - (b - c)"),
        (a + (b + c), "a + (b + c)", "a + (b + c)"),
        (a * (b * c), "a * (b * c)", "a * (b * c)"),
        (a / (b * c), "a / (b * c)", "a / (b * c)"),
        (a / b * c, "a / b * c", "a / b * c"),
        ((a + b) * c, "(a + b) * c", "(a + b) * c"),
        (ir.not_(a < b), "not a < b", "!(a < b)"),
        (X(ast.UnaryOp(ast.USub(), (-a).node)), "--a", "-(-a)"),
        (a - (-b), "a - -b", "a - -b"),
        ((a + b) ** 3, "(a + b) * (a + b) * (a + b)", "(a + b) * (a + b) * (a + b)"),
        ((a * b) ** 2, "a * b * (a * b)", "a * b * (a * b)"),
        (a**0, "1.0", "1.0"),
        (a**1, "a", "a"),
        (a**2.0, "a * a", "a * a"),
        (a**5, "math.pow(a, 5.0)", "pow(a, 5LL)"),
        (a**2.5, "math.pow(a, 2.5)", "pow(a, 2.5)"),
        (
            ternary(a < b, c, ternary(b < c, a, d)),
            "c if a < b else a if b < c else d",
            "(a < b ? c : (b < c ? a : d))",
        ),
        (
            ternary(ternary(a < b, a, b) > c, 1.0, 2.0),
            "1.0 if (a if a < b else b) > c else 2.0",
            "((a < b ? a : b) > c ? 1.0 : 2.0)",
        ),
        (ir.or_(ir.and_(a < b, b < c), c < d), "a < b and b < c or c < d", None),
        (call("min", a, b) * 2, "nan_min(a, b) * 2", "af_nan_min(a, b) * 2LL"),
        (a // b, "a // b", "af_floordiv_f64(a, b)"),
        (a % b, "a % b", "af_mod_f64(a, b)"),
        (X(-2.5) * a, "-2.5 * a", "-2.5 * a"),
    ],
)
def test_printed_text(node, py, cc):
    got_py, got_c = both(node)
    assert got_py == py
    if cc is not None:
        assert got_c == cc
    # whatever the text, Python reads back the tree's grouping
    assert ast.dump(ast.parse(got_py, mode="eval").body) == ast.dump(
        ast.parse(PythonPrinter().expr(node), mode="eval").body
    )


def test_c_and_inside_or_gets_parentheses():
    assert CPrinter().expr(ir.or_(ir.and_(a < b, b < c), c < d)) == "(a < b && b < c) || c < d"
    assert CPrinter().expr(ir.and_(ir.or_(a < b, b < c), c < d)) == "(a < b || b < c) && c < d"


def test_c_integer_typing():
    p = CPrinter(types={"i": "int", "j": "int"}, arrays={"q": "int32_t", "m": "double"})
    i, j = X.name("i"), X.name("j")
    assert p.expr(i / j) == "(double)i / (double)j"  # Python's / of ints is a float division
    assert p.expr(i // j) == "af_floordiv_i64(i, j)"
    assert p.expr(i % 8) == "af_mod_i64(i, 8LL)"
    assert p.expr(call("abs", i)) == "af_abs_i64(i)"
    assert p.expr(call("max", i, j)) == "af_nan_max_i64(i, j)"
    assert p.expr(call("max", i, a)) == "af_nan_max(i, a)"
    assert p.expr(X.name("q")[i] + 1) == "(int64_t)q[i] + 1LL"
    assert p.expr(X.name("m")[i, j]) == "m[i * m_cols + j]"
    assert p.expr(X.name("m")[i + 1, j - 1]) == "m[(i + 1LL) * m_cols + (j - 1LL)]"


@pytest.mark.parametrize(
    "value, text",
    [
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (1e16, "1e+16"),
        (5.0, "5.0"),
        (-0.0, "-0.0"),
        (math.inf, "INFINITY"),
        (-math.inf, "-INFINITY"),
        (math.nan, "NAN"),
        (True, "1"),
        (False, "0"),
        (7, "7LL"),
        (-(2**63), "(-9223372036854775807LL - 1LL)"),
    ],
)
def test_c_literals(value, text):
    assert CPrinter().expr(X(value)) == text


# --------------------------------------------------- compiling many expressions at once
def _numba_eval(exprs, names, types=None, tag="f"):
    """A Numba function ``f(n, in_<name>..., out)`` writing ``out[r, j] = exprs[j]``
    for each row ``r``, printed by the Python printer as the backend prints kernels."""
    types = types or {}
    py = PythonPrinter()
    lines = [
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from axonforge.rng import normal, poisson, step_key, uniform",
        "from axonforge.engine.runtime import nan_max, nan_min",
        "",
        "@njit(cache=True, nogil=True, error_model='numpy')",
        f"def {tag}(n, {''.join(f'in_{v}, ' for v in names)}out):",
        "    for r in range(n):",
        *(f"        {v} = in_{v}[r]" for v in names),
        *(f"        out[r, {j}] = {py.expr(e)}" for j, e in enumerate(exprs)),
        "    return 0",
    ]
    return getattr(load_kernel("\n".join(lines)), tag)


def _c_eval(exprs, names, types=None, out_type="double", tag="f"):
    """The same in C, through :class:`CPrinter`, one shared library."""
    types = types or {}
    p = CPrinter(types={v: types.get(v, "float") for v in names})
    ctype = {"float": "double", "int": "int64_t", "key": "uint64_t", "bool": "int"}
    args = "".join(f"const {ctype[types.get(v, 'float')]} *in_{v}, " for v in names)
    lines = [
        C_RUNTIME,
        f"void {tag}(int64_t n, {args}{out_type} *out) {{",
        *(f"    {ctype[types.get(v, 'float')]} {v};" for v in names),
        "    for (int64_t r = 0; r < n; ++r) {",
        *(f"        {v} = in_{v}[r];" for v in names),
        *(f"        out[r * {len(exprs)} + {j}] = {p.expr(e)};" for j, e in enumerate(exprs)),
        "    }",
        "}",
    ]
    fn = getattr(c_target.build("\n".join(lines)), tag)
    fn.restype = None
    return fn


def _run_both(py_fn, c_fn, columns, m, out_dtype=np.float64):
    import ctypes

    n = len(columns[0])
    cols = [np.ascontiguousarray(col) for col in columns]
    out_py = np.zeros((n, m), out_dtype)
    out_c = np.zeros((n, m), out_dtype)
    py_fn(n, *cols, out_py)
    c_fn(ctypes.c_int64(n), *(ctypes.c_void_p(col.ctypes.data) for col in cols),
         ctypes.c_void_p(out_c.ctypes.data))  # fmt: skip
    return out_py, out_c


def _assert_same_bits(x, y, what=""):
    """Bit-identical doubles, except that any NaN equals any NaN."""
    nan = np.isnan(x) & np.isnan(y)
    same = (x.view(np.uint64) == y.view(np.uint64)) | nan
    if not same.all():
        r, j = np.argwhere(~same)[0]
        raise AssertionError(f"{what} row {r} expression {j}: {x[r, j]!r} != {y[r, j]!r}")


@needs_cc
def test_floored_division_and_modulo_match_python():
    ints = [-7, -6, -1, 0, 1, 5, 7, 13, -13, 2**40 + 3, -(2**40) - 3]
    pairs = [(p, q) for p in ints for q in ints if q != 0]
    i, j = X.name("i"), X.name("j")
    exprs = [i // j, i % j]
    types = {"i": "int", "j": "int"}
    py_fn = _numba_eval(exprs, ["i", "j"], types, tag="fi")
    c_fn = _c_eval(exprs, ["i", "j"], types, out_type="int64_t", tag="fi")
    cols = [np.array([p for p, _ in pairs], np.int64), np.array([q for _, q in pairs], np.int64)]
    out_py, out_c = _run_both(py_fn, c_fn, cols, 2, np.int64)
    want = np.array([[p // q, p % q] for p, q in pairs], np.int64)
    assert np.array_equal(out_c, want) and np.array_equal(out_py, want)

    floats = [-7.5, -1.0, -0.0, 0.0, 0.1, 1.0, 2.0, 7.5, -3.25, 1e300, -1e-300, math.inf]
    fpairs = [(p, q) for p in floats for q in floats if q != 0 and math.isfinite(p)]
    x, y = X.name("x"), X.name("y")
    py_fn = _numba_eval([x // y, x % y], ["x", "y"], tag="ff")
    c_fn = _c_eval([x // y, x % y], ["x", "y"], tag="ff")
    cols = [np.array([p for p, _ in fpairs]), np.array([q for _, q in fpairs])]
    out_py, out_c = _run_both(py_fn, c_fn, cols, 2)
    want = np.array([[p // q, p % q] for p, q in fpairs])
    _assert_same_bits(out_c, want, "C vs Python")
    _assert_same_bits(out_py, want, "Numba vs Python")
    # a zero divisor: what Numba gives under error_model='numpy' (Python raises)
    cols = [np.array([1.0, -1.0, 0.0, 7]), np.array([0.0, 0.0, -0.0, -0.0])]
    out_py, out_c = _run_both(py_fn, c_fn, cols, 2)
    _assert_same_bits(out_c, out_py, "zero divisor")


@needs_cc
def test_float_literals_round_trip():
    r = random.Random(1)
    values = [0.1, 1 / 3, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e23]
    values += [-0.0, 0.0, 123456789.12345679, 6.02214076e23, math.pi, -math.e, math.inf]
    values += [struct.unpack("<d", struct.pack("<Q", r.getrandbits(63)))[0] for _ in range(200)]
    values = [v for v in values if not math.isnan(v)]
    x = X.name("x")
    exprs = [X(v) + x for v in values]  # + x: -0.0 + 0.0 would lose the sign, so x = -0.0
    py_fn = _numba_eval(exprs, ["x"], tag="lit")
    c_fn = _c_eval(exprs, ["x"], tag="lit")
    out_py, out_c = _run_both(py_fn, c_fn, [np.array([-0.0])], len(exprs))
    want = np.array([values])
    assert np.array_equal(out_c.view(np.uint64), want.view(np.uint64))
    assert np.array_equal(out_py.view(np.uint64), want.view(np.uint64))


@needs_cc
def test_min_max_nan_rule():
    x, y = X.name("x"), X.name("y")
    exprs = [call("min", x, y), call("max", x, y)]
    py_fn = _numba_eval(exprs, ["x", "y"], tag="mm")
    c_fn = _c_eval(exprs, ["x", "y"], tag="mm")
    vals = [math.nan, 1.0, -1.0, 0.0, -0.0, math.inf, -math.inf]
    pairs = [(p, q) for p in vals for q in vals]
    cols = [np.array([p for p, _ in pairs]), np.array([q for _, q in pairs])]
    out_py, out_c = _run_both(py_fn, c_fn, cols, 2)
    want = np.array(
        [[p if (p < q or p != p) else q, p if (p > q or p != p) else q] for p, q in pairs]
    )
    _assert_same_bits(out_c, want, "C")
    _assert_same_bits(out_py, want, "Numba")
    assert np.isnan(out_c[[k for k, (p, q) in enumerate(pairs) if p != p or q != q]]).all()


@needs_cc
def test_random_numbers_match_rng():
    """af_step_key/af_uniform/af_normal/af_poisson are axonforge.rng, bit for bit."""
    key, i = X.name("key"), X.name("i")
    exprs = [call("uniform", key, i), call("normal", key, i), call("poisson", key, i, 3.5, 0.5)]
    coords = [(0, 1, 0), (12345, 3, 999), (2**40, 7, 5)]
    keys = [int(rng.step_key(s, st_, k)) for s, st_, k in coords]
    n = 3000
    idx = np.tile(np.arange(n, dtype=np.int64), len(keys))
    kcol = np.repeat(np.array(keys, np.uint64), n)
    c_fn = _c_eval(exprs, ["key", "i"], {"key": "key", "i": "int"}, tag="rng")
    py_fn = _numba_eval(exprs, ["key", "i"], {"key": "key", "i": "int"}, tag="rng")
    out_py, out_c = _run_both(py_fn, c_fn, [kcol, idx], 3)
    want = np.array(
        [
            [rng.uniform(np.uint64(kk), j), rng.normal(np.uint64(kk), j),
             rng.poisson(np.uint64(kk), j, 3.5, 0.5)]
            for kk, j in zip(kcol.tolist(), idx.tolist())
        ]
    )  # fmt: skip
    _assert_same_bits(out_c, want, "C vs rng")
    _assert_same_bits(out_py, want, "Numba vs rng")
    # the step key itself, through the C printer's step_key
    seed, stream, step = X.name("seed"), X.name("stream"), X.name("step")
    fn = _c_eval(
        [call("step_key", seed, stream, step)],
        ["seed", "stream", "step"],
        {"seed": "int", "stream": "int", "step": "int"},
        out_type="uint64_t",
        tag="key",
    )
    triples = np.array([(0, 1, 0), (12345, 3, 999), (2**40, 7, 5), (2**62, 1000, 10**9)])
    out = np.zeros((len(triples), 1), np.uint64)
    import ctypes

    cols = [np.ascontiguousarray(triples[:, q]) for q in range(3)]
    fn(ctypes.c_int64(len(triples)), *(ctypes.c_void_p(col.ctypes.data) for col in cols),
       ctypes.c_void_p(out.ctypes.data))  # fmt: skip
    assert out[:, 0].tolist() == [int(rng.step_key(*map(int, t))) for t in triples]


# ------------------------------------------------------------------- property test
FLOATS = ["x0", "x1", "x2", "x3"]  # any double, NaN and infinities included
SAFE = ["s0", "s1"]  # finite, |s| < 1e3: the only arguments of floor (see below)
UNARY = ["exp", "log", "sqrt", "abs", "tanh", "sin", "cos", "expm1", "log1p"]


def random_expr(r: random.Random, depth: int) -> X:
    """A random float expression over FLOATS and SAFE. A power that is not expanded
    has a float exponent (Numba computes ``math.pow(x, 5)`` with an int exponent by
    repeated squaring, not with the C library's ``pow``). ``floor`` appears only as
    ``floor(s) + 0.0``: Numba's math.floor returns an int (so floor(nan) is garbage and
    -floor(-0.0) is int 0, not -0.0), which the C printer's double floor cannot match;
    ``+ 0.0`` makes both a float with the same value."""
    if depth <= 0 or r.random() < 0.15:
        pick = r.random()
        if pick < 0.6:
            return X.name(r.choice(FLOATS))
        if pick < 0.75:
            return call("floor", X.name(r.choice(SAFE))) + 0.0
        return X(r.choice([0.5, 2.0, -1.5, 0.1, 1e-3, 3.0, 1e10, -0.0, 7.25]))
    kind = r.random()
    sub = lambda: random_expr(r, depth - 1)  # noqa: E731
    if kind < 0.45:
        op = r.choice(["+", "-", "*", "/", "//", "%", "**"])
        left, right = sub(), sub()
        if op == "**":
            return left ** r.choice([0, 1, 2, 3, 4, 2.0, 2.5, 1.5, 5.0, -1.0, -2.0, 0.3])
        return {
            "+": left + right, "-": left - right, "*": left * right, "/": left / right,
            "//": left // right, "%": left % right,
        }[op]  # fmt: skip
    if kind < 0.55:
        return -sub()
    if kind < 0.8:
        f = r.choice(UNARY + ["min", "max"])
        return call(f, sub(), sub()) if f in ("min", "max") else call(f, sub())
    return ternary(random_cond(r, depth - 1), sub(), sub())


def random_cond(r, depth):
    pick = r.random()
    left, right = random_expr(r, depth), random_expr(r, depth)
    if pick < 0.6:
        return r.choice([left < right, left <= right, left > right, left >= right,
                         left.eq(right), left.ne(right)])  # fmt: skip
    if pick < 0.75:
        return ir.not_(left < right)
    if pick < 0.85:
        return call("isfinite", left)
    if depth <= 0:
        return left < right
    combine = ir.and_ if pick < 0.93 else ir.or_
    return combine(left < right, random_cond(r, depth - 1))


N_EXPRS = 200


@pytest.fixture(scope="module")
def compiled_pair():
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) found: the C printer is not compiled")
    r = random.Random(20240611)
    exprs = [random_expr(r, r.randint(1, 4)) for _ in range(N_EXPRS)]
    names = FLOATS + SAFE
    # Numba compiles four functions of 50 expressions faster than one of 200
    parts = [
        (j, _numba_eval(exprs[j : j + 50], names, tag=f"prop{j}")) for j in range(0, N_EXPRS, 50)
    ]

    def py_fn(n, *args):
        *cols, out = args
        for j, fn in parts:
            part = np.zeros((n, min(50, N_EXPRS - j)))
            fn(n, *cols, part)
            out[:, j : j + part.shape[1]] = part

    return py_fn, _c_eval(exprs, names, tag="prop"), exprs


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, -0.1, 7.25, 700.0, -745.5, 1e-300,
           -1e-310, 1e300, -1e300, math.inf, -math.inf, math.nan]  # fmt: skip


def _columns(rows_x, rows_s):
    return [np.array([row[q] for row in rows_x], np.float64) for q in range(len(FLOATS))] + [
        np.array([row[q] for row in rows_s], np.float64) for q in range(len(SAFE))
    ]


def test_random_expressions_on_special_values(compiled_pair):
    py_fn, c_fn, exprs = compiled_pair
    r = random.Random(7)
    rows = 600
    rows_x = [[r.choice(SPECIAL) for _ in FLOATS] for _ in range(rows)]
    rows_s = [[r.uniform(-999, 999) if r.random() < 0.7 else r.choice([-0.0, 0.0, -0.5, 2.0])
               for _ in SAFE] for _ in range(rows)]  # fmt: skip
    out_py, out_c = _run_both(py_fn, c_fn, _columns(rows_x, rows_s), len(exprs))
    _assert_same_bits(out_py, out_c, "Numba vs C")
    # the test means something: most results are finite numbers
    assert np.isfinite(out_c).mean() > 0.3


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    xs=st.lists(st.lists(st.floats(), min_size=4, max_size=4), min_size=1, max_size=8),
    ss=st.lists(
        st.floats(-999, 999, allow_nan=False, allow_infinity=False), min_size=16, max_size=16
    ),
)
def test_random_expressions_property(compiled_pair, xs, ss):
    py_fn, c_fn, exprs = compiled_pair
    rows_s = [[ss[(2 * q) % 16], ss[(2 * q + 1) % 16]] for q in range(len(xs))]
    out_py, out_c = _run_both(py_fn, c_fn, _columns(xs, rows_s), len(exprs))
    _assert_same_bits(out_py, out_c, "Numba vs C")


@needs_cc
def test_floor_is_a_double_in_both_printers():
    x = X.name("x")
    exprs = [call("floor", x)]
    out_py, out_c = _run_both(
        _numba_eval(exprs, ["x"], tag="fl"),
        _c_eval(exprs, ["x"], tag="fl"),
        [np.array([math.nan, -0.0, 1e300, 2.5])],
        1,
    )
    _assert_same_bits(out_py, out_c, "floor")


@needs_cc
def test_int_power_above_four_calls_pow_in_both_printers():
    x = X.name("x")
    out_py, out_c = _run_both(
        _numba_eval([x**5], ["x"], tag="pw"),
        _c_eval([x**5], ["x"], tag="pw"),
        [np.array([math.sqrt(3.0)])],
        1,
    )
    _assert_same_bits(out_py, out_c, "x**5")
