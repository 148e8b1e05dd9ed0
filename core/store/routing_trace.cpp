#include "core/store/routing_trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace moe {
namespace {

constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxExpertId = 32768;
constexpr uint64_t kMaxLayerExperts = uint64_t{1} << 20;

Error line_error(const std::string& name, uint64_t line, const std::string& what) {
  return make_error(name, ":", std::to_string(line), ": ", what);
}

/// An integer JSON value in [lo, hi), else false.
bool int_in(const nlohmann::json& v, int64_t lo, int64_t hi, int64_t& out) {
  if (!v.is_number_integer()) return false;
  out = v.get<int64_t>();
  return out >= lo && out < hi;
}

}  // namespace

size_t RoutingTrace::n_tokens() const {
  size_t n = 0;
  for (const auto& l : layers) n = std::max(n, l.n_tokens());
  return n;
}

RoutingTrace RoutingTrace::slice(size_t begin, size_t end) const {
  RoutingTrace out;
  out.n_expert = n_expert;
  out.top_k = top_k;
  out.layers.resize(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    const size_t e = std::min(end, layers[l].n_tokens());
    for (size_t t = begin; t < e; ++t) out.layers[l].push(layers[l].token(t));
  }
  return out;
}

Result<RoutingTrace> parse_routing_trace(std::istream& in, const std::string& name) {
  RoutingTrace trace;
  std::string text;
  uint64_t line = 0, n_routing = 0;
  std::vector<int16_t> chosen;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return line_error(name, line, "not valid JSON");
    if (!j.is_object()) return line_error(name, line, "not a JSON object");
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) {
      return line_error(name, line, "no \"type\" string (not an event trace?)");
    }
    if (*type == "trace_end") {
      const auto d = j.find("dropped");
      if (d != j.end() && d->is_number_unsigned()) trace.dropped += d->get<uint64_t>();
      continue;
    }
    if (*type != "routing") continue;
    int64_t layer = 0;
    const auto lj = j.find("layer");
    if (lj == j.end() || !int_in(*lj, 0, kMaxLayers, layer)) {
      return line_error(name, line, "routing event without an integer \"layer\" in [0, 4096)");
    }
    const auto ej = j.find("experts");
    if (ej == j.end() || !ej->is_array() || ej->empty()) {
      return line_error(name, line, "routing event without a non-empty \"experts\" array");
    }
    chosen.clear();
    for (const auto& v : *ej) {
      int64_t e = 0;
      if (!int_in(v, 0, kMaxExpertId, e)) {
        return line_error(name, line, "expert ids must be integers in [0, 32768)");
      }
      if (std::find(chosen.begin(), chosen.end(), e) != chosen.end()) {
        return line_error(name, line, "expert " + std::to_string(e) + " chosen twice");
      }
      chosen.push_back(static_cast<int16_t>(e));
      trace.n_expert = std::max(trace.n_expert, static_cast<int>(e) + 1);
    }
    const auto logits = j.find("logits");
    if (logits != j.end() && logits->is_array()) {
      if (logits->size() > static_cast<size_t>(kMaxExpertId)) {
        return line_error(name, line, "more than 32768 router logits");
      }
      trace.n_expert = std::max(trace.n_expert, static_cast<int>(logits->size()));
    }
    trace.top_k = std::max(trace.top_k, static_cast<int>(chosen.size()));
    if (static_cast<size_t>(layer) >= trace.layers.size()) {
      trace.layers.resize(static_cast<size_t>(layer) + 1);
    }
    trace.layers[static_cast<size_t>(layer)].push(chosen);
    ++n_routing;
  }
  if (in.bad()) return make_error(name, ": read error after line ", std::to_string(line));
  // Profiles and replays allocate n_layer x n_expert counters: refuse what no model has.
  if (static_cast<uint64_t>(trace.layers.size()) * static_cast<uint64_t>(trace.n_expert) >
      kMaxLayerExperts) {
    return make_error(name, ": ", std::to_string(trace.layers.size()), " layers x ",
                      std::to_string(trace.n_expert), " experts is more than this reader takes (",
                      std::to_string(kMaxLayerExperts), " pairs)");
  }
  if (n_routing == 0) {
    return make_error(name, ": no routing events (record one with `moe-cli run ... --trace FILE`)");
  }
  return trace;
}

