"""Continuous couplings: synapses whose per-synapse expression is summed into a target
variable every step (Brian2's ``(summed)`` variables), such as electrical synapses.

A coupling spec is data, like a neuron or plasticity spec. ``net.connect(pre, post,
rule, weight=g, synapse=GapJunction())`` makes a projection that delivers no spikes:
each step, before the targets are updated, it sets the target variable to the sum, over
the synapses onto each target, of the expression evaluated with the state at the end of
the previous step. The target variable must be a state variable of the post model
without an ODE (declared in its spec, e.g. ``"i_gap": (0.0, "A", "gap current")``, and
read by its equations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import SpecData, check_params


@dataclass(frozen=True)
class CouplingSpec(SpecData):
    """The structure of a coupling.

    Parameters
    ----------
    name : str
    parameters : dict
        ``name -> (default, unit, description[, range])``, shared by the projection.
    summed : dict
        Target variable of the post neuron -> expression per synapse, of the synapse's
        weight ``w``, the parameters, and ``<var>_pre`` / ``<var>_post`` for state
        variables of the pre and post neuron (e.g. ``"w*(v_pre - v_post)"``).
    weight_unit : str
        SI unit of ``w`` (for messages).
    source : str
        Paper and equations.
    """

    name: str
    parameters: dict = field(default_factory=dict)
    summed: dict = field(default_factory=dict)
    weight_unit: str = "S"
    source: str = ""


class CouplingModel:
    """A coupling spec plus parameter values: what ``Network.connect(synapse=...)``
    takes for a continuous coupling."""

    spec: CouplingSpec | None = None

    def __init__(self, strict_units=True, **params):
        spec = self.build_spec()
        self.spec = spec
        self.strict_units = strict_units
        self.params = check_params(spec, params, type(self).__name__, strict_units)

    def build_spec(self) -> CouplingSpec:
        return type(self).spec

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


class GapJunction(CouplingModel):
    r"""An electrical synapse: ``i_gap = sum_synapses w (v_pre - v_post)``, ``w`` the
    junction's conductance [S] (Brian2's gap-junction example; NEST's ``gap_junction``
    with ``weight`` the conductance). Connect both directions for a symmetric junction
    (e.g. ``rule=sim.OneToOne()`` both ways, or an ``Explicit`` rule listing both).

    ``target`` names the post model's variable that receives the current (default
    ``"i_gap"``) and ``variable`` the membrane potential read on both sides (``"v"``).
    Integrate-and-fire models have no spike for the junction to pass; with
    ``spike="s"`` (a state variable the model raises at a spike and lets decay) the
    coupled potential is ``v + height*s`` on both sides, the "spikelet" of Lewis & Rinzel
    (2003, J. Comput. Neurosci. 14:283), which is what lets such junctions synchronise.
    """

    def __init__(self, target="i_gap", variable="v", spike=None, height=50e-3):
        for what, name in (("target", target), ("variable", variable), ("spike", spike)):
            if name is not None and (not isinstance(name, str) or not name.isidentifier()):
                raise ValueError(f"GapJunction: {what}={name!r} must be a variable name")
        if spike is None:
            coupled = f"w*({variable}_pre - {variable}_post)"
        else:
            coupled = (
                f"w*({variable}_pre + height*{spike}_pre - {variable}_post - height*{spike}_post)"
            )
        self._spec = CouplingSpec(
            name="GapJunction",
            parameters={"height": (height, "V", "height of the spike the junction passes")}
            if spike is not None
            else {},
            summed={target: coupled},
            weight_unit="S",
            source="Gap junction current I = g (v_pre - v_post) (Brian2 examples; NEST "
            "gap_junction, Hahne et al. 2015, Front. Neuroinform. 9:22); spikelets: Lewis & "
            "Rinzel 2003",
        )
        super().__init__(**({"height": height} if spike is not None else {}))

    def build_spec(self) -> CouplingSpec:
        return self._spec


class IP3Diffusion(CouplingModel):
    r"""IP3 diffusion through gap junctions between astrocytes (Goldberg et al. 2010,
    PLoS Comput. Biol. 6:e1000909; as Stimberg et al. 2019 write it for Brian 2):

    .. math:: J_{coupling} = -\frac{F}{2}\left(1 + \tanh\frac{|\Delta I| - I_\Theta}
        {\omega_I}\right) \mathrm{sign}(\Delta I), \qquad \Delta I = I_{post} - I_{pre}

    summed over the junctions onto each astrocyte into its ``j_coupling`` [uM/s]; the
    weight is the permeability ``F`` [uM/s] (0.09 uM/s in Stimberg et al.). Connect
    both directions. Like every coupling it reads the state at the end of the previous
    step (one step of lag; the network runs in one-step chunks and MPI ranks exchange
    ``ip3`` every step), whatever the partition."""

    spec = CouplingSpec(
        name="IP3Diffusion",
        parameters={
            "i_theta": (0.3, "uM", "IP3 gradient threshold of the diffusion", (0.0, 1e3)),
            "omega_i": (0.05, "uM", "scale of the diffusion's switch", (1e-6, 1e3)),
        },
        summed={
            "j_coupling": "-w/2*(1 + tanh((abs(ip3_post - ip3_pre) - i_theta)/omega_i))"
            "*sign(ip3_post - ip3_pre)"
        },
        weight_unit="uM/s",
        source="Goldberg et al. 2010, PLoS Comput. Biol. 6:e1000909, eq. 6; Stimberg et al. "
        "2019 (Brian2 examples/frompapers/Stimberg_et_al_2018, examples 5-6)",
    )
