"""The statement form of kernel bodies: what lowering produces and printers consume.

A kernel body is a list of statements (the dataclasses below) whose expressions are
Python ``ast`` expression nodes restricted to a small, target-neutral subset:

* ``Name`` (a local, a loop variable or a kernel argument), ``Constant`` (int, float,
  bool), ``Subscript`` of a name by one index expression (a 1-D element) or by a tuple
  (a 2-D element);
* ``BinOp`` with ``+ - * / // % **`` (``//`` and ``%`` are *floored*, as in Python, in
  every language), ``UnaryOp`` (``-``, ``+``, ``not``), ``BoolOp`` (``and``, ``or``),
  single ``Compare`` (``< <= > >= == !=``) and ``IfExp`` (a ternary);
* ``Call`` of a function in :data:`FUNCTIONS` by name.

Model specs are parsed into the same nodes (:mod:`axonforge.spec`), so a spec's equations
enter a kernel by renaming their symbols (:func:`subst`), never as text. Lowering passes
build everything else with the small builder :class:`X` (``X.name("v")[i] + 1.0``).

Statements say *what* happens per element; loops over elements, the spike scan, thread
ranges and atomics are whatever the backend's printer makes of :class:`For`,
:class:`ForFlagged` and :class:`RowView`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: Functions an expression may call: name -> number of arguments (None: any >= 1).
#: ``min``/``max`` follow one NaN rule in every language: ``min(a, b)`` is
#: ``a if a < b else b`` (the second argument when either is NaN), likewise ``max``.
FUNCTIONS = {
    "exp": 1,
    "log": 1,
    "sqrt": 1,
    "abs": 1,
    "tanh": 1,
    "sin": 1,
    "cos": 1,
    "expm1": 1,
    "log1p": 1,
    "floor": 1,
    "ceil": 1,
    "min": 2,
    "max": 2,
    "isfinite": 1,  # True unless NaN or +-inf
    # counter-based random numbers (axonforge.rng): pure functions of their arguments
    "step_key": 3,  # (seed, stream, step) -> uint64 key
    "uniform": 2,  # (key, index) -> float in [0, 1)
    "normal": 2,  # (key, index) -> standard normal
    "poisson": 4,  # (key, index, lam, exp(-lam)) -> int count
}


# --------------------------------------------------------------------------- expressions
def _node(value) -> ast.expr:
    """An ``ast.expr`` for a builder, a node, a name-less number or a bool."""
    if isinstance(value, X):
        return value.node
    if isinstance(value, ast.expr):
        return value
    if isinstance(value, bool | int | float):
        return ast.Constant(value)
    raise TypeError(f"not an expression: {value!r}")


class X:
    """Builds expression nodes with Python operators: ``X.name("a")[i] * 2.0 + b``.

    Comparisons ``< <= > >=`` build nodes too; equality is :meth:`eq` / :meth:`ne`
    (``==`` stays Python's identity test so builders can live in sets and dicts).
    """

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = _node(node)

    @staticmethod
    def name(identifier: str) -> X:
        return X(ast.Name(identifier, ast.Load()))

    def __getitem__(self, index) -> X:
        if isinstance(index, tuple):
            index = ast.Tuple([_node(i) for i in index], ast.Load())
        return X(ast.Subscript(self.node, _node(index), ast.Load()))

    def _bin(self, op, other, reverse=False):
        a, b = (_node(other), self.node) if reverse else (self.node, _node(other))
        return X(ast.BinOp(a, op, b))

    def __add__(self, o):
        return self._bin(ast.Add(), o)

    def __radd__(self, o):
        return self._bin(ast.Add(), o, True)

    def __sub__(self, o):
        return self._bin(ast.Sub(), o)

    def __rsub__(self, o):
        return self._bin(ast.Sub(), o, True)

    def __mul__(self, o):
        return self._bin(ast.Mult(), o)

    def __rmul__(self, o):
        return self._bin(ast.Mult(), o, True)

    def __truediv__(self, o):
        return self._bin(ast.Div(), o)

    def __rtruediv__(self, o):
        return self._bin(ast.Div(), o, True)

    def __floordiv__(self, o):
        return self._bin(ast.FloorDiv(), o)

    def __mod__(self, o):
        return self._bin(ast.Mod(), o)

    def __pow__(self, o):
        return self._bin(ast.Pow(), o)

    def __neg__(self):
        return X(ast.UnaryOp(ast.USub(), self.node))

    def _cmp(self, op, other):
        return X(ast.Compare(self.node, [op], [_node(other)]))

    def __lt__(self, o):
        return self._cmp(ast.Lt(), o)

    def __le__(self, o):
        return self._cmp(ast.LtE(), o)

    def __gt__(self, o):
        return self._cmp(ast.Gt(), o)

    def __ge__(self, o):
        return self._cmp(ast.GtE(), o)

    def eq(self, o) -> X:
        return self._cmp(ast.Eq(), o)

    def ne(self, o) -> X:
        return self._cmp(ast.NotEq(), o)

    def __repr__(self):
        return f"X({ast.unparse(self.node)})"


def call(function: str, *args) -> X:
    """A call of one of :data:`FUNCTIONS`."""
    arity = FUNCTIONS.get(function, -1)
    if arity == -1 or (arity is not None and arity != len(args)):
        raise ValueError(f"kernel IR: unknown function or wrong arity: {function}{args}")
    return X(ast.Call(ast.Name(function, ast.Load()), [_node(a) for a in args], []))


def ternary(cond, if_true, if_false) -> X:
    return X(ast.IfExp(_node(cond), _node(if_true), _node(if_false)))


def and_(*terms) -> X:
    return X(ast.BoolOp(ast.And(), [_node(t) for t in terms]))


def or_(*terms) -> X:
    return X(ast.BoolOp(ast.Or(), [_node(t) for t in terms]))


def not_(term) -> X:
    return X(ast.UnaryOp(ast.Not(), _node(term)))


def subst(node: ast.expr, names: dict) -> ast.expr:
    """A copy of ``node`` with each ``Name`` in ``names`` replaced by the given expression
    (a builder, a node or a number): how spec equations become kernel expressions."""
    mapping = {k: _node(v) for k, v in names.items()}

    class _Sub(ast.NodeTransformer):
        def visit_Name(self, n):
            if n.id in mapping:
                return _copy(mapping[n.id])
            return ast.Name(n.id, ast.Load())

    return _Sub().visit(_copy(node))


def _copy(node):
    import copy

    return copy.deepcopy(node)


def names_in(node) -> set:
    """The identifiers an expression (or statement list) reads."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.add(sub.id)
    return out


# ---------------------------------------------------------------------------- statements
@dataclass
class Assign:
    """``target = value``; ``target`` a local name (declared on first assignment) or an
    array element. ``dtype`` ("float", "int", "bool", "key") declares a new local for
    typed languages; printers may ignore it."""

    target: ast.expr
    value: ast.expr
    dtype: str = "float"


@dataclass
class AugAssign:
    """``target op= value`` with ``op`` one of ``+ - * /``."""

    target: ast.expr
    op: str
    value: ast.expr


@dataclass
class For:
    """``for var in range(start, stop): body`` (``var`` an int local). ``index``: the
    loop runs over array elements (``0 <= start``), and ``var`` is used only to index
    arrays and as a value stored or passed on, never in arithmetic; a printer may then
    give it an unsigned type (Numba skips the negative-index check for unsigned
    indices, which lets LLVM vectorise the loop)."""

    var: str
    start: ast.expr
    stop: ast.expr
    body: list
    index: bool = False


@dataclass
class ForFlagged:
    """For each ``var >= start`` with ``flags[var]`` true, in ascending order: clear the
    flag and run ``body``. ``count`` (an int expression) is how many flags are set, so a
    printer may stop once all are found, and ``start`` is a multiple of 8, so it may scan
    eight flags at a time."""

    var: str
    flags: str
    start: ast.expr
    count: ast.expr
    body: list


@dataclass
class While:
    cond: ast.expr
    body: list


@dataclass
class If:
    cond: ast.expr
    body: list
    orelse: list = field(default_factory=list)


@dataclass
class RowView:
    """``name`` names elements ``start .. start + length`` of the 1-D array ``array``
    (a slice in Python, a pointer in C): rows of a flattened 2-D buffer."""

    name: str
    array: str
    start: ast.expr
    length: ast.expr


@dataclass
class Return:
    """Leave the kernel with a status tuple of ints."""

    values: tuple


@dataclass
class Comment:
    text: str


Statement = Assign | AugAssign | For | ForFlagged | While | If | RowView | Return | Comment


# ---------------------------------------------------------------- statement constructors
def assign(target, value, dtype="float") -> Assign:
    return Assign(_target(target), _node(value), dtype)


def aug(target, op: str, value) -> AugAssign:
    if op not in ("+", "-", "*", "/"):
        raise ValueError(f"kernel IR: unsupported augmented operator {op!r}")
    return AugAssign(_target(target), op, _node(value))


def loop(var: str, start, stop, body, index=False) -> For:
    return For(var, _node(start), _node(stop), list(body), index)


def when(cond, body, orelse=()) -> If:
    return If(_node(cond), list(body), list(orelse))


def _target(t) -> ast.expr:
    if isinstance(t, str):
        return ast.Name(t, ast.Store())
    node = _node(t)
    if not isinstance(node, ast.Name | ast.Subscript):
        raise TypeError(f"kernel IR: cannot assign to {ast.unparse(node)}")
    return node


def walk(body):
    """Every statement of ``body``, depth first."""
    for s in body:
        yield s
        for sub in ("body", "orelse"):
            yield from walk(getattr(s, sub, ()))
