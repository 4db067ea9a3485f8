// Verilator harness for the exported RX tops (nic_rx_manchester, nic_rx_gmii, nic_rx_mii):
// the same stepping as `top::drive` in Rust, compiled, for runs too long for Rust-HDL.
// Built by hdl/src/verilog/verilator.rs with -DTOP=V<name> -DTOP_H="V<name>.h" -DPINS=0|1.
//
// Stimulus on stdin (little-endian), written by verilator.rs:
//   u64 core_half_fs, phy_half_fs, phy_delay_fs   (pins only; ignored for Manchester)
//   u64 reset_cycles (core clocks of reset first, as top::drive::RESET_CYCLES)
//   u16 max_len; u64 station; u64 mcast_hash; u8 all_multicast; u8 promisc
//   u32 ready_period   (out_ready is low on core cycles where cycle % ready_period == 0; 0 = always high)
//   u64 n; then n records: Manchester 1 byte (the 8 samples); pins 2 bytes (data, dv | er << 1)
//   u64 tail           (idle records after the stimulus)
// Output on stdout, text: "F <verdict> <len> <hex bytes>" per frame, then
//   "C frames_ok fcs_errors runts giants phy_errors bad_preamble filtered fifo_overflows phy_events"
//   "Y <core cycles>" and "E <message>" for host-side protocol errors.
#include NIC_TOP_H
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <vector>

template <typename T> static bool get(T &v) { return fread(&v, sizeof v, 1, stdin) == 1; }

static NIC_TOP *top;
static std::vector<uint8_t> frame;
static uint64_t core_cycles = 0;
static uint32_t ready_period = 0;

// With the design settled just before a core rising edge: take the byte that edge transfers.
static void before_core_edge() {
  bool ready = ready_period == 0 || (core_cycles % ready_period) != 0;
  top->out_ready = ready;
  top->eval();
  core_cycles++;
  if (!(top->out_valid && ready)) return;
  frame.push_back(top->out_data);
  if (top->out_last) {
    if (frame.size() != top->out_len)
      printf("E frame out_len %u but %zu bytes\n", (unsigned)top->out_len, frame.size());
    printf("F %u %zu ", (unsigned)top->out_verdict, frame.size());
    for (uint8_t b : frame) printf("%02x", b);
    printf("\n");
    frame.clear();
  }
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  top = new NIC_TOP;
  uint64_t half[2], next[2], delay;
  uint16_t max_len;
  uint64_t station, hash, n, tail, reset_cycles;
  uint8_t allmc, promisc;
  if (!(get(half[0]) && get(half[1]) && get(delay) && get(reset_cycles) && get(max_len) && get(station) && get(hash) &&
        get(allmc) && get(promisc) && get(ready_period) && get(n))) {
    fprintf(stderr, "fast_rx: truncated stimulus header\n");
    return 2;
  }
  std::vector<uint8_t> rec(n * (NIC_PINS ? 2 : 1));
  if (fread(rec.data(), 1, rec.size(), stdin) != rec.size() || !get(tail)) {
    fprintf(stderr, "fast_rx: truncated stimulus\n");
    return 2;
  }
  top->max_len = max_len;
  top->station_mac = station;
  top->mcast_hash = hash;
  top->all_multicast = allmc;
  top->promisc = promisc;
  top->reset = 1;
#if NIC_PINS
  // Two free-running clocks, edge by edge, the earlier first (core first on a tie), exactly
  // as sim::TwoClocks: times in femtoseconds, both start low and rise half a period in.
  next[0] = half[0];
  next[1] = half[1] + delay;
  bool high[2] = {false, false};
  uint64_t core_edges = 0, phy_edges = 0, total = reset_cycles * 2 + n + tail;
  while (phy_edges < total) {
    int i = next[0] <= next[1] ? 0 : 1;
    bool rising = !high[i];
    if (rising && i == 0) {
      if (core_edges == reset_cycles) top->reset = 0;
      if (core_edges >= reset_cycles) before_core_edge();
      core_edges++;
    } else if (rising) {
      uint64_t k = phy_edges >= reset_cycles * 2 ? phy_edges - reset_cycles * 2 : UINT64_MAX;
      uint8_t d = 0, f = 0;
      if (k < n) { d = rec[2 * k]; f = rec[2 * k + 1]; }
      top->rxd = d;
      top->rx_dv = f & 1;
      top->rx_er = (f >> 1) & 1;
      phy_edges++;
    }
    top->eval();
    if (i == 0) top->clock = rising; else top->phy_clock = rising;
    top->eval();
    high[i] = rising;
    next[i] += half[i];
  }
#else
  (void)half; (void)next; (void)delay;
  auto cycle = [&]() { top->clock = 0; top->eval(); top->clock = 1; top->eval(); };
  for (uint64_t c = 0; c < reset_cycles; c++) cycle();
  top->reset = 0;
  for (uint64_t k = 0; k < n + tail; k++) {
    top->samples = k < n ? rec[k] : 0;
    before_core_edge();
    cycle();
  }
#endif
  if (!frame.empty()) printf("E %zu bytes of an unfinished frame\n", frame.size());
  printf("C %u %u %u %u %u %u %u %u %u\n", top->frames_ok, top->fcs_errors, top->runts, top->giants,
         top->phy_errors, top->bad_preamble, top->filtered, top->fifo_overflows,
#ifdef NIC_PHY_EVENTS
         top->NIC_PHY_EVENTS
#else
         0u
#endif
  );
  printf("Y %llu\n", (unsigned long long)core_cycles);
  delete top;
  return 0;
}
