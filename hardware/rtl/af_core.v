// axonforge generic neuromorphic core: time-multiplexed LIF neurons (current-based
// exponential synapses, or delta synapses), integer arithmetic exactly as the
// bit-accurate emulator (axonforge.hardware.emulator) computes it for target model
// "lif" with multiplier decay; memories in the layout of
// axonforge.hardware.mapping.CoreConfig.memories(), initialised from its .mem files.
//
// One time step, started by a pulse on `start` once the step's input spikes have been
// written with `in_we`/`in_id` (ascending, no repeats):
//   UPDATE  neurons 0..N-1 in order, one a clock cycle through a four-stage pipeline
//           (read the neuron's parameters, state and this step's two ring-buffer
//           entries; multiply; add and round; clamp, threshold and write back, clearing
//           the ring entries): N + 4 cycles. A neuron that fires is reported on
//           `spk_valid`/`spk_id` and appended to the step's spike list.
//   DELIVER the step's inputs (as written), then its spikes (ascending): for each
//           synapse of the source's row (row_ptr), add `w << shift` to the ring entry
//           of slot (step + delay) mod L of its port and target: static synapses are
//           streamed one a cycle (a row of n takes n + 3 cycles), plastic ones take four
//           cycles each (six with their depression).
//   With STDP (NR > 0 rules, the emulator's integer pair rule):
//   DECAY   every pre and post trace: x <- rshift(x * decay, F);
//           (then DELIVER depresses each plastic synapse before adding it:
//           w <- clip(w + rshift(A_minus * x_post[target], k)), and bumps the source's
//           pre trace of every rule after its row)
//   POST    for each spike (ascending): bump its post trace of every rule, then
//           potentiate its incoming plastic synapses (post_ptr/post_syn/post_src):
//           w <- clip(w + rshift(A_plus * x_pre[source], k)).
// `done` pulses when the step is over. No simulation-only construct is used outside
// the initial blocks that load the memories ($readmemh: synthesis reads them too).
//
// Configuration (CFG = 1): while the core is idle, `cfg_we` writes `cfg_data` at `cfg_addr` of
// memory `cfg_mem` (the write bus of af_uart_loader.v). Memory ids are the positions in
// axonforge.hardware.rtl.core_memories (rtl.CORE_MEMORY_IDS): the neuron memories 0-19
// (the Izhikevich ones and u_init are not this core's: ignored), row_ptr 20, synapses
// 21, then with STDP syn_rule 22, post_ptr 23, post_syn 24, post_src 25, stdp_rules 27;
// routing (one core) is ignored. The *_init memories set the state.
`default_nettype none

module af_core #(
    parameter integer NI = 1,        // input sources
    parameter integer N = 1,         // neurons of this core in use
    parameter integer NPC = 1,       // neuron slots (depth of the neuron memories)
    parameter integer NSRC = 2,      // sources (inputs, then every neuron): row_ptr has NSRC+1 words
    parameter integer SW = 16,       // membrane state bits
    parameter integer CW = 16,       // synaptic current bits
    parameter integer KW = 16,       // coefficient bits (decays, propagators)
    parameter integer WB = 8,        // weight bits
    parameter integer F = 15,        // fraction bits of the coefficients
    parameter integer L = 16,        // ring-buffer slots
    parameter integer TB = 8,        // target field bits
    parameter integer DB = 4,        // delay field bits
    parameter integer PW = 15,       // row pointer bits
    parameter integer SYN = 1,       // synapse words
    parameter integer RW = 24,       // ring entry bits (holds a step's worst-case sum)
    parameter integer NEAREST = 1,   // 1: round half away from zero; 0: floor
    parameter integer NR = 0,        // STDP rules (0: static synapses only)
    parameter integer TRW = 8,       // trace bits
    parameter integer NPOST = 1,     // entries of post_syn / post_src
    parameter integer SPRAM = 0,     // 1: synapses and ring buffers in single-ported
                                     // memories (the UP5K's SPRAM): a neuron and a
                                     // synapse every two cycles
    parameter integer CFG = 1,       // 1: the configuration port writes the memories (the
                                     // parameter memories become RAM: ~12 more block RAMs
                                     // at 64 neurons); 0: no port, they stay ROM/logic
    parameter MEM_KIND = "core0_kind.mem",
    parameter MEM_A_M = "core0_a_m.mem",
    parameter MEM_A_E = "core0_a_e.mem",
    parameter MEM_A_I = "core0_a_i.mem",
    parameter MEM_P_E = "core0_p_e.mem",
    parameter MEM_P_I = "core0_p_i.mem",
    parameter MEM_BIAS = "core0_bias.mem",
    parameter MEM_THETA = "core0_theta.mem",
    parameter MEM_V_RESET = "core0_v_reset.mem",
    parameter MEM_REFSTEPS = "core0_refsteps.mem",
    parameter MEM_V_INIT = "core0_v_init.mem",
    parameter MEM_IE_INIT = "core0_ie_init.mem",
    parameter MEM_II_INIT = "core0_ii_init.mem",
    parameter MEM_REF_INIT = "core0_ref_init.mem",
    parameter MEM_ROW_PTR = "core0_row_ptr.mem",
    parameter MEM_SYNAPSES = "core0_synapses.mem",
    parameter MEM_SYN_RULE = "core0_syn_rule.mem",
    parameter MEM_POST_PTR = "core0_post_ptr.mem",
    parameter MEM_POST_SYN = "core0_post_syn.mem",
    parameter MEM_POST_SRC = "core0_post_src.mem",
    parameter MEM_RULES = "stdp_rules.mem"
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        in_we,     // append an input spike to this step's list
    input  wire [$clog2(NI + 1)-1:0]   in_id,
    input  wire                        start,     // run one time step
    output reg                         busy,
    output reg                         done,      // one-cycle pulse at the end of a step
    output reg                         spk_valid, // one-cycle pulse per spike, in id order
    output reg  [$clog2(NPC + 1)-1:0]  spk_id,
    output reg  [31:0]                 sat_v,     // saturation events, as the emulator counts
    output reg  [31:0]                 sat_i,
    input  wire                        cfg_we,    // configuration write (idle only)
    input  wire [7:0]                  cfg_mem,
    input  wire [23:0]                 cfg_addr,
    input  wire [63:0]                 cfg_data
);
    localparam integer BW = SW + F + 1;                        // bias width
    localparam integer M = (SW > CW ? SW : CW);
    localparam integer ACC = (KW + M > BW ? KW + M : BW) + 3;  // exact sums: no overflow
    localparam integer SYNW = TB + 1 + DB + 4 + WB;
    localparam integer IDW = $clog2(NSRC + 1);
    localparam integer NW = $clog2(NPC + 1);
    localparam integer LW = $clog2(L + 1);

    // ------------------------------------------------------------------ memories
    reg        [1:0]    m_kind     [0:NPC-1];
    reg signed [KW-1:0] m_a_m      [0:NPC-1];
    reg signed [KW-1:0] m_a_e      [0:NPC-1];
    reg signed [KW-1:0] m_a_i      [0:NPC-1];
    reg signed [KW-1:0] m_p_e      [0:NPC-1];
    reg signed [KW-1:0] m_p_i      [0:NPC-1];
    reg signed [BW-1:0] m_bias     [0:NPC-1];
    reg signed [SW-1:0] m_theta    [0:NPC-1];
    reg signed [SW-1:0] m_v_reset  [0:NPC-1];
    reg        [7:0]    m_refsteps [0:NPC-1];
    reg signed [SW-1:0] m_v        [0:NPC-1];
    reg signed [CW-1:0] m_ie       [0:NPC-1];
    reg signed [CW-1:0] m_ii       [0:NPC-1];
    reg        [7:0]    m_ref      [0:NPC-1];
    reg        [PW-1:0] m_row_ptr  [0:NSRC];
    reg        [SYNW-1:0] m_syn    [0:SYN-1];
    reg signed [RW-1:0] m_ring_e   [0:L*NPC-1];
    reg signed [RW-1:0] m_ring_i   [0:L*NPC-1];
    localparam integer NRM = (NR > 0 ? NR : 1);
    localparam integer RB = $clog2(NR + 2);
    reg        [RB-1:0]  m_syn_rule [0:SYN-1];          // rule + 1 of each synapse (0 static)
    reg        [PW-1:0]  m_post_ptr [0:NPC];
    reg        [PW-1:0]  m_post_syn [0:NPOST-1];
    reg        [IDW-1:0] m_post_src [0:NPOST-1];
    reg signed [31:0]    m_rules    [0:10*NRM-1];       // decay_pre, decay_post, A_plus,
                                                        // A_minus, w_min, w_max, k, one,
                                                        // trace_max, nearest (per rule)
    reg        [TRW-1:0] m_xpre     [0:NRM*NSRC-1];
    reg        [TRW-1:0] m_xpost    [0:NRM*NPC-1];
    reg        [IDW-1:0] m_inputs  [0:NI];      // this step's input spikes
    reg        [NW-1:0]  m_fired   [0:NPC];     // this step's spikes

    integer k;
    initial begin
        $readmemh(MEM_KIND, m_kind);
        $readmemh(MEM_A_M, m_a_m);
        $readmemh(MEM_A_E, m_a_e);
        $readmemh(MEM_A_I, m_a_i);
        $readmemh(MEM_P_E, m_p_e);
        $readmemh(MEM_P_I, m_p_i);
        $readmemh(MEM_BIAS, m_bias);
        $readmemh(MEM_THETA, m_theta);
        $readmemh(MEM_V_RESET, m_v_reset);
        $readmemh(MEM_REFSTEPS, m_refsteps);
        $readmemh(MEM_V_INIT, m_v);
        $readmemh(MEM_IE_INIT, m_ie);
        $readmemh(MEM_II_INIT, m_ii);
        $readmemh(MEM_REF_INIT, m_ref);
        $readmemh(MEM_ROW_PTR, m_row_ptr);
        // SPRAM has no initial content: there the synapses come from the configuration
        // port and the rings are cleared after reset (state CLR)
        if (SPRAM == 0) begin
            $readmemh(MEM_SYNAPSES, m_syn);
            for (k = 0; k < L * NPC; k = k + 1) begin
                m_ring_e[k] = 0;
                m_ring_i[k] = 0;
            end
        end
        for (k = 0; k < NRM * NSRC; k = k + 1) m_xpre[k] = 0;
        for (k = 0; k < NRM * NPC; k = k + 1) m_xpost[k] = 0;
        for (k = 0; k < SYN; k = k + 1) m_syn_rule[k] = 0;
        if (NR > 0) begin
            $readmemh(MEM_SYN_RULE, m_syn_rule);
            $readmemh(MEM_POST_PTR, m_post_ptr);
            $readmemh(MEM_POST_SYN, m_post_syn);
            $readmemh(MEM_POST_SRC, m_post_src);
            $readmemh(MEM_RULES, m_rules);
        end
    end

    // ------------------------------------------------------------------ arithmetic
    // x / 2**F rounded as the emulator's rshift: half away from zero, or floor
    function automatic signed [ACC-1:0] rshift(input signed [ACC-1:0] x);
        reg signed [ACC-1:0] half;
        begin
            half = 1;
            half = half <<< (F - 1);
            if (NEAREST != 0)
                rshift = (x + half - (x < 0 ? 1 : 0)) >>> F;
            else
                rshift = x >>> F;
        end
    endfunction

    // x / 2**k rounded the same way, for a shift k read from a rule (k <= 0: x)
    function automatic signed [63:0] rshift_k(input signed [63:0] x, input signed [31:0] k);
        reg signed [63:0] half;
        begin
            if (k <= 0) begin
                rshift_k = x;
            end else begin
                half = 64'sd1 <<< (k - 1);
                if (NEAREST != 0)
                    rshift_k = (x + half - (x < 0 ? 64'sd1 : 64'sd0)) >>> k;
                else
                    rshift_k = x >>> k;
            end
        end
    endfunction

    localparam signed [ACC-1:0] VHI = (1 <<< (SW - 1)) - 1;
    localparam signed [ACC-1:0] VLO = -(1 <<< (SW - 1));
    localparam signed [ACC-1:0] IHI = (1 <<< (CW - 1)) - 1;
    localparam signed [ACC-1:0] ILO = -(1 <<< (CW - 1));

    // ------------------------------------------------------------------ control
    localparam [5:0] IDLE = 6'd0, U_READ = 6'd1, U_WRITE = 6'd2, D_SRC = 6'd3,
                     D_SRC2 = 6'd4, D_PTR0 = 6'd5, D_PTR1 = 6'd6, D_PTR2 = 6'd7,
                     D_SYN = 6'd8, D_LOAD = 6'd9, D_XPOST = 6'd10, D_DEP = 6'd11,
                     D_RING = 6'd12, D_ADD = 6'd13, B_READ = 6'd14, B_WRITE = 6'd15,
                     T_READ = 6'd16, T_WRITE = 6'd17, P_NEXT = 6'd18, P_NEXT2 = 6'd19,
                     P_READ = 6'd20, P_WRITE = 6'd21, P_PTR0 = 6'd22, P_PTR1 = 6'd23,
                     P_PTR2 = 6'd24, P_ENTRY = 6'd25, P_SYN = 6'd26, P_LOAD = 6'd27,
                     P_TR = 6'd28, P_POT = 6'd29, FINISH = 6'd30, D_STREAM = 6'd31,
                     CLR = 6'd32;
    reg [5:0]     state;
    reg [NW-1:0]  i;           // neuron being updated
    reg [LW-1:0]  slot;        // this step's ring slot, step mod L
    reg [IDW-1:0] n_in, n_fired, pos;
    reg           on_inputs;
    reg [IDW-1:0] src;
    reg [PW-1:0]  q, q_end, r_q;
    // STDP bookkeeping: the rule, trace index and post neuron being worked on
    reg [RB-1:0]  rule, r_rule;
    reg           t_post;            // DECAY: 0 pre traces, 1 post traces
    reg [IDW-1:0] t_j;               // DECAY: element
    reg [NW-1:0]  p_i;               // POST: the spiking neuron
    reg [PW-1:0]  z, z_end;
    reg [IDW-1:0] p_src;

    // registered reads of the neuron being updated (one read port each)
    reg        [1:0]    r_kind;
    reg signed [KW-1:0] r_a_m, r_a_e, r_a_i, r_p_e, r_p_i;
    reg signed [BW-1:0] r_bias;
    reg signed [SW-1:0] r_theta, r_v_reset, r_v;
    reg        [7:0]    r_refsteps, r_ref;
    reg signed [CW-1:0] r_ie, r_ii;

    // Every memory below has ONE read port (an address chosen by the state, data one
    // cycle later) and ONE write port, never both in one cycle: block RAM or SPRAM.
    reg [SYNW-1:0]  r_syn;
    wire [TB-1:0]   s_tgt = r_syn[TB-1:0];
    wire            s_port = r_syn[TB];
    wire [DB-1:0]   s_delay = r_syn[TB+DB:TB+1];
    wire [3:0]      s_shift = r_syn[TB+DB+4:TB+DB+1];
    wire signed [WB-1:0] s_w = r_syn[SYNW-1:TB+DB+5];
    wire signed [RW-1:0] s_add = $signed(s_w) <<< s_shift;
    wire [LW:0]     s_slot_sum = slot + s_delay;
    wire [LW-1:0]   s_slot = s_slot_sum >= L ? s_slot_sum - L : s_slot_sum;
    localparam integer RA = $clog2(L * NPC + 1);

    reg  [SYNW-1:0] syn_rd;      // synapse memory's read data (its port is below)
    reg  signed [RW-1:0] ring_e_rd, ring_i_rd;   // ring buffers' read data

    // Static delivery (NR = 0) streams a row, one synapse a cycle (D_STREAM): stage A
    // reads synapse q; stage B (b_valid) has its word and reads its ring entry; stage C
    // (c_valid) writes the entry plus the weight. A synapse's read and the previous
    // synapse's write meet at one clock edge: where they name the same entry, stage C
    // adds to the value just written (forwarded), not to the stale read.
    reg             b_valid, c_valid, p_valid;
    wire [TB-1:0]   b_tgt = syn_rd[TB-1:0];
    wire            b_port = syn_rd[TB];
    wire [DB-1:0]   b_delay = syn_rd[TB+DB:TB+1];
    wire [3:0]      b_shift = syn_rd[TB+DB+4:TB+DB+1];
    wire signed [WB-1:0] b_w = syn_rd[SYNW-1:TB+DB+5];
    wire [LW:0]     b_slot_sum = slot + b_delay;
    wire [LW-1:0]   b_slot = b_slot_sum >= L ? b_slot_sum - L : b_slot_sum;
    reg  [RA-1:0]   c_addr, p_addr;
    reg             c_port, p_port;
    reg  signed [RW-1:0] c_add, p_val;
    wire signed [RW-1:0] c_base = (p_valid && p_addr == c_addr && p_port == c_port) ? p_val
                                : (c_port ? ring_i_rd : ring_e_rd);
    wire signed [RW-1:0] c_val = c_base + c_add;

    // ring buffers: read in U_READ (this slot) and D_RING; written in the update's last
    // stage (clear) and D_ADD
    reg  [RA-1:0] ring_ra;
    always @(*) begin
        if (state == U_READ) ring_ra = slot * NPC + i;
        else if (b_valid) ring_ra = b_slot * NPC + b_tgt;   // D_STREAM, stage B
        else ring_ra = s_slot * NPC + s_tgt;
    end
    // (U_READ is the update's state: its pipeline issues neuron i every cycle)
    // synapses and their rules: read in D_SYN (row order) and P_SYN (a post_syn entry)
    reg  [PW-1:0]   syn_ra;
    reg  [RB-1:0]   rule_rd;
    always @(posedge clk) begin
        rule_rd <= m_syn_rule[syn_ra];
    end
    // row pointers: src then src + 1
    reg  [IDW-1:0] ptr_ra;
    reg  [PW-1:0]  ptr_rd;
    always @(*) ptr_ra = (state == D_PTR0) ? src : src + 1'b1;
    always @(posedge clk) ptr_rd <= m_row_ptr[ptr_ra];
    // input list and spike list
    reg  [IDW-1:0] inputs_rd;
    reg  [NW-1:0]  fired_rd;
    always @(posedge clk) begin
        inputs_rd <= m_inputs[pos];
        fired_rd <= m_fired[pos];
    end
    // traces: pre (T_READ, B_READ, P_TR), post (T_READ, D_XPOST, P_READ)
    reg  [$clog2(NRM * NSRC + 1)-1:0] xpre_ra;
    reg  [$clog2(NRM * NPC + 1)-1:0]  xpost_ra;
    reg  [TRW-1:0] xpre_rd, xpost_rd;
    always @(*) begin
        case (state)
            T_READ: xpre_ra = rule * NSRC + t_j;
            B_READ: xpre_ra = rule * NSRC + src;
            default: xpre_ra = (r_rule - 1'b1) * NSRC + p_src;     // P_TR
        endcase
        case (state)
            T_READ: xpost_ra = rule * NPC + t_j;
            P_READ: xpost_ra = rule * NPC + p_i;
            default: xpost_ra = (r_rule - 1'b1) * NPC + s_tgt;     // D_XPOST
        endcase
    end
    always @(posedge clk) begin
        xpre_rd <= m_xpre[xpre_ra];
        xpost_rd <= m_xpost[xpost_ra];
    end
    // post index: each neuron's incoming plastic synapses
    reg  [NW-1:0]  post_ptr_ra;
    reg  [PW-1:0]  post_ptr_rd, post_syn_rd;
    reg  [IDW-1:0] post_src_rd;
    always @(*) post_ptr_ra = (state == P_PTR0) ? p_i : p_i + 1'b1;
    always @(posedge clk) begin
        post_ptr_rd <= m_post_ptr[post_ptr_ra];
        post_syn_rd <= m_post_syn[z];
        post_src_rd <= m_post_src[z];
    end
    always @(*) syn_ra = (state == P_SYN) ? post_syn_rd : q;

    // the neuron update, a pipeline: stage 1 the memories' registered reads (r_*, neuron
    // i1), stage 2 the five products, stage 3 the sums rounded, stage 4 (below, in the
    // write ports and the sequencer) clamps, threshold and write-back. Neurons are
    // distinct, so a write never meets a read of the same word.
    always @(posedge clk) begin
        r_kind <= m_kind[i];
        r_a_m <= m_a_m[i];
        r_a_e <= m_a_e[i];
        r_a_i <= m_a_i[i];
        r_p_e <= m_p_e[i];
        r_p_i <= m_p_i[i];
        r_bias <= m_bias[i];
        r_theta <= m_theta[i];
        r_v_reset <= m_v_reset[i];
        r_refsteps <= m_refsteps[i];
        r_v <= m_v[i];
        r_ie <= m_ie[i];
        r_ii <= m_ii[i];
        r_ref <= m_ref[i];
    end
    reg                   u1, u2, u3;            // stage valid
    // with SPRAM a neuron (and a synapse) is issued every other cycle: the ring's one
    // port reads on the issue cycles and writes between them
    reg                   half;
    wire                  issue = (state == U_READ || state == D_STREAM) && (SPRAM == 0 || !half);
    always @(posedge clk) half <= (state == U_READ || state == D_STREAM) ? ~half : 1'b0;
    reg        [NW-1:0]   i1, i2, i3;            // its neuron
    reg signed [ACC-1:0]  m_av2, m_pe2, m_pi2, m_ee2, m_ii2;
    reg signed [BW-1:0]   bias2;
    reg signed [ACC-1:0]  in_e2, in_i2, in_e3, in_i3;
    reg signed [SW-1:0]   theta2, theta3, v_reset2, v_reset3, v2, v3;
    reg        [7:0]      refsteps2, refsteps3, ref2, ref3;
    reg                   delta2, delta3;
    reg signed [ACC-1:0]  x3, e3, g3;
    always @(posedge clk) begin
        u1 <= state == U_READ && issue && i < N;
        i1 <= i;
        // stage 2: products
        u2 <= u1;
        i2 <= i1;
        m_av2 <= $signed(r_a_m) * $signed(r_v);
        m_pe2 <= $signed(r_p_e) * $signed(r_ie);
        m_pi2 <= $signed(r_p_i) * $signed(r_ii);
        m_ee2 <= $signed(r_ie) * $signed(r_a_e);
        m_ii2 <= $signed(r_ii) * $signed(r_a_i);
        bias2 <= r_bias;
        in_e2 <= ring_e_rd;
        in_i2 <= ring_i_rd;
        theta2 <= r_theta;
        v_reset2 <= r_v_reset;
        refsteps2 <= r_refsteps;
        ref2 <= r_ref;
        v2 <= r_v;
        delta2 <= r_kind == 2'd1;
        // stage 3: sums, rounded
        u3 <= u2;
        i3 <= i2;
        x3 <= rshift(m_av2 + m_pe2 + m_pi2 + $signed(bias2));
        e3 <= rshift(m_ee2) + (delta2 ? 0 : in_e2);
        g3 <= rshift(m_ii2) + (delta2 ? 0 : in_i2);
        in_e3 <= in_e2;
        in_i3 <= in_i2;
        theta3 <= theta2;
        v_reset3 <= v_reset2;
        refsteps3 <= refsteps2;
        ref3 <= ref2;
        v3 <= v2;
        delta3 <= delta2;
    end
    always @(posedge clk) begin
        b_valid <= state == D_STREAM && issue && q < q_end;
        c_valid <= b_valid;
        c_addr <= b_slot * NPC + b_tgt;
        c_port <= b_port;
        c_add <= $signed(b_w) <<< b_shift;
        p_valid <= c_valid;
        p_addr <= c_addr;
        p_port <= c_port;
        p_val <= c_val;
    end

    // stage 4: clamps and threshold of neuron i3
    wire               held = ref3 != 0;
    wire signed [ACC-1:0] vr = held ? $signed(v3) : (delta3 ? x3 + in_e3 + in_i3 : x3);
    wire signed [ACC-1:0] vn = vr > VHI ? VHI : (vr < VLO ? VLO : vr);
    wire signed [ACC-1:0] e = e3, g = g3;
    wire signed [ACC-1:0] ec = e > IHI ? IHI : (e < ILO ? ILO : e);
    wire signed [ACC-1:0] gc = g > IHI ? IHI : (g < ILO ? ILO : g);
    wire        [7:0]     r_next = ref3 - (held ? 8'd1 : 8'd0);
    wire                  fire = (vn >= $signed(theta3)) && (r_next == 0);

    // STDP arithmetic: the trace read in the previous state, the rule's words
    wire [TRW-1:0] r_trace = (state == D_DEP || state == P_WRITE || (state == T_WRITE && t_post))
                           ? xpost_rd : xpre_rd;
    wire [31:0] rb = (r_rule == 0 ? 0 : (r_rule - 1)) * 10;
    wire signed [63:0] dw_dep = rshift_k($signed(m_rules[rb + 3]) * $signed({1'b0, r_trace}),
                                         m_rules[rb + 6]);
    wire signed [63:0] dw_pot = rshift_k($signed(m_rules[rb + 2]) * $signed({1'b0, r_trace}),
                                         m_rules[rb + 6]);
    function automatic [SYNW-1:0] with_weight(input [SYNW-1:0] word, input signed [63:0] wnew);
        begin
            with_weight = word;
            with_weight[SYNW-1:TB+DB+5] = wnew[WB-1:0];
        end
    endfunction
    function automatic signed [63:0] clip_w(input signed [63:0] x, input [31:0] base);
        begin
            if (x < $signed(m_rules[base + 4])) clip_w = $signed(m_rules[base + 4]);
            else if (x > $signed(m_rules[base + 5])) clip_w = $signed(m_rules[base + 5]);
            else clip_w = x;
        end
    endfunction
    wire signed [63:0] w_dep = clip_w($signed(s_w) + dw_dep, rb);
    wire signed [63:0] w_pot = clip_w($signed(s_w) + dw_pot, rb);
    wire [31:0] tb_base = rule * 10;
    wire signed [63:0] t_prod = $signed({1'b0, r_trace})
                              * $signed(m_rules[tb_base + (t_post ? 1 : 0)]);
    wire signed [63:0] t_dec = rshift_k(t_prod, F);
    wire [63:0] t_sum = r_trace + m_rules[tb_base + 7];
    wire [TRW-1:0] t_bump = (m_rules[tb_base + 9] == 1) ? m_rules[tb_base + 7][TRW-1:0]
                          : (t_sum > m_rules[tb_base + 8] ? m_rules[tb_base + 8][TRW-1:0]
                                                          : t_sum[TRW-1:0]);

    // the write ports
    // configuration writes while idle, or while the rings are cleared (no other memory
    // is in use then)
    wire cfg_idle_we = CFG != 0 && (state == IDLE || state == CLR) && cfg_we;
    reg [RA-1:0] clr_a;

    // synapses: one port (an address for a read or a write, never both needed in one
    // cycle), so the memory maps to block RAM or SPRAM
    wire            syn_we = state == D_DEP || state == P_POT || (cfg_idle_we && cfg_mem == 8'd21);
    wire [SYNW-1:0] syn_wd = state == D_DEP ? with_weight(r_syn, w_dep)
                           : state == P_POT ? with_weight(r_syn, w_pot) : cfg_data[SYNW-1:0];
    wire [PW-1:0]   syn_addr = (state == D_DEP || state == P_POT) ? r_q
                             : (syn_we ? cfg_addr[PW-1:0] : syn_ra);
    always @(posedge clk) begin  // no read in a write's cycle (SPRAM's "no change")
        if (syn_we) m_syn[syn_addr] <= syn_wd;
        else syn_rd <= m_syn[syn_addr];
    end

    // ring buffers: the update's last stage clears a neuron's entries, D_ADD and the
    // stream's stage C add to one; with SPRAM the write's address is the port's address
    reg              ring_we_e, ring_we_i;
    reg  [RA-1:0]    ring_wa;
    reg  signed [RW-1:0] ring_wd;
    always @(*) begin
        ring_we_e = 1'b0;
        ring_we_i = 1'b0;
        ring_wa = c_addr;
        ring_wd = c_val;
        if (state == CLR) begin
            ring_we_e = 1'b1;
            ring_we_i = 1'b1;
            ring_wa = clr_a;
            ring_wd = 0;
        end else if (u3) begin
            ring_we_e = 1'b1;
            ring_we_i = 1'b1;
            ring_wa = slot * NPC + i3;
            ring_wd = 0;
        end else if (state == D_ADD) begin
            ring_we_e = !s_port;
            ring_we_i = s_port;
            ring_wa = s_slot * NPC + s_tgt;
            ring_wd = (s_port ? ring_i_rd : ring_e_rd) + s_add;
        end else if (c_valid) begin
            ring_we_e = !c_port;
            ring_we_i = c_port;
        end
    end
    wire [RA-1:0] ring_port = (SPRAM != 0 && (ring_we_e || ring_we_i)) ? ring_wa : ring_ra;
    always @(posedge clk) begin
        if (ring_we_e) m_ring_e[SPRAM != 0 ? ring_port : ring_wa] <= ring_wd;
        else if (SPRAM != 0) ring_e_rd <= m_ring_e[ring_port];
        if (ring_we_i) m_ring_i[SPRAM != 0 ? ring_port : ring_wa] <= ring_wd;
        else if (SPRAM != 0) ring_i_rd <= m_ring_i[ring_port];
        if (SPRAM == 0) begin  // block RAM: a read port and a write port
            ring_e_rd <= m_ring_e[ring_ra];
            ring_i_rd <= m_ring_i[ring_ra];
        end
    end
    always @(posedge clk) begin
        if (state == T_WRITE && !t_post) m_xpre[rule * NSRC + t_j] <= t_dec[TRW-1:0];
        else if (state == B_WRITE) m_xpre[rule * NSRC + src] <= t_bump;
        if (state == T_WRITE && t_post) m_xpost[rule * NPC + t_j] <= t_dec[TRW-1:0];
        else if (state == P_WRITE) m_xpost[rule * NPC + p_i] <= t_bump;
        if (u3) begin
            m_v[i3] <= fire ? v_reset3 : vn[SW-1:0];
            m_ref[i3] <= fire ? refsteps3 : r_next;
            m_ie[i3] <= ec[CW-1:0];
            m_ii[i3] <= gc[CW-1:0];
            if (fire) m_fired[n_fired] <= i3;
        end else if (cfg_idle_we) begin
            if (cfg_mem == 8'd15) m_v[cfg_addr] <= cfg_data[SW-1:0];
            if (cfg_mem == 8'd17) m_ie[cfg_addr] <= cfg_data[CW-1:0];
            if (cfg_mem == 8'd18) m_ii[cfg_addr] <= cfg_data[CW-1:0];
            if (cfg_mem == 8'd19) m_ref[cfg_addr] <= cfg_data[7:0];
        end
        if (state == IDLE && in_we) m_inputs[n_in] <= in_id;
        if (cfg_idle_we) begin
            case (cfg_mem)
                8'd0:  m_kind[cfg_addr] <= cfg_data[1:0];
                8'd1:  m_a_m[cfg_addr] <= cfg_data[KW-1:0];
                8'd2:  m_a_e[cfg_addr] <= cfg_data[KW-1:0];
                8'd3:  m_a_i[cfg_addr] <= cfg_data[KW-1:0];
                8'd4:  m_p_e[cfg_addr] <= cfg_data[KW-1:0];
                8'd5:  m_p_i[cfg_addr] <= cfg_data[KW-1:0];
                8'd6:  m_bias[cfg_addr] <= cfg_data[BW-1:0];
                8'd7:  m_theta[cfg_addr] <= cfg_data[SW-1:0];
                8'd8:  m_v_reset[cfg_addr] <= cfg_data[SW-1:0];
                8'd9:  m_refsteps[cfg_addr] <= cfg_data[7:0];
                8'd20: m_row_ptr[cfg_addr] <= cfg_data[PW-1:0];
                default: ;
            endcase
            if (NR > 0) begin
                case (cfg_mem)
                    8'd22: m_syn_rule[cfg_addr] <= cfg_data[RB-1:0];
                    8'd23: m_post_ptr[cfg_addr] <= cfg_data[PW-1:0];
                    8'd24: m_post_syn[cfg_addr] <= cfg_data[PW-1:0];
                    8'd25: m_post_src[cfg_addr] <= cfg_data[IDW-1:0];
                    8'd27: m_rules[cfg_addr] <= cfg_data[31:0];
                    default: ;
                endcase
            end
        end
    end

    // the sequencer
    always @(posedge clk) begin
        done <= 1'b0;
        spk_valid <= 1'b0;
        if (rst) begin
            state <= (SPRAM != 0) ? CLR : IDLE;
            clr_a <= 0;
            busy <= 1'b0;
            slot <= 0;
            n_in <= 0;
            sat_v <= 0;
            sat_i <= 0;
        end else begin
            if (u3) begin  // the update's last stage
                if (vn != vr) sat_v <= sat_v + 1;
                sat_i <= sat_i + (ec != e ? 1 : 0) + (gc != g ? 1 : 0);
                if (fire) begin
                    n_fired <= n_fired + 1'b1;
                    spk_valid <= 1'b1;
                    spk_id <= i3;
                end
            end
            case (state)
                IDLE: begin
                    if (in_we) begin
                        n_in <= n_in + 1'b1;
                    end else if (start) begin
                        busy <= 1'b1;
                        i <= 0;
                        n_fired <= 0;
                        pos <= 0;
                        on_inputs <= 1'b1;
                        state <= (N > 0) ? U_READ : D_SRC;
                    end
                end
                // ---- UPDATE
                U_READ: begin  // issue neuron i; the pipeline drains after the last
                    if (i < N) begin
                        if (issue) i <= i + 1'b1;
                    end else if (!u1 && !u2 && !u3) begin
                        rule <= 0;
                        t_post <= 1'b0;
                        t_j <= 0;
                        state <= (NR > 0) ? T_READ : D_SRC;
                    end
                end
                // ---- DECAY: every trace of every rule (zeros stay zero)
                T_READ: state <= T_WRITE;
                T_WRITE: begin
                    state <= T_READ;
                    if (!t_post && t_j == NSRC - 1) begin
                        t_post <= 1'b1;
                        t_j <= 0;
                        if (N == 0) state <= D_SRC;
                    end else if (t_post && t_j == N - 1) begin
                        t_post <= 1'b0;
                        t_j <= 0;
                        if (rule == NR - 1) state <= D_SRC;
                        else rule <= rule + 1'b1;
                    end else begin
                        t_j <= t_j + 1'b1;
                    end
                end
                // ---- DELIVER: the inputs as written, then this step's spikes
                D_SRC: begin
                    // pos addresses the lists; their word arrives in D_SRC2
                    if (on_inputs && pos < n_in) state <= D_SRC2;
                    else if (on_inputs) begin
                        on_inputs <= 1'b0;
                        pos <= 0;
                    end else if (pos < n_fired) state <= D_SRC2;
                    else if (NR > 0) begin
                        pos <= 0;
                        state <= P_NEXT;
                    end else state <= FINISH;
                end
                D_SRC2: begin
                    src <= on_inputs ? inputs_rd : NI + fired_rd;
                    pos <= pos + 1'b1;
                    state <= D_PTR0;
                end
                D_PTR0: state <= D_PTR1;            // read row_ptr[src]
                D_PTR1: begin                       // read row_ptr[src + 1]
                    q <= ptr_rd;
                    state <= D_PTR2;
                end
                D_PTR2: begin
                    q_end <= ptr_rd;
                    state <= (NR > 0) ? D_SYN : D_STREAM;
                end
                D_STREAM: begin                     // issue synapse q; then drain
                    if (q < q_end) begin
                        if (issue) q <= q + 1'b1;
                    end
                    else if (!b_valid && !c_valid) state <= D_SRC;
                end
                D_SYN: begin                        // read synapse q
                    if (q < q_end) begin
                        r_q <= q;
                        state <= D_LOAD;
                    end else if (NR > 0) begin
                        rule <= 0;
                        state <= B_READ;
                    end else begin
                        state <= D_SRC;
                    end
                end
                D_LOAD: begin
                    r_syn <= syn_rd;
                    r_rule <= rule_rd;
                    q <= q + 1'b1;
                    state <= (NR > 0) ? D_XPOST : D_RING;
                end
                D_XPOST: state <= (r_rule == 0) ? D_RING : D_DEP;  // read x_post[target]
                D_DEP: begin  // a plastic synapse is depressed before it delivers
                    r_syn <= with_weight(r_syn, w_dep);
                    state <= D_RING;
                end
                D_RING: state <= D_ADD;             // read the ring entry
                D_ADD: state <= D_SYN;              // write it back, plus the weight
                // ---- after a source's row: bump its pre trace of every rule
                B_READ: state <= B_WRITE;
                B_WRITE: begin
                    if (rule == NR - 1) state <= D_SRC;
                    else begin
                        rule <= rule + 1'b1;
                        state <= B_READ;
                    end
                end
                // ---- POST: each spike bumps its post traces, then potentiates
                P_NEXT: state <= (pos < n_fired) ? P_NEXT2 : FINISH;
                P_NEXT2: begin
                    p_i <= fired_rd;
                    pos <= pos + 1'b1;
                    rule <= 0;
                    state <= P_READ;
                end
                P_READ: state <= P_WRITE;
                P_WRITE: begin
                    if (rule == NR - 1) state <= P_PTR0;
                    else begin
                        rule <= rule + 1'b1;
                        state <= P_READ;
                    end
                end
                P_PTR0: state <= P_PTR1;
                P_PTR1: begin
                    z <= post_ptr_rd;
                    state <= P_PTR2;
                end
                P_PTR2: begin
                    z_end <= post_ptr_rd;
                    state <= P_ENTRY;
                end
                P_ENTRY: state <= (z < z_end) ? P_SYN : P_NEXT;  // read post_syn[z]
                P_SYN: begin                        // read the synapse it names
                    r_q <= post_syn_rd;
                    p_src <= post_src_rd;
                    z <= z + 1'b1;
                    state <= P_LOAD;
                end
                P_LOAD: begin
                    r_syn <= syn_rd;
                    r_rule <= rule_rd;
                    state <= P_TR;
                end
                P_TR: state <= P_POT;               // read x_pre[source]
                P_POT: state <= P_ENTRY;
                CLR: begin  // zero the rings (SPRAM powers up undefined)
                    clr_a <= clr_a + 1'b1;
                    if (clr_a == L * NPC - 1) state <= IDLE;
                end
                FINISH: begin
                    slot <= (slot == L - 1) ? 0 : slot + 1'b1;
                    n_in <= 0;
                    busy <= 1'b0;
                    done <= 1'b1;
                    state <= IDLE;
                end
                default: state <= IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
