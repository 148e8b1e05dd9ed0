#include "core/tokenizer/bundled_vocab.h"

#include <cstdint>
#include <string>

namespace moe {
namespace {

// Plain arrays (no static constructors); converted to TokenizerData on request.
struct BundledVocab {
  const char* model;
  const char* pre;
  const char* const* tokens;
  int32_t n_tokens;
  const int32_t* scores;  // integer scores (-merge rank); n_scores == 0 for gpt2
  int32_t n_scores;
  const uint8_t* types;
  const char* const* merges;
  int32_t n_merges;
  int32_t bos, eos, unk, pad, eot;
  bool add_bos, add_eos, add_space_prefix;
};

#include "core/tokenizer/bundled_vocab_data.inc"

TokenizerData to_data(const BundledVocab& v, std::string_view chat_template) {
  TokenizerData d;
  d.model = v.model;
  d.pre = v.pre;
  d.tokens.assign(v.tokens, v.tokens + v.n_tokens);
  d.scores.reserve(static_cast<size_t>(v.n_scores));
  for (int32_t i = 0; i < v.n_scores; ++i) d.scores.push_back(static_cast<float>(v.scores[i]));
  d.token_types.reserve(static_cast<size_t>(v.n_tokens));
  for (int32_t i = 0; i < v.n_tokens; ++i) d.token_types.push_back(v.types[i]);
  d.merges.assign(v.merges, v.merges + v.n_merges);
  d.bos_id = v.bos;
  d.eos_id = v.eos;
  d.unk_id = v.unk;
  d.pad_id = v.pad;
  d.eot_id = v.eot;
  d.add_bos = v.add_bos;
  d.add_eos = v.add_eos;
  d.add_space_prefix = v.add_space_prefix;
  d.chat_template = std::string(chat_template);
  return d;
}

}  // namespace

// mistralai/Mixtral-8x7B-Instruct-v0.1 tokenizer_config.json chat_template (system text is
// prepended to the first user message).
const std::string_view kMixtralChatTemplate =
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('After the optional system message, conversation roles must "
    "alternate user/assistant/user/assistant/...') }}\n"
    "    {%- endif %}\n"
    "    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.first and system_message is defined %}\n"
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n"
    "        {{- ' ' + message['content'] + eos_token}}\n"
    "    {%- else %}\n"
    "        {{- raise_exception('Only user and assistant roles are supported, with the "
    "exception of an initial optional system message!') }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n";

// ChatML as used by Qwen / OpenHermes (tokenizer_config.json).
const std::string_view kChatMLChatTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

// meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json chat_template.
const std::string_view kLlama3ChatTemplate =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = "
    "bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

Result<TokenizerData> bundled_vocab(std::string_view which) {
  if (which == "llama") return to_data(k_llama, kMixtralChatTemplate);
  if (which == "gpt2") return to_data(k_gpt2, kChatMLChatTemplate);
  return make_error("bundled_vocab: unknown vocabulary '", std::string(which),
                    "' (available: \"llama\", \"gpt2\")");
}

}  // namespace moe
