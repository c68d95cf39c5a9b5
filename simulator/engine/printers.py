"""Printers: kernel statements (:mod:`axonforge.engine.ir`) as source text of one language.

:class:`PythonPrinter` writes Python for Numba. The C printer (for the C and CUDA
targets) lives in :mod:`axonforge.engine.c_printer`; both follow the same rules, which is
what lets two targets agree bit for bit (docs: "Floating point"):

* ``x**n`` for a literal integer ``n`` in 0..4 is printed as repeated multiplication
  (``x*x*x``), left to right; any other power calls ``pow``, the C library's in both
  languages;
* ``//`` and ``%`` are floored (Python's meaning), for ints and floats;
* ``min(a, b)`` and ``max(a, b)`` return NaN when either argument is NaN (helpers
  ``nan_min``/``nan_max`` in :mod:`axonforge.engine.runtime`);
* float literals are printed with ``repr`` (shortest round-trip form), so both languages
  read the same double;
* no expression is reordered: printers keep the tree's evaluation order, and the
  floating-point flags of both targets forbid contraction and reassociation.
"""

from __future__ import annotations

import ast

from axonforge.engine import ir

#: IR function -> Python spelling in a Numba kernel
PY_FUNCTIONS = {
    "exp": "math.exp",
    "log": "math.log",
    "sqrt": "math.sqrt",
    "abs": "abs",
    "tanh": "math.tanh",
    "sin": "math.sin",
    "cos": "math.cos",
    "expm1": "math.expm1",
    "log1p": "math.log1p",
    "floor": "np.floor",  # a double, as in C (math.floor gives an int in Numba)
    "ceil": "np.ceil",
    "min": "nan_min",
    "max": "nan_max",
    "isfinite": "math.isfinite",
    "step_key": "step_key",
    "uniform": "uniform",
    "normal": "normal",
    "poisson": "poisson",
}

#: literal integer powers expanded into products (identically in every printer)
MAX_EXPANDED_POWER = 4


def expanded_power(node: ast.BinOp):
    """``(base, n)`` when ``node`` is ``base ** n`` with a literal int ``0 <= n <= 4``
    (also a float literal with an integral value), else ``None``."""
    if not isinstance(node.op, ast.Pow) or not isinstance(node.right, ast.Constant):
        return None
    value = node.right.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != int(value) or not 0 <= value <= MAX_EXPANDED_POWER:
        return None
    return node.left, int(value)


class _ToPython(ast.NodeTransformer):
    """Rewrites IR nodes into plain Python nodes that Numba compiles as intended."""

    def visit_Call(self, n):
        self.generic_visit(n)
        name = n.func.id
        if name not in PY_FUNCTIONS:
            raise ValueError(f"kernel IR: unknown function {name!r}")
        return ast.Call(ast.Name(PY_FUNCTIONS[name], ast.Load()), n.args, [])

    def visit_BinOp(self, n):
        self.generic_visit(n)
        power = expanded_power(n)
        if power is not None:
            base, k = power
            if k == 0:
                return ast.Constant(1.0)
            out = base
            for _ in range(k - 1):
                out = ast.BinOp(out, ast.Mult(), base)
            return out
        if isinstance(n.op, ast.Pow):
            # a float exponent: with an int one Numba multiplies by repeated squaring
            # instead of calling the C library's pow, as C does
            right = n.right
            if isinstance(right, ast.Constant) and type(right.value) is int:
                right = ast.Constant(float(right.value))
            return ast.Call(ast.Name("math.pow", ast.Load()), [n.left, right], [])
        return n


class PythonPrinter:
    """Prints IR statements as the body of a Numba function (4 spaces per level)."""

    indent = "    "

    def expr(self, node) -> str:
        node = ir._node(node)
        return ast.unparse(_ToPython().visit(ir._copy(node)))

    def target(self, node) -> str:
        return self.expr(ast.Name(node.id, ast.Load()) if isinstance(node, ast.Name) else node)

    def lines(self, body, level=0) -> list[str]:
        out = []
        pad = self.indent * level
        for s in body:
            if isinstance(s, ir.Comment):
                out.append(f"{pad}# {s.text}")
            elif isinstance(s, ir.Assign):
                out.append(f"{pad}{self.target(s.target)} = {self.expr(s.value)}")
            elif isinstance(s, ir.AugAssign):
                out.append(f"{pad}{self.target(s.target)} {s.op}= {self.expr(s.value)}")
            elif isinstance(s, ir.For):
                start, stop = self.expr(s.start), self.expr(s.stop)
                if s.index:
                    start, stop = f"np.uint64({start})", f"np.uint64({stop})"
                rng = f"range({stop})" if start == "0" else f"range({start}, {stop})"
                out.append(f"{pad}for {s.var} in {rng}:")
                out += self._block(s.body, level + 1)
            elif isinstance(s, ir.While):
                out.append(f"{pad}while {self.expr(s.cond)}:")
                out += self._block(s.body, level + 1)
            elif isinstance(s, ir.If):
                out.append(f"{pad}if {self.expr(s.cond)}:")
                out += self._block(s.body, level + 1)
                if s.orelse:
                    out.append(f"{pad}else:")
                    out += self._block(s.orelse, level + 1)
            elif isinstance(s, ir.RowView):
                start, length = self.expr(s.start), self.expr(s.length)
                out.append(f"{pad}{s.name} = {s.array}[{start}:{start} + {length}]")
            elif isinstance(s, ir.ForFlagged):
                out += self._flagged(s, level)
            elif isinstance(s, ir.Return):
                out.append(f"{pad}return {', '.join(self.expr(v) for v in s.values)}")
            else:  # pragma: no cover - the IR is closed
                raise TypeError(f"kernel IR: unknown statement {s!r}")
        return out

    def _block(self, body, level):
        return self.lines(body, level) or [self.indent * level + "pass"]

    def _flagged(self, s: ir.ForFlagged, level):
        """Visit set flags eight at a time through a uint64 view of the (padded) flag
        array, and stop once ``count`` are found: cost grows with spikes, not neurons."""
        pad = self.indent * level
        p1, p2, p3 = (self.indent * (level + d) for d in (1, 2, 3))
        words, done, blk = f"{s.flags}_w8", f"{s.flags}_done", f"{s.flags}_blk"
        body = self.lines(s.body, level + 4)
        return [
            f"{pad}{words} = {s.flags}.view(np.uint64)",
            f"{pad}{done} = 0",
            f"{pad}{blk} = ({self.expr(s.start)}) // 8",
            f"{pad}while {done} < {self.expr(s.count)}:",
            f"{p1}if {words}[{blk}] != 0:",
            f"{p2}for {s.var} in range(8*{blk}, 8*{blk} + 8):",
            f"{p3}if {s.flags}[{s.var}]:",
            f"{p3}{self.indent}{s.flags}[{s.var}] = False",
            f"{p3}{self.indent}{done} += 1",
            *body,
            f"{p1}{blk} += 1",
        ]
