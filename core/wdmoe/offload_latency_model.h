#pragma once
// The latency model of the offloading paper ([P1], "Efficient Inference Offloading for MoE
// LLMs in IoMT", §3.1; design §3.1). Used by the offloading planner and the dashboard (predicted
// vs measured). All sizes in bytes, speeds in bytes/s, rates in bit/s, times in seconds.
//
// Local (§3.1.2), per layer weight w:
//   l_cg = w / s_cg                   RAM -> VRAM                              (eq. 5)
//   l_dc = w / s_dc                   disk -> RAM                              (eq. 6)
//   l_dg = w / s_cg + w / s_dc        disk -> RAM -> VRAM                      (eq. 7)
//   l_loc = (x + y) w / s_cg + y w / s_dc   x layers in RAM, y on disk         (eq. 8)
// Interconnection (§3.1.1): SNR = S / ω, ω = k T B (eq. 2); C = B log2(1 + SNR) (eq. 3);
//   d_p = D / C (eq. 4), l_com ≈ d_p (eq. 1 with the other delays neglected).
// Total over N devices in a chain (§3.1.3, eq. 9):
//   l_total = Σ_n l_loc,n + Σ_{n=1}^{N-1} l_com,n + l_com,i→1 + l_com,N→i
// Improvement (eq. 10) = (original - improved) / original.
#include <span>

namespace moe::wdmoe {

struct OffloadLatencyModel {
  double layer_bytes = 0;  ///< w: weights of one layer (experts) to move
  double s_cg = 0;         ///< RAM -> VRAM, bytes/s (measured on the user's machine)
  double s_dc = 0;         ///< disk -> RAM, bytes/s

  double l_cg() const { return layer_bytes / s_cg; }
  double l_dc() const { return layer_bytes / s_dc; }
  double l_dg() const { return l_cg() + l_dc(); }
  /// eq. 8: x layers offloaded to RAM, y to disk.
  double l_loc(int x, int y) const { return (x + y) * l_cg() + y * l_dc(); }
};

/// ω = k T B, watts.
double thermal_noise_w(double temperature_k, double bandwidth_hz);
/// C = B log2(1 + SNR), bit/s.
double channel_capacity_bps(double bandwidth_hz, double snr);
/// d_p = D / C with D in bytes converted to bits (the physically right reading).
double propagation_delay_s(double bytes, double capacity_bps);
/// The paper's own arithmetic: C converted to "MB/s" by C / 8 / 10^6, then divided into D as if
/// that were MiB/s (× 2^20). Reproduces its 1.748e-7 s; kept only to document the slip.
double propagation_delay_paper_s(double bytes, double capacity_bps);
/// eq. 10, as a fraction.
double improvement(double original, double improved);

/// eq. 9 for a chain: per-device l_loc (N), the N-1 hops between consecutive devices, and the
/// hops from the requesting device i to device 1 and from device N back to i.
double total_latency(std::span<const double> l_loc, std::span<const double> l_com_chain,
                     double l_com_in, double l_com_out);
/// eq. 9 with N identical devices and identical hops: N l_loc + (N + 1) l_com.
double total_latency_uniform(int n_devices, double l_loc, double l_com);

}  // namespace moe::wdmoe
