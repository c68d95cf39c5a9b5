"""The C printer: kernel statements (:mod:`axonforge.engine.ir`) as C99 (also valid CUDA C).

It follows the rules of :class:`~axonforge.engine.printers.PythonPrinter` (module
docstring there, and docs "Floating point across targets"), so a kernel printed by both
computes the same doubles, bit for bit:

* ``x**n`` for a literal int ``n`` in 0..4 is a left-to-right product (``x * x * x``),
  ``x**0`` is ``1.0``; any other power is ``pow(a, b)``;
* ``//`` and ``%`` are floored, through the helpers ``af_floordiv_i64``, ``af_mod_i64``,
  ``af_floordiv_f64`` and ``af_mod_f64`` of :data:`C_RUNTIME`. The float helpers are
  CPython's ``float_divmod`` as Numba compiles it (``fmod``, then a snap of the quotient
  to the nearest integer), *not* ``floor(a / b)``: ``1.0 // 0.1`` is ``9.0`` in Python
  and Numba, while ``floor(1.0 / 0.1)`` is ``10.0``. Division by zero gives what Numba
  gives under ``error_model='numpy'``: ``a / b`` for float ``//``, NaN for float ``%``,
  0 for both int operators;
* ``min``/``max`` are ``af_nan_min``/``af_nan_max``: ``a if (a < b or a != a) else b``,
  as :mod:`axonforge.engine.runtime`;
* float literals are ``repr(x)`` (shortest round trip; C's ``strtod`` reads the same
  double), ``INFINITY`` and ``NAN`` for the non-finite ones; int literals carry ``LL``
  (``2LL``), so integer arithmetic is 64-bit as in Numba (an ``int32`` array element is
  read as ``(int64_t)a[i]`` for the same reason); bools are ``1``/``0``;
* no reordering: the tree's grouping is kept (the right operand of a left-associative
  operator of equal precedence keeps its parentheses: ``a - (b - c)``, ``a + (b + c)``),
  and the build flags forbid contraction and reassociation.

Types. The IR has no types, but C needs them for declarations, for true division of two
ints (Python's ``/`` is always a float division: printed ``(double)a / (double)b``), for
the int or float helper of ``//``, ``%``, ``abs``, ``min``, ``max``. The printer infers
them from the declared types of names (``float``, ``int``, ``bool``, ``key``: the IR's
``Assign.dtype`` values) and of array elements, as Python would: any float operand makes
the result a float.

Conventions (the C ABI of :mod:`axonforge.engine.c_target` builds on them):

* a 2-D array argument ``a`` is a pointer to its first element (C order) plus an
  ``int64_t a_cols`` argument, its row length in elements; ``a[i, j]`` is printed
  ``a[i * a_cols + j]``;
* every local (assigned names, loop variables, row views) is declared once at the top of
  the function, initialised to zero (:meth:`CPrinter.declarations`), so a local first
  assigned inside a loop can be read after it; loop variables are ``int64_t``;
* :class:`~axonforge.engine.ir.Return` writes its values into the ``int64_t`` array
  ``af_ret`` (an argument of every kernel function) and returns the first value;
* ``floor`` returns a double, as C's ``floor`` (Numba's ``math.floor`` returns an int;
  see docs "Floating point across targets").
"""

from __future__ import annotations

import ast
import math

from axonforge.engine import ir
from axonforge.engine.printers import expanded_power

#: IR local dtype -> C type
C_LOCAL = {"float": "double", "int": "int64_t", "bool": "int", "key": "uint64_t"}

#: C scalar type -> the IR type used by inference
IR_TYPE = {
    "double": "float",
    "float": "float",
    "int64_t": "int",
    "int32_t": "int",
    "int": "bool",
    "uint8_t": "bool",
    "uint64_t": "key",
}

#: IR function -> C name for float arguments (``abs``/``min``/``max`` of ints differ)
C_FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "abs": "af_abs",
    "tanh": "tanh",
    "sin": "sin",
    "cos": "cos",
    "expm1": "expm1",
    "log1p": "log1p",
    "floor": "floor",
    "ceil": "ceil",
    "min": "af_nan_min",
    "max": "af_nan_max",
    "isfinite": "af_isfinite",
    "step_key": "af_step_key",
    "uniform": "af_uniform",
    "normal": "af_normal",
    "poisson": "af_poisson",
}
_INT_FUNCTIONS = {"abs": "af_abs_i64", "min": "af_nan_min_i64", "max": "af_nan_max_i64"}
_RESULT = {"isfinite": "bool", "step_key": "key", "poisson": "int"}

