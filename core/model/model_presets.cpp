// Presets and the per-tensor type choice of the model generator.
#include <array>

#include "core/model/model_generator.h"

namespace moe {
namespace {

// demo: a few MB, for tests and first runs. mixtral-mini: Mixtral's shape at ~1.5B parameters.
// mixtral-8x7b: Mixtral-8x7B-v0.1's hyperparameters (config.json), vocab padded to 32000.
const std::array<ModelPreset, 3> kPresets = {{
    {"demo", 256, 4, 8, 4, 512, 8, 2, 2048, 0, 10000.0, 1e-5},
    {"mixtral-mini", 1024, 16, 16, 4, 3584, 8, 2, 4096, 0, 1e6, 1e-5},
    {"mixtral-8x7b", 4096, 32, 32, 8, 14336, 8, 2, 32768, 32000, 1e6, 1e-5},
}};

bool fits(GgmlType t, int64_t row_length) {
  return row_length % type_traits(t)->block_size == 0;
}

}  // namespace

Result<ModelPreset> model_preset(std::string_view name) {
  for (const auto& p : kPresets) {
    if (p.name == name) return p;
  }
  return make_error("unknown model preset '", name, "' (choose demo, mixtral-mini, mixtral-8x7b)");
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> out;
  for (const auto& p : kPresets) out.push_back(p.name);
  return out;
}

Result<WeightMix> parse_weight_mix(std::string_view name) {
  if (name == "f16") return WeightMix::kF16;
  if (name == "q8_0") return WeightMix::kQ8_0;
  if (name == "q4_0") return WeightMix::kQ4_0;
  if (name == "q4_k_m") return WeightMix::kQ4_K_M;
  return make_error("unknown weight type '", name, "' (choose f16, q8_0, q4_0, q4_k_m)");
}

std::string_view weight_mix_name(WeightMix mix) {
  switch (mix) {
    case WeightMix::kF16:
      return "f16";
    case WeightMix::kQ8_0:
      return "q8_0";
    case WeightMix::kQ4_0:
      return "q4_0";
    case WeightMix::kQ4_K_M:
      return "q4_k_m";
  }
  return "?";
}

uint32_t weight_mix_file_type(WeightMix mix) {
  switch (mix) {  // llama_ftype: MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q8_0 = 7, Q4_K_M = 15
    case WeightMix::kF16:
      return 1;
    case WeightMix::kQ4_0:
      return 2;
    case WeightMix::kQ8_0:
      return 7;
    case WeightMix::kQ4_K_M:
      return 15;
  }
  return 0;
}

GgmlType choose_matrix_type(WeightMix mix, std::string_view role, int64_t row_length) {
  GgmlType want = GgmlType::F16;
  switch (mix) {
    case WeightMix::kF16:
      want = GgmlType::F16;
      break;
    case WeightMix::kQ8_0:
      want = GgmlType::Q8_0;
      break;
    case WeightMix::kQ4_0:
      want = role == "output" ? GgmlType::Q6_K : GgmlType::Q4_0;
      break;
    case WeightMix::kQ4_K_M:
      want = (role == "output" || role == "ffn_down_exps") ? GgmlType::Q6_K : GgmlType::Q4_K;
      break;
  }
  // Fallbacks for rows that are not whole 256-element super-blocks (or 32-element blocks).
  if (want == GgmlType::Q6_K && !fits(want, row_length)) want = GgmlType::Q8_0;
  if (want == GgmlType::Q4_K && !fits(want, row_length)) want = GgmlType::Q4_0;
  if (!fits(want, row_length)) want = GgmlType::F16;
  return want;
}

}  // namespace moe
