#include "core/store/routing_profile.h"

#include "core/util/cache_dir.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/gguf/gguf_file.h"
#include "core/util/atomic_file.h"
#include "core/util/regular_file.h"

namespace moe {
namespace {

// Version 2 added "trace" (the routing token by token, for the planner); version 1 files (counts
// only) still load.
constexpr int kProfileVersion = 2;
constexpr int kOldestProfileVersion = 1;
constexpr uint64_t kMaxProfileBytes = uint64_t{64} << 20;

uint64_t fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string describe(const ModelIdentity& m) {
  if (m.empty()) return "no model";
  return "'" + m.name + "' (" + std::to_string(m.file_size) + " bytes, header " + m.header_hash +
         ")";
}

// A profile's "trace": one array per layer of the counts, each token's expert ids in [0,
// n_expert), at most kMaxTracePairs ids in all (as a JSONL trace).
Result<RoutingTrace> trace_from_json(const nlohmann::json& j, const RoutingProfile& p) {
  constexpr size_t kMaxTracePairs = size_t{1} << 20;
  if (!j.is_array() || j.size() != p.counts.size()) {
    return make_error("\"trace\" must hold one array per layer of \"counts\" (",
                      std::to_string(p.counts.size()), ")");
  }
  RoutingTrace t;
  t.n_expert = p.n_expert;
  size_t pairs = 0;
  for (const auto& layer : j) {
    const std::string where = "layer " + std::to_string(t.layers.size()) + " of \"trace\"";
    if (!layer.is_array()) return make_error(where, " is not an array of tokens");
    LayerRoute route;
    std::vector<int16_t> chosen;
    for (const auto& token : layer) {
      if (!token.is_array()) return make_error(where, ": a token is not an array of expert ids");
      chosen.clear();
      for (const auto& e : token) {
        if (!e.is_number_unsigned() || e.get<uint64_t>() >= static_cast<uint64_t>(p.n_expert)) {
          return make_error(where, ": expert ids must be integers in [0, ",
                            std::to_string(p.n_expert), ")");
        }
        chosen.push_back(static_cast<int16_t>(e.get<int>()));
      }
      if ((pairs += chosen.size()) > kMaxTracePairs) {
        return make_error("\"trace\" holds more than ", std::to_string(kMaxTracePairs),
                          " expert choices");
      }
      t.top_k = std::max(t.top_k, static_cast<int>(chosen.size()));
      route.push(chosen);
    }
    t.layers.push_back(std::move(route));
  }
  return t;
}

}  // namespace

ModelIdentity model_identity(const GgufFile& file) {
  ModelIdentity m;
  m.name = std::filesystem::path(file.path()).filename().string();
  m.file_size = file.file_size();
  const uint64_t n = std::min(file.data_offset(), file.file_size());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a64({file.base(), static_cast<size_t>(n)})));
  m.header_hash = hex;
  return m;
}

Result<ModelIdentity> model_identity_of(const std::string& gguf_path) {
  auto f = GgufFile::open(gguf_path);
  if (!f.ok()) return f.error();
  return model_identity(**f);
}

RoutingProfile profile_from_trace(const RoutingTrace& trace, ModelIdentity model) {
  RoutingProfile p;
  p.model = std::move(model);
  p.n_expert = trace.n_expert;
  p.n_tokens = trace.n_tokens();
  p.counts.assign(trace.layers.size(), std::vector<uint64_t>(static_cast<size_t>(trace.n_expert)));
  for (size_t l = 0; l < trace.layers.size(); ++l) {
    for (const int16_t e : trace.layers[l].flat()) ++p.counts[l][static_cast<size_t>(e)];
  }
  p.trace = trace;
  return p;
}

double mean_routing_entropy_bits(const RoutingProfile& p) {
  if (p.counts.empty()) return 0;
  double sum = 0;
  for (const auto& l : p.counts) sum += routing_entropy_bits(l);
  return sum / static_cast<double>(p.counts.size());
}