Result<RoutingTrace> load_routing_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path, ": cannot open");
  return parse_routing_trace(in, path);
}

Result<SyntheticTraceSpec> parse_synthetic_spec(std::string_view text) {
  SyntheticTraceSpec s;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view kv = text.substr(at, comma - at);
    at = comma + 1;
    const size_t eq = kv.find('=');
    const std::string key(kv.substr(0, eq));
    const std::string val(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
    char* end = nullptr;
    const double v = std::strtod(val.c_str(), &end);
    if (val.empty() || end != val.c_str() + val.size() || !std::isfinite(v) || v < 0) {
      return make_error("synthetic trace: '", std::string(kv), "' is not key=non-negative number");
    }
    auto as_int = [&](int& field, double lo, double hi) -> Status {
      if (v < lo || v > hi || v != std::floor(v)) {
        return make_error("synthetic trace: ", key, " must be an integer in [",
                          std::to_string(int(lo)), ", ", std::to_string(int(hi)), "]");
      }
      field = static_cast<int>(v);
      return {};
    };
    auto as_prob = [&](double& field) -> Status {
      if (v > 1) return make_error("synthetic trace: ", key, " must be in [0, 1]");
      field = v;
      return {};
    };
    Status st;
    if (key == "layers")
      st = as_int(s.n_layer, 1, 4096);
    else if (key == "experts")
      st = as_int(s.n_expert, 1, 4096);
    else if (key == "k")
      st = as_int(s.top_k, 1, 64);
    else if (key == "tokens")
      st = as_int(s.n_tokens, 1, 10000000);
    else if (key == "zipf")
      s.zipf_s = v;
    else if (key == "spread")
      st = as_prob(s.spread);
    else if (key == "locality")
      st = as_prob(s.locality);
    else if (key == "drift")
      st = as_prob(s.drift);
    else if (key == "seed")
      s.seed = static_cast<uint64_t>(v);
    else {
      return make_error("synthetic trace: unknown key '", key,
                        "' (layers, experts, k, tokens, zipf, spread, locality, drift, seed)");
    }
    MOE_TRY(st);
  }
  if (s.top_k > s.n_expert) return make_error("synthetic trace: k is larger than experts");
  return s;
}

RoutingTrace make_synthetic_trace(const SyntheticTraceSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const int n = spec.n_expert;
  const int k = std::min(spec.top_k, n);
  RoutingTrace trace;
  trace.n_expert = n;
  trace.top_k = k;
  trace.layers.resize(static_cast<size_t>(spec.n_layer));
  for (auto& layer : trace.layers) {
    const double s = spec.zipf_s * (1.0 + spec.spread * (2.0 * unif(rng) - 1.0));
    std::vector<double> cdf(static_cast<size_t>(n));
    double sum = 0;
    for (int r = 0; r < n; ++r) cdf[static_cast<size_t>(r)] = sum += std::pow(r + 1.0, -s);
    std::vector<int16_t> perm(static_cast<size_t>(n));  // popularity rank -> expert
    for (int e = 0; e < n; ++e) perm[static_cast<size_t>(e)] = static_cast<int16_t>(e);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<int16_t> prev, cur;
    for (int t = 0; t < spec.n_tokens; ++t) {
      if (n > 1 && unif(rng) < spec.drift) {
        const auto r = static_cast<size_t>(rng() % static_cast<uint64_t>(n - 1));
        std::swap(perm[r], perm[r + 1]);
      }
      cur.clear();
      for (int slot = 0; slot < k; ++slot) {
        int16_t e = -1;
        if (slot < static_cast<int>(prev.size()) && unif(rng) < spec.locality &&
            std::find(cur.begin(), cur.end(), prev[static_cast<size_t>(slot)]) == cur.end()) {
          e = prev[static_cast<size_t>(slot)];
        }
        while (e < 0) {
          const double u = unif(rng) * sum;
          const auto r =
              static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
          const int16_t cand = perm[std::min(r, perm.size() - 1)];
          if (std::find(cur.begin(), cur.end(), cand) == cur.end()) e = cand;
        }
        cur.push_back(e);
      }
      layer.push(cur);
      prev = cur;
    }
  }
  return trace;
}

}  // namespace moe
