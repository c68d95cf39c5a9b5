// Testbench of af_core (simulation only): runs STEPS time steps, feeding each step's
// input spikes from INPUTS (lines "step id", ascending), writes the spikes to SPIKES
// (lines "step id") and the final state memories to STATE_* ($writememh), and the
// saturation counts to SATS. Parameters mirror af_core's (set with iverilog -P).
// UART = 1: the memories the core starts from are blank, and the testbench first sends
// the configuration stream (stream.hex, NBYTES bytes) to af_uart_loader on its serial
// line, which writes them; a loader error ends the run with "uart_error.txt".
`timescale 1ns / 1ps
`default_nettype none

module tb_af_core;
    parameter integer NI = 1, N = 1, NPC = 1, NSRC = 2, SW = 16, CW = 16, KW = 16, WB = 8;
    parameter integer F = 15, L = 16, TB = 8, DB = 4, PW = 15, SYN = 1, RW = 24, NEAREST = 1;
    parameter integer NR = 0, TRW = 8, NPOST = 1, SPRAM = 0;
    parameter integer STEPS = 10;
    parameter INPUTS = "inputs.txt", SPIKES = "spikes.txt", SATS = "saturation.txt";
    parameter integer UART = 0, CLKS_PER_BIT = 4, NBYTES = 1, NPARAM = 1, NMEM = 1, DW = 64;
    parameter [24*NPARAM-1:0] EXPECT = 0;
    parameter [8*NMEM-1:0] WIDTHS = 0;
    parameter [24*NMEM-1:0] DEPTHS = 0;

    reg clk = 0, rst = 1, in_we = 0, start = 0;
    reg [$clog2(NI + 1)-1:0] in_id = 0;
    wire busy, done, spk_valid;
    wire [$clog2(NPC + 1)-1:0] spk_id;
    wire [31:0] sat_v, sat_i;

    af_core #(.NI(NI), .N(N), .NPC(NPC), .NSRC(NSRC), .SW(SW), .CW(CW), .KW(KW), .WB(WB),
              .F(F), .L(L), .TB(TB), .DB(DB), .PW(PW), .SYN(SYN), .RW(RW), .NEAREST(NEAREST),
              .NR(NR), .TRW(TRW), .NPOST(NPOST), .SPRAM(SPRAM))
        dut (.clk(clk), .rst(rst), .in_we(in_we), .in_id(in_id), .start(start), .busy(busy),
             .done(done), .spk_valid(spk_valid), .spk_id(spk_id), .sat_v(sat_v), .sat_i(sat_i),
             .cfg_we(cfg_we), .cfg_mem(cfg_mem), .cfg_addr(cfg_addr), .cfg_data(cfg_data));

    // the configuration loader (UART = 1)
    reg rx = 1;
    wire cfg_we_l, cfg_done;
    wire [7:0] cfg_mem, cfg_info;
    wire [23:0] cfg_addr;
    wire [DW-1:0] cfg_data_l;
    wire [3:0] cfg_err;
    wire cfg_we = UART != 0 && cfg_we_l;
    wire [63:0] cfg_data = cfg_data_l;
    af_uart_loader #(.CLKS_PER_BIT(CLKS_PER_BIT), .NPARAM(NPARAM), .EXPECT(EXPECT),
                     .NMEM(NMEM), .WIDTHS(WIDTHS), .DEPTHS(DEPTHS), .DW(DW))
        loader (.clk(clk), .rst(rst), .rx(rx), .wr_en(cfg_we_l), .wr_mem(cfg_mem),
                .wr_addr(cfg_addr), .wr_data(cfg_data_l), .done(cfg_done), .err(cfg_err),
                .err_info(cfg_info));
    reg [7:0] stream [0:NBYTES-1];
    integer nb, bit_i, ferr;
    task send(input [7:0] x);
        begin
            rx <= 0;
            repeat (CLKS_PER_BIT) @(posedge clk);
            for (bit_i = 0; bit_i < 8; bit_i = bit_i + 1) begin
                rx <= x[bit_i];
                repeat (CLKS_PER_BIT) @(posedge clk);
            end
            rx <= 1;
            repeat (CLKS_PER_BIT + 1) @(posedge clk);
        end
    endtask

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
        if (UART != 0) begin
            $readmemh("stream.hex", stream);
            repeat (2) @(posedge clk);
            for (nb = 0; nb < NBYTES; nb = nb + 1) send(stream[nb]);
            repeat (4 * CLKS_PER_BIT) @(posedge clk);
            if (!cfg_done || cfg_err != 0) begin
                ferr = $fopen("uart_error.txt", "w");
                $fwrite(ferr, "%0d %0d %0d\n", cfg_err, cfg_info, cfg_done);
                $fclose(ferr);
                $finish;
            end
        end
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
