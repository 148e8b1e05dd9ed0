#include "core/model/inspect.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "core/gguf/gguf_file.h"

namespace moe {
namespace {

// Parses a decimal integer at s[pos..], advancing pos; -1 when there is none.
int64_t parse_index(const std::string& s, size_t& pos) {
  const size_t start = pos;
  int64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 9) {
    v = v * 10 + (s[pos++] - '0');
  }
  return pos == start ? -1 : v;
}

bool consume(const std::string& s, size_t& pos, std::string_view lit) {
  if (s.compare(pos, lit.size(), lit) != 0) return false;
  pos += lit.size();
  return true;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  const double d = static_cast<double>(b);
  if (b >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", d / (1ull << 30));
  } else if (b >= (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", d / (1ull << 20));
  } else if (b >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", d / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", b);
  }
  return buf;
}

}  // namespace

int64_t expert_tensor_layer(const std::string& name) {
  size_t pos = 0;
  if (!consume(name, pos, "blk.")) return -1;
  const int64_t layer = parse_index(name, pos);
  if (layer < 0 || !consume(name, pos, ".ffn_")) return -1;
  if (!consume(name, pos, "gate") && !consume(name, pos, "up") && !consume(name, pos, "down")) {
    return -1;
  }
  if (consume(name, pos, "_exps.weight")) return pos == name.size() ? layer : -1;
  // Older layout: one tensor per expert, blk.N.ffn_gate.E.weight.
  if (!consume(name, pos, ".") || parse_index(name, pos) < 0) return -1;
  return consume(name, pos, ".weight") && pos == name.size() ? layer : -1;
}

Result<FileSummary> summarize_model(const GgufFile& f) {
  FileSummary s;
  s.path = f.path();
  s.version = f.version();
  s.file_size = f.file_size();
  s.alignment = f.alignment();
  s.data_offset = f.data_offset();
  if (f.has("general.architecture")) {
    auto a = f.get_string("general.architecture");
    if (!a) return a.error();
    s.architecture = *a;
  }
  if (f.has("general.name")) {
    auto n = f.get_string("general.name");
    if (!n) return n.error();
    s.name = *n;
  }
  if (f.has("general.file_type")) {
    auto ft = f.get_int("general.file_type");
    if (!ft) return ft.error();
    s.file_type = *ft;
  }
  if (f.has("moe.random_weights")) {
    auto rw = f.get_bool("moe.random_weights");
    if (!rw) return rw.error();
    s.random_weights = *rw;
  }
  const std::string arch = s.architecture.empty() ? "llama" : s.architecture;
  struct IntKey {
    const char* key;
    int64_t* out;
  };
  const IntKey ints[] = {
      {"block_count", &s.block_count},
      {"embedding_length", &s.embedding_length},
      {"feed_forward_length", &s.feed_forward_length},
      {"expert_feed_forward_length", &s.expert_feed_forward_length},
      {"attention.head_count", &s.head_count},
      {"attention.head_count_kv", &s.head_count_kv},
      {"context_length", &s.context_length},
      {"rope.dimension_count", &s.rope_dimension_count},
      {"expert_count", &s.expert_count},
      {"expert_used_count", &s.expert_used_count},
      {"vocab_size", &s.vocab_size},
  };
  for (const auto& k : ints) {
    auto v = f.get_uint_or(arch + "." + k.key, 0);
    if (!v) return v.error();
    *k.out = static_cast<int64_t>(std::min<uint64_t>(*v, INT64_MAX));
  }
  auto base = f.get_float_or(arch + ".rope.freq_base", 0);
  if (!base) return base.error();
  s.rope_freq_base = *base;
  auto eps = f.get_float_or(arch + ".attention.layer_norm_rms_epsilon", 0);
  if (!eps) return eps.error();
  s.rms_epsilon = *eps;

  if (f.has("tokenizer.ggml.model")) {
    auto m = f.get_string("tokenizer.ggml.model");
    if (!m) return m.error();
    s.tokenizer_model = *m;
  }
  s.has_chat_template = f.has("tokenizer.chat_template");
  if (s.vocab_size == 0) {
    if (const GgufValue* toks = f.find("tokenizer.ggml.tokens")) {
      if (const auto* arr = std::get_if<GgufArray>(&toks->v)) {
        s.vocab_size = static_cast<int64_t>(arr->size());
      }
    } else if (const TensorInfo* emb = f.find_tensor("token_embd.weight")) {
      s.vocab_size = emb->ne(1);
    }
  }

  std::map<std::string, TypeUsage> by_type;
  std::map<int64_t, LayerExperts> by_layer;
  for (const TensorInfo& t : f.tensors()) {
    ++s.n_tensors;
    s.n_params += t.n_elements;
    s.tensor_bytes += t.n_bytes;
    TypeUsage& u = by_type[std::string(type_name(t.type))];
    u.type = type_name(t.type);
    ++u.count;
    u.bytes += t.n_bytes;
    u.elements += t.n_elements;
    const int64_t layer = expert_tensor_layer(t.name);
    if (layer >= 0) {
      LayerExperts& le = by_layer[layer];
      le.layer = layer;
      ++le.n_tensors;
      le.bytes += t.n_bytes;
      s.expert_bytes += t.n_bytes;
    } else {
      s.non_expert_bytes += t.n_bytes;
    }
  }
  for (auto& [k, u] : by_type) s.types.push_back(u);
  std::stable_sort(s.types.begin(), s.types.end(),
                   [](const TypeUsage& a, const TypeUsage& b) { return a.bytes > b.bytes; });
  for (auto& [k, le] : by_layer) s.experts_per_layer.push_back(le);
  return s;
}

