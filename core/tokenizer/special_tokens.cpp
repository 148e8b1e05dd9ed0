#include "core/tokenizer/special_tokens.h"

#include <algorithm>
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

  // 1. The special tokens sorted by their reversed text, bytes compared unsigned (ties keep
  //    the vocabulary order, so the lowest id comes first).
  const size_t n = std::min(data.tokens.size(), data.token_types.size());
  std::vector<uint32_t> order;
  for (size_t i = 0; i < n; ++i) {
    if (is_special(static_cast<TokenType>(data.token_types[i])) && !data.tokens[i].empty()) {
      order.push_back(static_cast<uint32_t>(i));
    }
  }
  if (order.empty()) return;  // no special tokens: split() passes text through
  auto reversed_less = [&](uint32_t a, uint32_t b) {
    const std::string& x = data.tokens[a];
    const std::string& y = data.tokens[b];
    return std::lexicographical_compare(x.rbegin(), x.rend(), y.rbegin(), y.rend(),
                                        [](char c, char d) {
                                          return static_cast<uint8_t>(c) < static_cast<uint8_t>(d);
                                        });
  };
  std::stable_sort(order.begin(), order.end(), reversed_less);

  // 2. The trie of the reversed texts, built in that order: each text shares the path of the
  //    previous one up to their common prefix, so a node's children appear in increasing byte
  //    order. Edges are then grouped by parent (node k's are [first_edge(k), first_edge(k+1))).
  struct Terminal {
    int32_t all = -1, user_defined = -1;
    uint32_t depth = 0;
  };
  struct Edge {
    uint32_t parent, child;
    uint8_t byte;
  };
  std::vector<Terminal> term(1);
  std::vector<Edge> edges;
  std::vector<uint32_t> path{0};  // nodes along the previous text's path, by depth
  const std::string* prev = nullptr;
  for (uint32_t i : order) {
    const std::string& text = data.tokens[i];
    size_t common = 0;
    if (prev != nullptr) {
      while (common < text.size() && common < prev->size() &&
             text[text.size() - 1 - common] == (*prev)[prev->size() - 1 - common])
        ++common;
    }
    path.resize(common + 1);
    for (size_t d = common; d < text.size(); ++d) {
      const auto child = static_cast<uint32_t>(term.size());
      term.push_back({-1, -1, static_cast<uint32_t>(d + 1)});
      edges.push_back({path[d], child, static_cast<uint8_t>(text[text.size() - 1 - d])});
      path.push_back(child);
    }
    Terminal& t = term[path[text.size()]];
    const auto id = static_cast<int32_t>(i);
    if (t.all < 0) t.all = id;
    if (static_cast<TokenType>(data.token_types[i]) == TokenType::kUserDefined &&
        t.user_defined < 0) {
      t.user_defined = id;
    }
    prev = &text;
  }
  const auto n_nodes = static_cast<uint32_t>(term.size());
  nodes_.assign(n_nodes + 1, Node{});
  for (const Edge& e : edges) ++nodes_[e.parent + 1].first_edge;  // counts, then prefix sums
  for (uint32_t k = 1; k <= n_nodes; ++k) nodes_[k].first_edge += nodes_[k - 1].first_edge;
  edge_byte_.resize(edges.size());
  edge_to_.resize(edges.size());
  std::vector<uint32_t> fill(n_nodes, 0);
  for (const Edge& e : edges) {
    const uint32_t at = nodes_[e.parent].first_edge + fill[e.parent]++;
    edge_byte_[at] = e.byte;
    edge_to_[at] = e.child;
    if (e.parent == 0) root_next_[e.byte] = e.child;
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
