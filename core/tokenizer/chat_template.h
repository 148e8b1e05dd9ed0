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

/// One piece of a rendered prompt: the template's own markers ("[INST]", "<|im_start|>", BOS,
/// EOS) apart from text (message content, roles, the template's spaces and newlines), so a
/// prompt can be encoded with markers as token ids and content as plain text (chat_encode.h).
struct ChatSegment {
  std::string text;
  bool marker = false;
};

/// The conversation as segments; concatenated, their texts are apply_chat_template().
std::vector<ChatSegment> render_chat_segments(ChatTemplateKind kind,
                                              const std::vector<ChatMessage>& messages,
                                              bool add_generation_prompt, std::string_view bos_text,
                                              std::string_view eos_text = "</s>");

/// Renders the conversation as prompt text (special tokens as text). For display and tests:
/// a model's prompt is encoded with encode_chat() (chat_encode.h), which keeps text inside
/// messages from turning into control tokens. add_generation_prompt appends the assistant header.
/// `bos_text` is the BOS token's text ("<s>", "<|begin_of_text|>") for templates that spell it
/// out; `eos_text` closes assistant turns in the Mistral format ("</s>").
/// Mistral: a leading system message is prepended to the first user message ("sys\n\nuser");
/// other system messages are rendered as user turns (the reference template would raise).
std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_text,
                                std::string_view eos_text = "</s>");

}  // namespace moe
