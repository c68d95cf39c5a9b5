// af_uart_loader: the UART configuration loader of the axonforge core (af_core.v).
//
// Receives the packet stream of axonforge.hardware.rtl.uart_stream (8N1, LSB first,
// CLKS_PER_BIT clock cycles a bit) and turns it into memory writes (wr_en, wr_mem,
// wr_addr, wr_data), after checking it against the core it was built for.
//
// Packets (every multi-byte field big-endian; chk = XOR of cmd and every payload byte):
//   A5 'H' 'A' 'F' 01 P0[23:0] .. P{NPARAM-1}[23:0] chk   header: the core's parameters
//   A5 'W' mem[7:0] addr[23:0] count[23:0] word0 .. word{count-1} chk
//                                                         write count words of memory mem
//                                                         from addr; a word is ceil(width/8)
//                                                         bytes, two's complement
//   A5 'G' chk                                            done: the core may run
//
// Checks, each a sticky error code (err, with err_info) that stops the loader until reset:
//   1 a packet that does not start with A5 or has an unknown command (err_info: the byte)
//   2 a header whose parameters are not this core's (err_info: the first differing
//     parameter's index in rtl.UART_PARAMS; 255: magic or version)
//   3 a write before an accepted header
//   4 a memory id this core does not have (err_info: the id)
//   5 a write past the end of its memory (err_info: the memory id)
//   6 a checksum that does not match (err_info: the command)
//   7 a framing error (stop bit 0) on the serial line
// Errors 1-5 are found before any word of the packet is written. A checksum error is
// found after its words: the host resets the loader and resends; `done` is never set
// while err != 0. Synthesizable (no simulation-only constructs).
`default_nettype none

module af_uart_loader #(
    parameter integer CLKS_PER_BIT = 104,          // e.g. 12 MHz / 115200 baud
    parameter integer NPARAM = 1,                  // core parameters in the header
    parameter [24*NPARAM-1:0] EXPECT = 0,          // their values, P0 in the top bits
    parameter integer NMEM = 1,                    // memories
    parameter [8*NMEM-1:0] WIDTHS = 0,             // bits of a word, memory 0 in the top byte
    parameter [24*NMEM-1:0] DEPTHS = 0,            // words, memory 0 in the top bits
    parameter integer DW = 64                      // width of wr_data (>= every width)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          rx,
    output reg           wr_en,
    output reg  [7:0]    wr_mem,
    output reg  [23:0]   wr_addr,
    output reg  [DW-1:0] wr_data,
    output reg           done,
    output reg  [3:0]    err,
    output reg  [7:0]    err_info
);
    // ---------------------------------------------------------------- UART receiver
    reg [1:0]  rx_sync;
    reg [15:0] baud;
    reg [3:0]  bitn;
    reg [7:0]  shift;
    reg        busy;
    reg        byte_ok;        // one-cycle strobe: `byte_in` is a received byte
    reg [7:0]  byte_in;
    reg        frame_err;
    always @(posedge clk) begin
        rx_sync <= {rx_sync[0], rx};
        byte_ok <= 1'b0;
        frame_err <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
            rx_sync <= 2'b11;
        end else if (!busy) begin
            if (!rx_sync[1]) begin            // start bit: sample mid-bit from here on
                busy <= 1'b1;
                baud <= CLKS_PER_BIT / 2;
                bitn <= 0;
            end
        end else if (baud != 0) begin
            baud <= baud - 1;
        end else begin
            baud <= CLKS_PER_BIT - 1;
            bitn <= bitn + 1;
            if (bitn == 0) begin
                if (rx_sync[1]) busy <= 1'b0;  // a glitch, not a start bit
            end else if (bitn <= 8) begin
                shift <= {rx_sync[1], shift[7:1]};
            end else begin                    // stop bit
                busy <= 1'b0;
                if (rx_sync[1]) begin
                    byte_ok <= 1'b1;
                    byte_in <= shift;
                end else begin
                    frame_err <= 1'b1;
                end
            end
        end
    end

    // ---------------------------------------------------------------- packet parser
    localparam S_SYNC = 0, S_CMD = 1, S_HDR = 2, S_WHDR = 3, S_DATA = 4, S_CHK = 5, S_ERR = 6;
    localparam HDR_BYTES = 3 + 3 * NPARAM;
    reg [2:0]  state;
    reg [7:0]  cmd, chk;
    reg [15:0] idx;            // byte index within the packet's fixed fields
    reg        hdr_ok;         // a header with this core's parameters was accepted
    reg        hdr_bad;
    reg [7:0]  hdr_first;      // first differing parameter
    reg [7:0]  mem;
    reg [23:0] addr, count, depth;
    reg [7:0]  width, wbytes, nb;
    reg [DW-1:0] word;

    // the expected header byte i: 'A' 'F' 01, then the parameters, 3 bytes each
    function [7:0] hdr_byte(input [15:0] i);
        if (i == 0) hdr_byte = 8'h41;
        else if (i == 1) hdr_byte = 8'h46;
        else if (i == 2) hdr_byte = 8'h01;
        else hdr_byte = EXPECT[24*NPARAM - 8*(i - 3) - 1 -: 8];
    endfunction

    wire [7:0]  nx_chk = chk ^ byte_in;
    wire [DW-1:0] nx_word = {word[DW-9:0], byte_in};
    // a word's value cut to its memory's width (the stream carries whole bytes)
    wire [DW-1:0] width_mask = (width >= DW) ? {DW{1'b1}} : (({{(DW-1){1'b0}}, 1'b1} << width) - 1);

    task fail(input [3:0] code, input [7:0] info);
        begin
            err <= code;
            err_info <= info;
            state <= S_ERR;
            done <= 1'b0;
        end
    endtask

    always @(posedge clk) begin
        wr_en <= 1'b0;
        if (rst) begin
            state <= S_SYNC;
            hdr_ok <= 1'b0;
            done <= 1'b0;
            err <= 0;
            err_info <= 0;
        end else if (frame_err && state != S_ERR) begin
            fail(7, 0);
        end else if (byte_ok) begin
            case (state)
            S_SYNC: begin
                if (byte_in == 8'hA5) state <= S_CMD;
                else fail(1, byte_in);
            end
            S_CMD: begin
                cmd <= byte_in;
                chk <= byte_in;
                idx <= 0;
                hdr_bad <= 1'b0;
                if (byte_in == "H") state <= S_HDR;
                else if (byte_in == "W") state <= S_WHDR;
                else if (byte_in == "G") state <= S_CHK;
                else fail(1, byte_in);
            end
            S_HDR: begin
                chk <= nx_chk;
                idx <= idx + 1;
                if (byte_in != hdr_byte(idx) && !hdr_bad) begin
                    hdr_bad <= 1'b1;
                    hdr_first <= (idx < 3) ? 8'd255 : (idx - 3) / 3;
                end
                if (idx == HDR_BYTES - 1) state <= S_CHK;
            end
            S_WHDR: begin
                chk <= nx_chk;
                idx <= idx + 1;
                case (idx)
                    0: mem <= byte_in;
                    1: addr[23:16] <= byte_in;
                    2: addr[15:8] <= byte_in;
                    3: addr[7:0] <= byte_in;
                    4: count[23:16] <= byte_in;
                    5: count[15:8] <= byte_in;
                    default: count[7:0] <= byte_in;
                endcase
                if (idx == 0 && byte_in < NMEM) begin
                    width <= WIDTHS[8*NMEM - 8*byte_in - 1 -: 8];
                    wbytes <= (WIDTHS[8*NMEM - 8*byte_in - 1 -: 8] + 7) / 8;
                    depth <= DEPTHS[24*NMEM - 24*byte_in - 1 -: 24];
                end
                if (idx == 6) begin
                    // checks before any word is written
                    if (!hdr_ok) fail(3, 0);
                    else if (mem >= NMEM) fail(4, mem);
                    else if ({1'b0, addr} + {1'b0, count[23:8], byte_in} > {1'b0, depth})
                        fail(5, mem);
                    else begin
                        count <= {count[23:8], byte_in};
                        nb <= 0;
                        word <= 0;
                        state <= ({count[23:8], byte_in} == 0) ? S_CHK : S_DATA;
                    end
                end
            end
            S_DATA: begin
                chk <= nx_chk;
                if (nb == wbytes - 1) begin
                    wr_en <= 1'b1;
                    wr_mem <= mem;
                    wr_addr <= addr;
                    wr_data <= nx_word & width_mask;
                    addr <= addr + 1;
                    count <= count - 1;
                    nb <= 0;
                    word <= 0;
                    if (count == 1) state <= S_CHK;
                end else begin
                    nb <= nb + 1;
                    word <= nx_word;
                end
            end
            S_CHK: begin
                if (byte_in != chk) fail(6, cmd);
                else if (cmd == "H") begin
                    if (hdr_bad) fail(2, hdr_first);
                    else begin
                        hdr_ok <= 1'b1;
                        state <= S_SYNC;
                    end
                end else begin
                    if (cmd == "G") done <= 1'b1;
                    state <= S_SYNC;
                end
            end
            default: ;  // S_ERR: sticky until reset
            endcase
        end
    end
endmodule

`default_nettype wire