# C precedence, larger binds tighter
_PRIMARY, _UNARY, _MUL, _ADD, _REL, _EQ, _AND, _OR, _COND = 16, 15, 13, 12, 10, 9, 5, 4, 3
_BINOPS = {ast.Add: ("+", _ADD), ast.Sub: ("-", _ADD), ast.Mult: ("*", _MUL), ast.Div: ("/", _MUL)}
_CMPOPS = {
    ast.Lt: ("<", _REL),
    ast.LtE: ("<=", _REL),
    ast.Gt: (">", _REL),
    ast.GtE: (">=", _REL),
    ast.Eq: ("==", _EQ),
    ast.NotEq: ("!=", _EQ),
}

#: helpers every translation unit starts with (C99; CUDA defines AF_FN as a device
#: function). The random numbers are axonforge.rng's construction, bit for bit.
C_RUNTIME = r"""#include <math.h>
#include <stdint.h>

#ifndef AF_FN
#ifdef __CUDACC__
#define AF_FN static __device__ __forceinline__
#else
#define AF_FN static inline
#endif
#endif

/* floored integer division and modulo (Python's); 0 for a zero divisor (Numba) */
AF_FN int64_t af_floordiv_i64(int64_t a, int64_t b) {
    if (b == 0 || (a == INT64_MIN && b == -1)) return 0;
    int64_t q = a / b, r = a - q * b;
    if (r != 0 && ((r < 0) != (b < 0))) q -= 1;
    return q;
}
AF_FN int64_t af_mod_i64(int64_t a, int64_t b) {
    if (b == 0 || (a == INT64_MIN && b == -1)) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
/* floored float division and modulo: CPython's float_divmod as Numba compiles it */
AF_FN double af_floordiv_f64(double a, double b) {
    if (b == 0.0) return a / b;
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0.0) != (mod < 0.0)) div -= 1.0;
    }
    if (div < 0.0 || div > 0.0) {
        double fl = floor(div);
        if (div - fl > 0.5) fl += 1.0;
        return fl;
    }
    div = div * div;
    return div * a / b;
}
AF_FN double af_mod_f64(double a, double b) {
    double mod = fmod(a, b);
    if (b == 0.0) return mod;
    if (mod != 0.0) {
        if ((b < 0.0) != (mod < 0.0)) mod += b;
        return mod;
    }
    return b < 0.0 ? -0.0 : 0.0;
}
/* min/max: a NaN argument gives NaN (axonforge.engine.runtime.nan_min/nan_max) */
AF_FN double af_nan_min(double a, double b) { return (a < b || a != a) ? a : b; }
AF_FN double af_nan_max(double a, double b) { return (a > b || a != a) ? a : b; }
AF_FN int64_t af_nan_min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
AF_FN int64_t af_nan_max_i64(int64_t a, int64_t b) { return a > b ? a : b; }
AF_FN double af_abs(double a) { return fabs(a); }
AF_FN int64_t af_abs_i64(int64_t a) { return a < 0 ? -a : a; }
AF_FN int af_isfinite(double a) { return isfinite(a) ? 1 : 0; }

/* counter-based random numbers: axonforge.rng (SplitMix64 finaliser), bit for bit */
AF_FN uint64_t af_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
AF_FN uint64_t af_step_key(uint64_t seed, uint64_t stream, uint64_t step) {
    uint64_t h = af_mix64(seed ^ (stream * 0xD6E8FEB86659FD93ULL));
    return af_mix64(h ^ (step * 0xA0761D6478BD642FULL));
}
AF_FN double af_uniform(uint64_t key, uint64_t index) {
    uint64_t h = af_mix64(key + (index + 1ULL) * 0x9E3779B97F4A7C15ULL);
    return (double)(int64_t)(h >> 11) * (1.0 / 9007199254740992.0);
}
AF_FN int64_t af_poisson(uint64_t key, uint64_t index, double lam, double exp_neg_lam) {
    if (lam <= 0.0) return 0;
    double u = af_uniform(key, index);
    double p = exp_neg_lam, s = p;
    int64_t c = 0;
    while (u > s && c < 1000) {
        c += 1;
        p *= lam / (double)c;
        s += p;
    }
    return c;
}
__AF_NORMAL__"""


