#include "core/tokenizer/special_tokens.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace moe {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

bool is_special(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

}  // namespace

void SpecialTokenMatcher::build(const TokenizerData& data) {
  nodes_.clear();
  edge_byte_.clear();
  edge_to_.clear();
  std::fill(std::begin(root_next_), std::end(root_next_), 0u);

  // 1. A trie of the reversed texts; a terminal keeps the lowest id with its text (all types)
  //    and the lowest user-defined id. Edges in a hash map while building.
  struct Terminal {
    int32_t all = -1, user_defined = -1;
    uint32_t depth = 0;
  };
  std::vector<Terminal> term(1);
  std::unordered_map<uint64_t, uint32_t> edges;  // (parent << 8 | byte) -> child
  const size_t n = std::min(data.tokens.size(), data.token_types.size());
  for (size_t i = 0; i < n; ++i) {
    const auto type = static_cast<TokenType>(data.token_types[i]);
    const std::string& text = data.tokens[i];
    if (!is_special(type) || text.empty()) continue;
    uint32_t node = 0;
    for (auto it = text.rbegin(); it != text.rend(); ++it) {
      const uint64_t key = (uint64_t{node} << 8) | static_cast<uint8_t>(*it);
      const auto [pos, added] = edges.try_emplace(key, static_cast<uint32_t>(term.size()));
      if (added) term.push_back({-1, -1, term[node].depth + 1});
      node = pos->second;
    }
    const auto id = static_cast<int32_t>(i);
    if (term[node].all < 0) term[node].all = id;
    if (type == TokenType::kUserDefined && term[node].user_defined < 0) {
      term[node].user_defined = id;
    }
  }
  if (term.size() == 1) return;  // no special tokens: split() passes text through

  // 2. Edges as one array sorted by (parent, byte); node k's are [first_edge(k), first_edge(k+1)).
  std::vector<std::pair<uint64_t, uint32_t>> sorted(edges.begin(), edges.end());
  edges = {};
  std::sort(sorted.begin(), sorted.end());
  const auto n_nodes = static_cast<uint32_t>(term.size());
  nodes_.assign(n_nodes + 1, Node{});
  edge_byte_.resize(sorted.size());
  edge_to_.resize(sorted.size());
  size_t e = 0;
  for (uint32_t k = 0; k <= n_nodes; ++k) {
    while (e < sorted.size() && (sorted[e].first >> 8) < k) ++e;
    nodes_[k].first_edge = static_cast<uint32_t>(e);
  }
  for (size_t i = 0; i < sorted.size(); ++i) {
    edge_byte_[i] = static_cast<uint8_t>(sorted[i].first & 0xff);
    edge_to_[i] = sorted[i].second;
    if ((sorted[i].first >> 8) == 0) root_next_[edge_byte_[i]] = edge_to_[i];
  }

  // 3. Failure links and outputs, breadth first (a failure target is shallower, so done).
  std::vector<uint32_t> queue{0};
  queue.reserve(n_nodes);
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const uint32_t u = queue[qi];
    for (uint32_t k = nodes_[u].first_edge; k < nodes_[u + 1].first_edge; ++k) {
      const uint32_t c = edge_to_[k];
      const uint32_t f = u == 0 ? 0 : step(nodes_[u].fail, edge_byte_[k]);
      Node& node = nodes_[c];
      node.fail = f;
      node.all = term[c].all >= 0 ? Output{term[c].all, term[c].depth} : nodes_[f].all;
      node.user_defined = term[c].user_defined >= 0 ? Output{term[c].user_defined, term[c].depth}
                                                    : nodes_[f].user_defined;
      queue.push_back(c);
    }
  }
}

uint32_t SpecialTokenMatcher::next(uint32_t state, uint8_t byte) const {
  if (state == 0) return root_next_[byte] != 0 ? root_next_[byte] : kNone;
  const auto first = edge_byte_.begin() + nodes_[state].first_edge;
  const auto last = edge_byte_.begin() + nodes_[state + 1].first_edge;
  const auto it = std::lower_bound(first, last, byte);
  return it != last && *it == byte ? edge_to_[static_cast<size_t>(it - edge_byte_.begin())] : kNone;
}

uint32_t SpecialTokenMatcher::step(uint32_t state, uint8_t byte) const {
  for (;;) {
    const uint32_t to = next(state, byte);
    if (to != kNone) return to;
    if (state == 0) return 0;
    state = nodes_[state].fail;
  }
}

void SpecialTokenMatcher::split(std::string_view text, bool parse_special,
                                std::vector<Fragment>& out) const {
  if (nodes_.empty()) {
    if (!text.empty()) out.push_back({text, -1});
    return;
  }
  // Backward pass: the longest eligible special starting at each position (decreasing order).
  struct Match {
    size_t start;
    uint32_t len;
    int32_t id;
  };
  std::vector<Match> found;
  uint32_t state = 0;
  for (size_t i = text.size(); i-- > 0;) {
    state = step(state, static_cast<uint8_t>(text[i]));
    const Output& o = parse_special ? nodes_[state].all : nodes_[state].user_defined;
    if (o.id >= 0) found.push_back({i, o.len, o.id});
  }
  // Forward greedy walk: the leftmost start wins, then the text after it.
  size_t start = 0;  // start of the pending raw text
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    if (it->start < start) continue;  // inside the special just taken
    if (it->start > start) out.push_back({text.substr(start, it->start - start), -1});
    out.push_back({text.substr(it->start, it->len), it->id});
    start = it->start + it->len;
  }
  if (start < text.size()) out.push_back({text.substr(start), -1});
}

}  // namespace moe
