#pragma once
// Routing profiles (issue 14 item 2): how often each expert of each layer was chosen on a
// recorded run. Pinned, hybrid and LFU policies read them, the planner replays the trace they
// came from, and adaptive slot allocation weighs layers by them. A profile is saved as a small
// JSON file keyed by the model's identity (file name, size and a hash of the GGUF header), by
// default under $XDG_CACHE_HOME/moe-studio/profiles/ (~/.cache/... without XDG_CACHE_HOME), and
// can be loaded from any path. A profile recorded on another model is refused.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine_api/routing_stats.h"
#include "core/store/routing_trace.h"
#include "core/util/status.h"

namespace moe {

class GgufFile;

/// Which model file a profile belongs to. Two identities match when size and header hash are
/// equal: the name is the file's base name, kept for people (a renamed copy still matches).
struct ModelIdentity {
  std::string name;
  uint64_t file_size = 0;
  std::string header_hash;  ///< 16 hex digits: FNV-1a 64 of the bytes before the tensor data
  bool matches(const ModelIdentity& o) const {
    return file_size == o.file_size && header_hash == o.header_hash;
  }
  bool empty() const { return header_hash.empty(); }
};
/// The identity of an open GGUF file (metadata + tensor directory hashed, not the weights).
ModelIdentity model_identity(const GgufFile& file);
Result<ModelIdentity> model_identity_of(const std::string& gguf_path);

struct RoutingProfile {
  ModelIdentity model;  ///< empty when made from a trace alone
  int n_expert = 0;
  uint64_t n_tokens = 0;                      ///< tokens of the longest layer
  std::vector<std::vector<uint64_t>> counts;  ///< [n_layer][n_expert] times chosen
  /// The routing the counts were made from, token by token (version 2 files): what the
  /// planner replays to choose a policy (`--policy auto`). Empty in a version 1 file, which
  /// holds counts only.
  RoutingTrace trace;
  bool has_trace() const { return trace.n_layer() > 0 && trace.n_tokens() > 0; }
  int n_layer() const { return static_cast<int>(counts.size()); }
  /// Counts of layer `l` (empty past the last layer).
  std::span<const uint64_t> layer(int l) const {
    return l >= 0 && l < n_layer() ? std::span<const uint64_t>(counts[static_cast<size_t>(l)])
                                   : std::span<const uint64_t>();
  }
};

/// The counts of `trace`, with the trace itself kept (the planner replays it).
RoutingProfile profile_from_trace(const RoutingTrace& trace, ModelIdentity model = {});
/// Mean over layers of routing_entropy_bits().
double mean_routing_entropy_bits(const RoutingProfile& p);

std::string profile_to_json(const RoutingProfile& p);
/// Reads version 2 (counts + trace) and version 1 (counts only). Errors name `name`: invalid
/// JSON, a missing or mistyped field, ragged counts, a trace of other dimensions or with
/// expert ids out of range.
Result<RoutingProfile> profile_from_json(std::string_view text, const std::string& name);

/// Writes atomically, creating the parent directories.
Status save_profile(const RoutingProfile& p, const std::string& path);
/// Loads `path`; with `expected`, a profile of another model (or of no model) is an error that
/// names both models.
Result<RoutingProfile> load_profile(const std::string& path,
                                    const ModelIdentity* expected = nullptr);

/// $XDG_CACHE_HOME/moe-studio/profiles, else $HOME/.cache/moe-studio/profiles.
Result<std::string> profile_dir();
/// <profile_dir()>/<name>-<header_hash>.json (name reduced to [A-Za-z0-9._-]).
Result<std::string> default_profile_path(const ModelIdentity& m);

}  // namespace moe