def _f32(value) -> str:
    """A float32 constant as a C ``float`` literal: the shortest repr of its (exact)
    double value plus ``f``, which C reads back as the same float."""
    return f"{float(value)!r}f"


def _normal_runtime() -> str:
    """``af_normal`` and its float32 log and sine: the operations of
    :func:`axonforge.rng.normal` in the same order, with the same constants. The fused
    multiply-adds are ``fmaf`` (exactly rounded, as ``llvm.fma`` in Numba) and everything
    else is compiled without contraction, so C and Numba give the same bits."""
    from axonforge import rng

    c, d = [_f32(v) for v in rng.LOG_POLY], [_f32(v) for v in rng.SIN_POLY]
    return f"""/* float32 <-> its bits (a union: C99 and CUDA) */
typedef union {{ float f; uint32_t i; }} af_f32_bits;
AF_FN float af_neg2_log_radius(uint64_t y) {{
    float x = (float)(int64_t)y;
    af_f32_bits b;
    b.f = x;
    uint32_t ix = b.i + {rng._CENTRE}U;
    float e = (float)((int32_t)(ix >> 23) - {127 + rng._RADIUS_BITS});
    float near_one = (float)(int64_t)(y ^ {int(rng._COMPLEMENT)}ULL) * {_f32(rng._NEG_TO_UNIT)};
    b.i = (ix & 0x7FFFFFU) + {rng._SQRT_HALF_BITS}U;
    float f = e == 0.0f ? near_one : b.f - 1.0f;
    float f2 = f * f;
    float f4 = f2 * f2;
    float lo = fmaf(fmaf({c[3]}, f, {c[2]}), f2, fmaf({c[1]}, f, {c[0]}));
    float hi = fmaf(fmaf({c[7]}, f, {c[6]}), f2, fmaf({c[5]}, f, {c[4]}));
    return fmaf(f, fmaf(hi, f4, lo), e * {_f32(rng._M2LN2)});
}}
AF_FN float af_sin_half_turn(float w) {{
    float s = w * w;
    float s2 = s * s;
    return w * fmaf(fmaf({d[4]}, s2, fmaf({d[3]}, s, {d[2]})), s2, fmaf({d[1]}, s, {d[0]}));
}}
AF_FN double af_normal(uint64_t key, uint64_t index) {{
    uint64_t salted = key ^ {int(rng._NORMAL_SALT)}ULL;
    uint64_t h = af_mix64(salted + (index + 1ULL) * 0x9E3779B97F4A7C15ULL);
    float r2 = af_neg2_log_radius((h >> 23) | 1ULL);
    float w = ((float)(int64_t)(h & 0xFFFFFFULL) - {_f32(rng._MID24)}) * {_f32(rng._TO_HALF)};
    return (double)(sqrtf(r2) * af_sin_half_turn(w));
}}
"""


C_RUNTIME = C_RUNTIME.replace("__AF_NORMAL__", _normal_runtime())


def c_literal(value) -> tuple[str, int]:
    """A constant as C text and its precedence."""
    if isinstance(value, bool):
        return ("1" if value else "0"), _PRIMARY
    if isinstance(value, int):
        if value == -(2**63):
            return "(-9223372036854775807LL - 1LL)", _PRIMARY
        if not -(2**63) < value < 2**63:
            raise ValueError(f"kernel IR: int literal {value} does not fit int64")
        return f"{value}LL", (_UNARY if value < 0 else _PRIMARY)
    if isinstance(value, float):
        if math.isnan(value):
            return "NAN", _PRIMARY
        if math.isinf(value):
            return ("INFINITY", _PRIMARY) if value > 0 else ("-INFINITY", _UNARY)
        text = repr(value)  # always has "." or "e"
        return text, (_UNARY if text.startswith("-") else _PRIMARY)
    raise TypeError(f"kernel IR: unsupported constant {value!r}")


def _num(t: str) -> str:
    """The arithmetic class of an inferred type: "float" or "int"."""
    return "float" if t == "float" else "int"


