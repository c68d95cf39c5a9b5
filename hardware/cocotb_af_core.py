"""cocotb test of ``af_core`` (run by :func:`axonforge.hardware.rtl.simulate_cocotb`): a
clock, a reset, then for each time step the step's input ids written on ``in_we``/
``in_id``, a ``start`` pulse, and every ``spk_valid`` pulse recorded until ``done``.
The input schedule comes from ``inputs.txt`` (lines "step id") and the number of steps
from ``AF_STEPS``; the spikes go to ``spikes.txt`` (lines "step id") in the working
folder, which holds the memories the core reads."""

import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge


@cocotb.test()
async def run_steps(dut):
    steps = int(os.environ["AF_STEPS"])
    schedule = {}
    with open("inputs.txt") as fh:
        for line in fh:
            if line.strip():
                s, i = (int(x) for x in line.split())
                schedule.setdefault(s, []).append(i)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_we.value = 0
    dut.cfg_we.value = 0  # no configuration writes: the memories are the .mem files
    dut.in_id.value = 0
    dut.start.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    spikes = []
    for step in range(steps):
        for i in schedule.get(step, ()):
            await RisingEdge(dut.clk)
            dut.in_we.value = 1
            dut.in_id.value = i
        await RisingEdge(dut.clk)
        dut.in_we.value = 0
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        while True:
            await RisingEdge(dut.clk)
            if int(dut.spk_valid.value):
                spikes.append((step, int(dut.spk_id.value)))
            if int(dut.done.value):
                break
    with open("spikes.txt", "w") as fh:
        fh.writelines(f"{s} {i}\n" for s, i in spikes)
