// Renders the three chat formats exactly as their reference Jinja templates do (see
// bundled_vocab.cpp for the Jinja sources; tests compare with transformers' output).
#include "core/tokenizer/chat_template.h"

namespace moe {
namespace {

// Jinja's `trim` (Python str.strip()) for the whitespace a chat message can carry.
std::string_view trim(std::string_view s) {
  constexpr std::string_view kWs = " \t\n\r\v\f";
  const size_t b = s.find_first_not_of(kWs);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kWs) - b + 1);
}

// Appends to the segment list: text runs merge, markers stay single.
class Segments {
 public:
  Segments& text(std::string_view t) {
    if (t.empty()) return *this;
    if (out_.empty() || out_.back().marker) out_.push_back({std::string(), false});
    out_.back().text += t;
    return *this;
  }
  Segments& marker(std::string_view m) {
    if (!m.empty()) out_.push_back({std::string(m), true});
    return *this;
  }
  std::vector<ChatSegment> take() { return std::move(out_); }

 private:
  std::vector<ChatSegment> out_;
};

// Mixtral-8x7B-Instruct: <s> [INST] (system\n\n)user [/INST] assistant</s> [INST] ...
std::vector<ChatSegment> render_mistral(const std::vector<ChatMessage>& msgs, std::string_view bos,
                                        std::string_view eos) {
  Segments out;
  out.marker(bos);
  size_t first = 0;
  std::string_view system;
  bool has_system = false;
  if (!msgs.empty() && msgs[0].role == "system") {
    system = msgs[0].content;
    has_system = true;
    first = 1;
  }
  for (size_t i = first; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "assistant") {
      out.text(" ").text(m.content).marker(eos);
    } else {
      out.text(" ").marker("[INST]").text(" ");
      if (i == first && has_system) out.text(system).text("\n\n");
      out.text(m.content).text(" ").marker("[/INST]");
    }
  }
  return out.take();
}

std::vector<ChatSegment> render_chatml(const std::vector<ChatMessage>& msgs, bool gen) {
  Segments out;
  for (const ChatMessage& m : msgs) {
    out.marker("<|im_start|>").text(m.role).text("\n").text(m.content).marker("<|im_end|>");
    out.text("\n");
  }
  if (gen) out.marker("<|im_start|>").text("assistant\n");
  return out.take();
}

std::vector<ChatSegment> render_llama3(const std::vector<ChatMessage>& msgs, bool gen,
                                       std::string_view bos) {
  Segments out;
  out.marker(bos);
  for (const ChatMessage& m : msgs) {
    out.marker("<|start_header_id|>").text(m.role).marker("<|end_header_id|>").text("\n\n");
    out.text(trim(m.content)).marker("<|eot_id|>");
  }
  if (gen)
    out.marker("<|start_header_id|>").text("assistant").marker("<|end_header_id|>").text("\n\n");
  return out.take();
}

}  // namespace

ChatTemplateKind detect_chat_template(std::string_view jinja, ChatTemplateKind fallback) {
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatTemplateKind::kLlama3;
  if (jinja.find("<|im_start|>") != std::string_view::npos) return ChatTemplateKind::kChatML;
  if (jinja.find("[INST]") != std::string_view::npos) return ChatTemplateKind::kMistral;
  return fallback;
}

std::string_view chat_template_name(ChatTemplateKind kind) {
  switch (kind) {
    case ChatTemplateKind::kMistral:
      return "mistral";
    case ChatTemplateKind::kChatML:
      return "chatml";
    case ChatTemplateKind::kLlama3:
      return "llama3";
  }
  return "unknown";
}

std::vector<ChatSegment> render_chat_segments(ChatTemplateKind kind,
                                              const std::vector<ChatMessage>& messages,
                                              bool add_generation_prompt, std::string_view bos_text,
                                              std::string_view eos_text) {
  switch (kind) {
    case ChatTemplateKind::kMistral:
      return render_mistral(messages, bos_text, eos_text);
    case ChatTemplateKind::kChatML:
      return render_chatml(messages, add_generation_prompt);
    case ChatTemplateKind::kLlama3:
      return render_llama3(messages, add_generation_prompt, bos_text);
  }
  return {};
}

std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_text,
                                std::string_view eos_text) {
  std::string out;
  for (const ChatSegment& s :
       render_chat_segments(kind, messages, add_generation_prompt, bos_text, eos_text)) {
    out += s.text;
  }
  return out;
}

}  // namespace moe
