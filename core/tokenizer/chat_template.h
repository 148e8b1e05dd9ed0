#pragma once
// Chat prompt formats. The kind is recognised from tokenizer.chat_template (Jinja source) by
// its markers; we render it ourselves rather than run Jinja.
#include <string>
#include <string_view>
#include <vector>

namespace moe {

struct ChatMessage {
  std::string role;  ///< "system", "user" or "assistant"
  std::string content;
};

enum class ChatTemplateKind { kMistral, kChatML, kLlama3 };

/// Recognises the template; an empty or unknown template falls back to `fallback`
/// (documented in docs/engine.md: Mistral [INST] for llama-vocab models, ChatML otherwise).
ChatTemplateKind detect_chat_template(std::string_view jinja, ChatTemplateKind fallback);
std::string_view chat_template_name(ChatTemplateKind kind);

/// Renders the conversation as prompt text (special tokens as text, to be encoded with
/// parse_special = true). add_generation_prompt appends the assistant header.
/// `bos_text` is the BOS token's text ("<s>", "<|begin_of_text|>") for templates that spell it
/// out; `eos_text` closes assistant turns in the Mistral format ("</s>").
/// Mistral: a leading system message is prepended to the first user message ("sys\n\nuser");
/// other system messages are rendered as user turns (the reference template would raise).
std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_text,
                                std::string_view eos_text = "</s>");

}  // namespace moe
