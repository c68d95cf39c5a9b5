"""SI unit constants: quantities are plain floats in SI, and these names scale them.

``20*ms == 0.02``; ``250*pF == 2.5e-10``. There are no unit objects (they would cost
speed and complicate arrays). Instead every model parameter declares its unit and a
plausible range (``axonforge.models.ranges``), and a value far outside it, such as
``tau_m=20`` meant as milliseconds, fails at once with the likely slip (``20*ms``).
Concentrations (astrocyte models) are in micromolar: ``uM == 1.0``.
"""

second = s = 1.0
ms = 1e-3
us = 1e-6
minute = 60.0

volt = V = 1.0
mV = 1e-3
uV = 1e-6

amp = A = 1.0
mA = 1e-3
uA = 1e-6
nA = 1e-9
pA = 1e-12
fA = 1e-15

farad = F = 1.0
uF = 1e-6
nF = 1e-9
pF = 1e-12
fF = 1e-15

siemens = S = 1.0
mS = 1e-3
uS = 1e-6
nS = 1e-9
pS = 1e-12
fS = 1e-15

ohm = 1.0
Mohm = 1e6
Gohm = 1e9

Hz = 1.0
kHz = 1e3

uM = 1.0  # concentrations are in micromolar
nM = 1e-3
mM = 1e3

__all__ = [n for n in dir() if not n.startswith("_")]
