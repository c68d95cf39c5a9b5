// Testbench of af_uart_loader (simulation only): sends the bytes of stream.hex on the
// serial line (8N1, CLKS_PER_BIT clocks a bit), prints every memory write as
// "W <mem> <addr> <hex data>" and at the end "E <err> <err_info> <done>".
`timescale 1ns/1ps
module tb_af_uart_loader;
    parameter integer CLKS_PER_BIT = 4;
    parameter integer NBYTES = 1;
    parameter integer NPARAM = 1;
    parameter [24*NPARAM-1:0] EXPECT = 0;
    parameter integer NMEM = 1;
    parameter [8*NMEM-1:0] WIDTHS = 0;
    parameter [24*NMEM-1:0] DEPTHS = 0;
    parameter integer DW = 64;

    reg clk = 0, rst = 1, rx = 1;
    wire wr_en, done;
    wire [7:0] wr_mem, err_info;
    wire [23:0] wr_addr;
    wire [DW-1:0] wr_data;
    wire [3:0] err;
    reg [7:0] bytes [0:NBYTES-1];
    integer i, b;

    af_uart_loader #(.CLKS_PER_BIT(CLKS_PER_BIT), .NPARAM(NPARAM), .EXPECT(EXPECT),
                     .NMEM(NMEM), .WIDTHS(WIDTHS), .DEPTHS(DEPTHS), .DW(DW))
        dut (.clk(clk), .rst(rst), .rx(rx), .wr_en(wr_en), .wr_mem(wr_mem),
             .wr_addr(wr_addr), .wr_data(wr_data), .done(done), .err(err),
             .err_info(err_info));

    always #5 clk = ~clk;
    always @(posedge clk) if (wr_en) $display("W %0d %0d %0h", wr_mem, wr_addr, wr_data);

    task send(input [7:0] x);
        begin
            rx = 0;
            repeat (CLKS_PER_BIT) @(posedge clk);
            for (b = 0; b < 8; b = b + 1) begin
                rx = x[b];
                repeat (CLKS_PER_BIT) @(posedge clk);
            end
            rx = 1;
            repeat (CLKS_PER_BIT + 1) @(posedge clk);
        end
    endtask

    initial begin
        $readmemh("stream.hex", bytes);
        repeat (4) @(posedge clk);
        rst = 0;
        repeat (4) @(posedge clk);
        for (i = 0; i < NBYTES; i = i + 1) send(bytes[i]);
        repeat (4 * CLKS_PER_BIT) @(posedge clk);
        $display("E %0d %0d %0d", err, err_info, done);
        $finish;
    end
endmodule