std::string profile_to_json(const RoutingProfile& p) {
  nlohmann::json j = {{"format", "moe-studio routing profile"},
                      {"version", kProfileVersion},
                      {"n_layer", p.n_layer()},
                      {"n_expert", p.n_expert},
                      {"n_tokens", p.n_tokens},
                      {"counts", p.counts}};
  if (p.has_trace()) {
    // [n_layer][n_tokens][experts of the token]
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerRoute& route : p.trace.layers) {
      nlohmann::json tokens = nlohmann::json::array();
      for (size_t t = 0; t < route.n_tokens(); ++t) {
        const auto chosen = route.token(t);
        tokens.push_back(std::vector<int>(chosen.begin(), chosen.end()));
      }
      layers.push_back(std::move(tokens));
    }
    j["trace"] = std::move(layers);
  }
  if (!p.model.empty()) {
    j["model"] = {{"name", p.model.name},
                  {"file_size", p.model.file_size},
                  {"header_hash", p.model.header_hash}};
  }
  return j.dump() + "\n";
}

Result<RoutingProfile> profile_from_json(std::string_view text, const std::string& name) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& what) { return make_error(name, ": ", what); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("format", std::string()) != "moe-studio routing profile") {
    return bad("not a routing profile (no \"format\": \"moe-studio routing profile\")");
  }
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version < kOldestProfileVersion ||
      *version > kProfileVersion) {
    return bad("unsupported profile version (this build reads versions " +
               std::to_string(kOldestProfileVersion) + " to " + std::to_string(kProfileVersion) +
               ")");
  }
  RoutingProfile p;
  const auto ne = j.find("n_expert");
  const auto nt = j.find("n_tokens");
  const auto counts = j.find("counts");
  if (ne == j.end() || !ne->is_number_unsigned() || *ne > 32768 || nt == j.end() ||
      !nt->is_number_unsigned()) {
    return bad("\"n_expert\" and \"n_tokens\" must be non-negative integers");
  }
  p.n_expert = ne->get<int>();
  p.n_tokens = nt->get<uint64_t>();
  if (counts == j.end() || !counts->is_array() || counts->size() > 4096) {
    return bad("\"counts\" must be an array of at most 4096 layers");
  }
  for (const auto& layer : *counts) {
    if (!layer.is_array() || layer.size() != static_cast<size_t>(p.n_expert)) {
      return bad("layer " + std::to_string(p.counts.size()) + " of \"counts\" is not " +
                 std::to_string(p.n_expert) + " counts");
    }
    std::vector<uint64_t> row;
    for (const auto& c : layer) {
      if (!c.is_number_unsigned()) return bad("counts must be non-negative integers");
      row.push_back(c.get<uint64_t>());
    }
    p.counts.push_back(std::move(row));
  }
  if (const auto trace = j.find("trace"); trace != j.end()) {
    auto t = trace_from_json(*trace, p);
    if (!t.ok()) return bad(t.message());
    p.trace = std::move(t).value();
  }
  const auto m = j.find("model");
  if (m != j.end()) {
    if (!m->is_object() || !m->contains("header_hash") || !(*m)["header_hash"].is_string() ||
        !m->contains("file_size") || !(*m)["file_size"].is_number_unsigned()) {
      return bad("\"model\" must hold \"name\", \"file_size\" and \"header_hash\"");
    }
    p.model.name = m->value("name", std::string());
    p.model.file_size = (*m)["file_size"].get<uint64_t>();
    p.model.header_hash = (*m)["header_hash"].get<std::string>();
  }
  return p;
}

Status save_profile(const RoutingProfile& p, const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return make_error(parent.string(), ": cannot create directory: ", ec.message());
  return write_file_atomic(path, profile_to_json(p));
}

Result<RoutingProfile> load_profile(const std::string& path, const ModelIdentity* expected) {
  auto text = read_regular_file(path, kMaxProfileBytes, "routing profile");
  if (!text.ok()) return text.error();
  auto p = profile_from_json(*text, path);
  if (!p.ok()) return p;
  if (expected != nullptr && !p->model.matches(*expected)) {
    return make_error(path, ": this profile was recorded on ", describe(p->model),
                      ", not on the model loaded, ", describe(*expected),
                      "; record one for this model (moe-cli profile)");
  }
  return p;
}

Result<std::string> profile_dir() {
  auto dir = user_cache_dir();
  if (!dir.ok()) return make_error(dir.message(), ": give the profile's path");
  return *dir + "/profiles";
}

Result<std::string> default_profile_path(const ModelIdentity& m) {
  auto dir = profile_dir();
  if (!dir.ok()) return dir;
  std::string name;
  for (const char c : m.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    name += ok ? c : '_';
  }
  if (name.empty() || name[0] == '.') name = "model" + name;
  return (std::filesystem::path(*dir) / (name + "-" + m.header_hash + ".json")).string();
}

}  // namespace moe
