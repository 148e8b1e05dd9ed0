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

// Mixtral-8x7B-Instruct: <s> [INST] (system\n\n)user [/INST] assistant</s> [INST] ...
std::string render_mistral(const std::vector<ChatMessage>& msgs, std::string_view bos,
                           std::string_view eos) {
  std::string out(bos);
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
      out += ' ';
      out += m.content;
      out += eos;
    } else {
      out += " [INST] ";
      if (i == first && has_system) {
        out += system;
        out += "\n\n";
      }
      out += m.content;
      out += " [/INST]";
    }
  }
  return out;
}

std::string render_chatml(const std::vector<ChatMessage>& msgs, bool gen) {
  std::string out;
  for (const ChatMessage& m : msgs) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(const std::vector<ChatMessage>& msgs, bool gen, std::string_view bos) {
  std::string out(bos);
  for (const ChatMessage& m : msgs) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
    out += trim(m.content);
    out += "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
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

std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
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

}  // namespace moe
