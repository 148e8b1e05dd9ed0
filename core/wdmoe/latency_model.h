#pragma once
// Per-token latency of WDMoE (WDMoE [P2] §II-D, §II-E; design §3.2).
//
//   L_comp = 4 m m_h + 2 m_h m + η m_h + m_h          FLOPs, one token through one expert (eq. 4)
//   L_comm = ε m                                       bytes of one token's activation   (eq. 5)
//   t_q    = 8 L_comm / R^d_q + L_comp / C_q + 8 L_comm / R^u_q                          (eq. 6)
//   t_j^i  = max over the selected experts of t_q                                        (eq. 7)
//   t_prompt = Σ_tokens Σ_blocks t_j^i                                                    (eq. 8)
//
// ε is bytes per element here, rates are bit/s, hence the factor 8 (the paper leaves the unit of
// ε open). BS compute is ignored, as in the paper.
#include <span>
#include <vector>

#include "core/wdmoe/channel_model.h"

namespace moe::wdmoe {

double expert_flops(const ModelDims& m);  ///< eq. 4
double comm_bytes(const ModelDims& m);    ///< eq. 5
/// eq. 6: +inf when a rate is 0.
double device_latency(double comm_bytes, double rate_down, double rate_up, double flops,
                      double device_flops);
/// eq. 7: max of the kept experts' latencies (0 for none).
double token_layer_latency(std::span<const double> t);
/// eq. 8: sum over tokens and blocks of per-(token, block) latencies.
double prompt_latency(std::span<const double> token_layer_latencies);

/// t_q of every device for given link states.
class LatencyModel {
 public:
  explicit LatencyModel(const Scenario& s);
  void device_latencies(const std::vector<LinkState>& links, std::vector<double>& t) const;
  double device_latency(int q, const LinkState& l) const;
  double flops_per_token() const { return flops_; }
  double bytes_per_token() const { return bytes_; }

 private:
  double flops_, bytes_;
  std::vector<double> device_flops_;
};

}  // namespace moe::wdmoe
