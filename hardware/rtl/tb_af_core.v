// Testbench of af_core (simulation only): runs STEPS time steps, feeding each step's
// input spikes from INPUTS (lines "step id", ascending), writes the spikes to SPIKES
// (lines "step id") and the final state memories to STATE_* ($writememh), and the
// saturation counts to SATS. Parameters mirror af_core's (set with iverilog -P).
`timescale 1ns / 1ps
`default_nettype none

module tb_af_core;
    parameter integer NI = 1, N = 1, NPC = 1, NSRC = 2, SW = 16, CW = 16, KW = 16, WB = 8;
    parameter integer F = 15, L = 16, TB = 8, DB = 4, PW = 15, SYN = 1, RW = 24, NEAREST = 1;
    parameter integer NR = 0, TRW = 8, NPOST = 1;
    parameter integer STEPS = 10;
    parameter INPUTS = "inputs.txt", SPIKES = "spikes.txt", SATS = "saturation.txt";

    reg clk = 0, rst = 1, in_we = 0, start = 0;
    reg [$clog2(NI + 1)-1:0] in_id = 0;
    wire busy, done, spk_valid;
    wire [$clog2(NPC + 1)-1:0] spk_id;
    wire [31:0] sat_v, sat_i;

    af_core #(.NI(NI), .N(N), .NPC(NPC), .NSRC(NSRC), .SW(SW), .CW(CW), .KW(KW), .WB(WB),
              .F(F), .L(L), .TB(TB), .DB(DB), .PW(PW), .SYN(SYN), .RW(RW), .NEAREST(NEAREST),
              .NR(NR), .TRW(TRW), .NPOST(NPOST))
        dut (.clk(clk), .rst(rst), .in_we(in_we), .in_id(in_id), .start(start), .busy(busy),
             .done(done), .spk_valid(spk_valid), .spk_id(spk_id), .sat_v(sat_v), .sat_i(sat_i));

    always #5 clk = ~clk;

    integer fin, fout, fsat, step, got, next_step, next_id, cycles;
    initial begin
        fin = $fopen(INPUTS, "r");
        fout = $fopen(SPIKES, "w");
        next_step = -1;
        got = $fscanf(fin, "%d %d\n", next_step, next_id);
        if (got != 2) next_step = -1;
        repeat (2) @(posedge clk);
        rst <= 0;
        cycles = 0;
        for (step = 0; step < STEPS; step = step + 1) begin
            while (next_step == step) begin
                @(posedge clk);
                in_we <= 1;
                in_id <= next_id;
                got = $fscanf(fin, "%d %d\n", next_step, next_id);
                if (got != 2) next_step = -1;
            end
            @(posedge clk);
            in_we <= 0;
            start <= 1;
            @(posedge clk);
            start <= 0;
            while (!done) begin
                @(posedge clk);
                cycles = cycles + 1;
                if (spk_valid) $fwrite(fout, "%0d %0d\n", step, spk_id);
            end
        end
        $fclose(fout);
        fsat = $fopen(SATS, "w");
        $fwrite(fsat, "%0d %0d %0d\n", sat_v, sat_i, cycles);
        $fclose(fsat);
        $writememh("state_v.mem", dut.m_v);
        $writememh("state_ie.mem", dut.m_ie);
        $writememh("state_ii.mem", dut.m_ii);
        $writememh("state_ref.mem", dut.m_ref);
        $writememh("state_syn.mem", dut.m_syn);
        $finish;
    end
endmodule

`default_nettype wire