std::string summary_to_text(const FileSummary& s) {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("file:          %s (%s, GGUF v%u, alignment %" PRIu64 ")\n", s.path.c_str(),
      human_bytes(s.file_size).c_str(), s.version, s.alignment);
  add("architecture:  %s\n", s.architecture.empty() ? "(none)" : s.architecture.c_str());
  add("name:          %s%s\n", s.name.empty() ? "(none)" : s.name.c_str(),
      s.random_weights ? "  [random weights]" : "");
  add("layers:        %" PRId64 "\n", s.block_count);
  add("embedding:     %" PRId64 "\n", s.embedding_length);
  add("feed-forward:  %" PRId64, s.feed_forward_length);
  if (s.expert_feed_forward_length > 0) add(" (expert %" PRId64 ")", s.expert_feed_forward_length);
  add("\nheads:         %" PRId64 " (kv %" PRId64 ")\n", s.head_count, s.head_count_kv);
  add("context:       %" PRId64 "\n", s.context_length);
  add("rope base:     %g\n", s.rope_freq_base);
  add("rms epsilon:   %g\n", s.rms_epsilon);
  add("experts:       %" PRId64 " (%" PRId64 " used per token)\n", s.expert_count,
      s.expert_used_count);
  add("tokenizer:     %s, vocab %" PRId64 "%s\n",
      s.tokenizer_model.empty() ? "(none)" : s.tokenizer_model.c_str(), s.vocab_size,
      s.has_chat_template ? ", chat template" : "");
  const double params = static_cast<double>(s.n_params);
  add("tensors:       %" PRId64 " (%.3f %s parameters, %s)\n", s.n_tensors,
      params >= 1e9 ? params / 1e9 : params / 1e6, params >= 1e9 ? "B" : "M",
      human_bytes(s.tensor_bytes).c_str());
  for (const auto& u : s.types) {
    add("  %-8s %6" PRId64 " tensors %14" PRIu64 " bytes  (%s)\n", u.type.c_str(), u.count, u.bytes,
        human_bytes(u.bytes).c_str());
  }
  const double total = s.tensor_bytes ? static_cast<double>(s.tensor_bytes) : 1.0;
  add("expert bytes:  %" PRIu64 " (%s, %.1f%%)\n", s.expert_bytes,
      human_bytes(s.expert_bytes).c_str(), 100.0 * static_cast<double>(s.expert_bytes) / total);
  add("other bytes:   %" PRIu64 " (%s)\n", s.non_expert_bytes,
      human_bytes(s.non_expert_bytes).c_str());
  if (!s.experts_per_layer.empty()) {
    const auto& first = s.experts_per_layer.front();
    const bool uniform = std::all_of(s.experts_per_layer.begin(), s.experts_per_layer.end(),
                                     [&](const LayerExperts& l) { return l.bytes == first.bytes; });
    if (uniform) {
      add("per layer:     %" PRIu64 " expert bytes (%s) in each of %zu layers\n", first.bytes,
          human_bytes(first.bytes).c_str(), s.experts_per_layer.size());
    } else {
      for (const auto& l : s.experts_per_layer) {
        add("  layer %3" PRId64 ": %" PRIu64 " expert bytes\n", l.layer, l.bytes);
      }
    }
  }
  return out;
}

nlohmann::json summary_to_json(const FileSummary& s) {
  nlohmann::json j;
  j["path"] = s.path;
  j["gguf_version"] = s.version;
  j["file_size"] = s.file_size;
  j["alignment"] = s.alignment;
  j["data_offset"] = s.data_offset;
  j["architecture"] = s.architecture;
  j["name"] = s.name;
  j["file_type"] = s.file_type;
  j["random_weights"] = s.random_weights;
  j["hparams"] = {{"block_count", s.block_count},
                  {"embedding_length", s.embedding_length},
                  {"feed_forward_length", s.feed_forward_length},
                  {"expert_feed_forward_length", s.expert_feed_forward_length},
                  {"head_count", s.head_count},
                  {"head_count_kv", s.head_count_kv},
                  {"context_length", s.context_length},
                  {"rope_dimension_count", s.rope_dimension_count},
                  {"rope_freq_base", s.rope_freq_base},
                  {"layer_norm_rms_epsilon", s.rms_epsilon},
                  {"expert_count", s.expert_count},
                  {"expert_used_count", s.expert_used_count}};
  j["tokenizer"] = {{"model", s.tokenizer_model},
                    {"vocab_size", s.vocab_size},
                    {"has_chat_template", s.has_chat_template}};
  j["n_tensors"] = s.n_tensors;
  j["n_params"] = s.n_params;
  nlohmann::json types = nlohmann::json::array();
  for (const auto& u : s.types) {
    types.push_back(
        {{"type", u.type}, {"count", u.count}, {"bytes", u.bytes}, {"elements", u.elements}});
  }
  j["types"] = types;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.experts_per_layer) {
    layers.push_back({{"layer", l.layer}, {"tensors", l.n_tensors}, {"bytes", l.bytes}});
  }
  j["experts_per_layer"] = layers;
  j["expert_bytes"] = s.expert_bytes;
  j["non_expert_bytes"] = s.non_expert_bytes;
  j["tensor_bytes"] = s.tensor_bytes;
  return j;
}

}  // namespace moe