class CPrinter:
    """Prints IR expressions and statements as C99.

    ``types``: name -> IR type (``float``, ``int``, ``bool``, ``key``) of scalars;
    ``arrays``: array (or row view) name -> C element type. Names not found are taken to
    be doubles. :meth:`function` fills both from a parameter list and the body.
    """

    indent = "    "

    def __init__(self, types=None, arrays=None, ret="af_ret"):
        self.types = dict(types or {})
        self.arrays = dict(arrays or {})
        self.ret = ret
        self._tmp = 0

    # ------------------------------------------------------------------ types
    def type_of(self, node) -> str:
        """Inferred type of an expression: "float", "int", "bool" or "key"."""
        node = ir._node(node)
        if isinstance(node, ast.Constant):
            v = node.value
            return "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float"
        if isinstance(node, ast.Name):
            return self.types.get(node.id, "float")
        if isinstance(node, ast.Subscript):
            return IR_TYPE.get(self.arrays.get(node.value.id, "double"), "float")
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Div):
                return "float"
            power = expanded_power(node)
            if isinstance(node.op, ast.Pow) and power is None:
                return "float"
            if power is not None and power[1] == 0:
                return "float"
            a = self.type_of(node.left)
            b = self.type_of(node.right) if power is None else a
            if "float" in (a, b):
                return "float"
            return "key" if "key" in (a, b) else "int"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return "bool"
            t = self.type_of(node.operand)
            return "int" if t == "bool" else t
        if isinstance(node, ast.BoolOp | ast.Compare):
            return "bool"
        if isinstance(node, ast.IfExp):
            a, b = self.type_of(node.body), self.type_of(node.orelse)
            if a == b:
                return a
            return "float" if "float" in (a, b) else "int"
        if isinstance(node, ast.Call):
            name = node.func.id
            if name in _RESULT:
                return _RESULT[name]
            if name in _INT_FUNCTIONS and all(_num(self.type_of(a)) == "int" for a in node.args):
                return "int"
            return "float"
        raise TypeError(f"kernel IR: unsupported expression {ast.dump(node)}")

    # ------------------------------------------------------------ expressions
    def expr(self, node) -> str:
        return self._expr(ir._node(node))[0]

    def _wrap(self, node, need: int, strict=False) -> str:
        """``node`` as an operand that must bind at least as tightly as ``need``
        (``strict``: more tightly, for right operands of left-associative operators)."""
        text, prec = self._expr(node)
        if prec < need or (strict and prec <= need):
            return f"({text})"
        return text

    def _expr(self, n) -> tuple[str, int]:
        n = ir._node(n)  # statements may hold builders (neurons.py's RowView does)
        if isinstance(n, ast.Constant):
            return c_literal(n.value)
        if isinstance(n, ast.Name):
            return n.id, _PRIMARY
        if isinstance(n, ast.Subscript):
            return self._subscript(n, load=True)
        if isinstance(n, ast.BinOp):
            return self._binop(n)
        if isinstance(n, ast.UnaryOp):
            op = {ast.USub: "-", ast.UAdd: "+", ast.Not: "!"}[type(n.op)]
            text = self._wrap(n.operand, _UNARY)
            if text[0] in "+-":  # "- -a" must not become the decrement "--a"
                text = f"({text})"
            return f"{op}{text}", _UNARY
        if isinstance(n, ast.BoolOp):
            op, prec = ("&&", _AND) if isinstance(n.op, ast.And) else ("||", _OR)
            # an && inside || gets parentheses anyway (clearer, and no -Wparentheses)
            parts = [self._wrap(v, _AND + 1 if prec == _OR else prec) for v in n.values]
            return f" {op} ".join(parts), prec
        if isinstance(n, ast.Compare):
            if len(n.ops) != 1:
                raise ValueError("kernel IR: only single comparisons are allowed")
            op, prec = _CMPOPS[type(n.ops[0])]
            # an operand that is itself a comparison keeps its parentheses
            left, right = n.left, n.comparators[0]
            left = self._wrap(left, _PRIMARY if isinstance(left, ast.Compare) else prec)
            right = self._wrap(right, _PRIMARY if isinstance(right, ast.Compare) else prec, True)
            return f"{left} {op} {right}", prec
        if isinstance(n, ast.IfExp):
            cond = self._wrap(n.test, _OR)
            a, b = self._wrap(n.body, _OR), self._wrap(n.orelse, _COND)
            return f"({cond} ? {a} : {b})", _PRIMARY
        if isinstance(n, ast.Call):
            return self._call(n)
        raise TypeError(f"kernel IR: unsupported expression {ast.dump(n)}")

    def _subscript(self, n, load=False):
        array = n.value.id
        if isinstance(n.slice, ast.Tuple):
            i, j = n.slice.elts
            index = f"{self._wrap(i, _MUL)} * {array}_cols + {self._wrap(j, _ADD, strict=True)}"
        else:
            index = self._expr(n.slice)[0]
        text = f"{array}[{index}]"
        if load and self.arrays.get(array) == "int32_t":
            return f"(int64_t){text}", _UNARY
        return text, _PRIMARY

    def _binop(self, n):
        power = expanded_power(n)
        if power is not None:
            base, k = power
            if k == 0:
                return "1.0", _PRIMARY
            if k == 1:
                return self._expr(base)
            first, rest = self._wrap(base, _MUL), self._wrap(base, _MUL, strict=True)
            return " * ".join([first] + [rest] * (k - 1)), _MUL
        if isinstance(n.op, ast.Pow):
            return f"pow({self.expr(n.left)}, {self.expr(n.right)})", _PRIMARY
        if isinstance(n.op, ast.FloorDiv | ast.Mod):
            kind = "f64" if "float" in (self.type_of(n.left), self.type_of(n.right)) else "i64"
            name = "floordiv" if isinstance(n.op, ast.FloorDiv) else "mod"
            return f"af_{name}_{kind}({self.expr(n.left)}, {self.expr(n.right)})", _PRIMARY
        op, prec = _BINOPS[type(n.op)]
        left = self._wrap(n.left, prec)
        right = self._wrap(n.right, prec, strict=True)
        if isinstance(n.op, ast.Div) and all(
            _num(self.type_of(x)) == "int" for x in (n.left, n.right)
        ):  # Python's / of two ints is a float division
            left = f"(double){self._wrap(n.left, _UNARY)}"
            right = f"(double){self._wrap(n.right, _UNARY)}"
        return f"{left} {op} {right}", prec

    def _call(self, n):
        name = n.func.id
        arity = ir.FUNCTIONS.get(name, -1)
        if arity == -1 or (arity is not None and arity != len(n.args)):
            raise ValueError(f"kernel IR: unknown function or wrong arity: {name}")
        cname = C_FUNCTIONS[name]
        if name in _INT_FUNCTIONS and all(_num(self.type_of(a)) == "int" for a in n.args):
            cname = _INT_FUNCTIONS[name]
        return f"{cname}({', '.join(self.expr(a) for a in n.args)})", _PRIMARY

    def target(self, node) -> str:
        if isinstance(node, ast.Name):
            return node.id
        return self._subscript(node)[0]

    # ------------------------------------------------------------- statements
    def declarations(self, body, params=()) -> list[str]:
        """Declarations of every local of ``body`` (not in ``params``), and the types
        they give the printer: assigned names with their ``dtype``, loop variables
        (``int64_t``), row views (pointers of their array's element type)."""
        known = set(params)
        decls: dict[str, str] = {}

        def note(name, ctype):
            if name in known:
                return
            old = decls.setdefault(name, ctype)
            if old != ctype:
                raise TypeError(f"kernel IR: local {name!r} is both {old} and {ctype}")

        for s in ir.walk(body):
            if isinstance(s, ir.Assign) and isinstance(s.target, ast.Name):
                note(s.target.id, C_LOCAL[s.dtype])
            elif isinstance(s, ir.For | ir.ForFlagged):
                note(s.var, "int64_t")
            elif isinstance(s, ir.RowView):
                note(s.name, self.arrays.get(s.array, "double") + " *")
        for s in ir.walk(body):
            if isinstance(s, ir.AugAssign) and isinstance(s.target, ast.Name):
                if s.target.id not in decls and s.target.id not in known:
                    raise NameError(f"kernel IR: {s.target.id!r} is updated but never assigned")
        out = []
        for name, ctype in decls.items():
            if ctype.endswith("*"):
                self.arrays[name] = ctype[:-1].strip()
                out.append(f"{ctype}{name} = 0;")
            else:
                self.types[name] = IR_TYPE[ctype]
                out.append(f"{ctype} {name} = {'0.0' if ctype == 'double' else '0'};")
        return out

    def lines(self, body, level=0) -> list[str]:
        out = []
        pad = self.indent * level
        for s in body:
            if isinstance(s, ir.Comment):
                out.append(f"{pad}/* {s.text.replace('*/', '* /')} */")
            elif isinstance(s, ir.Assign):
                out.append(f"{pad}{self.target(s.target)} = {self.expr(s.value)};")
            elif isinstance(s, ir.AugAssign):
                out.append(f"{pad}{self.target(s.target)} {s.op}= {self.expr(s.value)};")
            elif isinstance(s, ir.For):
                out += self._for(s, level)
            elif isinstance(s, ir.While):
                out.append(f"{pad}while ({self.expr(s.cond)}) {{")
                out += self.lines(s.body, level + 1)
                out.append(f"{pad}}}")
            elif isinstance(s, ir.If):
                out.append(f"{pad}if ({self.expr(s.cond)}) {{")
                out += self.lines(s.body, level + 1)
                if s.orelse:
                    out.append(f"{pad}}} else {{")
                    out += self.lines(s.orelse, level + 1)
                out.append(f"{pad}}}")
            elif isinstance(s, ir.RowView):
                start = self._wrap(s.start, _ADD, strict=True)
                out.append(f"{pad}{s.name} = {s.array} + {start};  /* {self.expr(s.length)} */")
            elif isinstance(s, ir.ForFlagged):
                out += self._flagged(s, level)
            elif isinstance(s, ir.Return):
                values = [self.expr(v) for v in s.values]
                sets = " ".join(f"{self.ret}[{j}] = {v};" for j, v in enumerate(values))
                out.append(f"{pad}{{ {sets} return {self.ret}[0]; }}")
            else:  # pragma: no cover - the IR is closed
                raise TypeError(f"kernel IR: unknown statement {s!r}")
        return out

    def _for(self, s: ir.For, level):
        """``range(start, stop)`` evaluates ``stop`` once, as Python does."""
        pad = self.indent * level
        start, stop = self.expr(s.start), self.expr(s.stop)
        if isinstance(s.stop, ast.Name | ast.Constant):
            head = [f"{pad}for ({s.var} = {start}; {s.var} < {stop}; ++{s.var}) {{"]
            tail = [f"{pad}}}"]
            inner = level + 1
        else:
            self._tmp += 1
            end = f"af_stop{self._tmp}"
            head = [
                f"{pad}{{",
                f"{pad}{self.indent}const int64_t {end} = {stop};",
                f"{pad}{self.indent}for ({s.var} = {start}; {s.var} < {end}; ++{s.var}) {{",
            ]
            tail = [f"{pad}{self.indent}}}", f"{pad}}}"]
            inner = level + 2
        return head + self.lines(s.body, inner) + tail

    def _flagged(self, s: ir.ForFlagged, level):
        """A plain scan from ``start`` that stops once ``count`` flags were found."""
        pad = self.indent * level
        p1, p2 = self.indent * (level + 1), self.indent * (level + 2)
        done = f"{s.flags}_done"
        return [
            f"{pad}{{",
            f"{p1}int64_t {done} = 0;",
            f"{p1}for ({s.var} = {self.expr(s.start)}; {done} < {self.expr(s.count)}; "
            f"++{s.var}) {{",
            f"{p2}if ({s.flags}[{s.var}]) {{",
            f"{p2}{self.indent}{s.flags}[{s.var}] = 0;",
            f"{p2}{self.indent}{done} += 1;",
            *self.lines(s.body, level + 3),
            f"{p2}}}",
            f"{p1}}}",
            f"{pad}}}",
        ]

    def function(self, name, params, body, returns=None, qualifier="") -> str:
        """A C function ``int64_t name(params..., int64_t *af_ret)``.

        ``params``: ``(name, ctype)`` pairs; a ctype ending in ``*`` is an array (its
        element type is noted for inference). ``returns``: values written to ``af_ret``
        when the body falls through."""
        for pname, ctype in params:
            if ctype.endswith("*"):
                self.arrays[pname] = ctype[:-1].strip().removeprefix("const ").strip()
            else:
                self.types[pname] = IR_TYPE[ctype]
        full = list(body) + ([ir.Return(tuple(returns))] if returns is not None else [])
        decls = self.declarations(full, [p for p, _ in params])
        sig = ", ".join(f"{c} {p}" if not c.endswith("*") else f"{c}{p}" for p, c in params)
        sig = f"{sig}, int64_t *{self.ret}" if sig else f"int64_t *{self.ret}"
        head = f"{qualifier + ' ' if qualifier else ''}int64_t {name}({sig})"
        lines = [head, "{", *(self.indent + d for d in decls), *self.lines(full, 1)]
        if returns is None:
            lines.append(f"{self.indent}return 0;")
        return "\n".join([*lines, "}"])
