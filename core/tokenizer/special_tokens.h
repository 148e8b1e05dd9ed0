#pragma once
// Finds control / user-defined token texts in a prompt ("[INST]", "<|im_start|>") before the
// model's own tokenizer runs: leftmost-longest, in time linear in the text whatever the number
// of special tokens (a vocabulary with 60k user-defined tokens is as fast as one with 3).
//
// Method: Aho–Corasick over the *reversed* token texts, run over the reversed text. At each
// position i of that backward scan the automaton's state names the longest token text that
// *starts* at i in the forward text (the longest reversed pattern ending there), so one pass
// gives "longest special at i" for every i; a forward greedy walk over those positions then
// yields exactly the old semantics: at the leftmost position where a special starts, take the
// longest one, continue after it. Ties (two tokens with the same text) go to the lower id.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace moe {

class SpecialTokenMatcher {
 public:
  /// Indexes the control, user-defined and unknown tokens of `data` (non-empty texts).
  void build(const TokenizerData& data);
  struct Fragment {
    std::string_view text;  ///< raw text when id < 0
    int32_t id = -1;
  };
  /// Splits text into raw runs and special tokens. parse_special = false still matches
  /// user-defined tokens (as llama.cpp does), never control tokens.
  void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

 private:
  struct Output {
    int32_t id = -1;  ///< longest token text that is a suffix of this state (-1: none)
    uint32_t len = 0;
  };
  struct Node {
    uint32_t fail = 0;
    uint32_t first_edge = 0;   ///< edges of node k: [nodes_[k].first_edge, nodes_[k+1].first_edge)
    Output all, user_defined;  ///< for parse_special = true / false
  };
  uint32_t next(uint32_t state, uint8_t byte) const;  ///< goto; kNone when absent
  uint32_t step(uint32_t state, uint8_t byte) const;  ///< goto with failure links

  std::vector<Node> nodes_;  ///< 0 is the root; one sentinel at the end (first_edge)
  std::vector<uint8_t> edge_byte_;
  std::vector<uint32_t> edge_to_;  ///< sorted by (parent, byte)
  uint32_t root_next_[256] = {};   ///< the root's goto, dense (0 = stay at the root)
};

}  // namespace moe
