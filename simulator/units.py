"""SI unit constants: quantities are plain floats in SI, and these names scale them.

``20*ms == 0.02``; ``250*pF == 2.5e-10``. There is no unit checking at run time (it
costs speed and complicates arrays); every parameter documents its unit instead.
"""

second = s = 1.0
ms = 1e-3
us = 1e-6
minute = 60.0

volt = V = 1.0
mV = 1e-3
uV = 1e-6

amp = A = 1.0
nA = 1e-9
pA = 1e-12

farad = F = 1.0
uF = 1e-6
nF = 1e-9
pF = 1e-12

siemens = S = 1.0
uS = 1e-6
nS = 1e-9

ohm = 1.0
Mohm = 1e6
Gohm = 1e9

Hz = 1.0
kHz = 1e3

__all__ = [n for n in dir() if not n.startswith("_")]
