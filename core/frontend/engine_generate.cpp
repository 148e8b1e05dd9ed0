// One chat turn: template -> tokens -> prefill -> sample/decode loop with streamed text.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <span>
#include <string>

#include "core/frontend/engine_impl.h"
#include "core/sampling/sampler.h"
#include "core/tokenizer/chat_encode.h"

namespace moe {
namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// True when every value is finite: the exponent bits of NaN and ±Inf are all ones. One pass of
// integer ops over n_vocab floats per token (~10 µs for 32 000), nothing beside the forward pass.
bool all_finite(std::span<const float> v) {
  uint32_t bad = 0;
  for (const float x : v) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
}  // namespace

Result<std::vector<int32_t>> EngineImpl::encode_prompt(const GenerateRequest& req,
                                                       int& dropped) const {
  dropped = 0;
  const int n_ctx = session_->n_ctx();
  std::vector<int32_t> tokens;
  if (!req.prompt_ids.empty()) {
    tokens = req.prompt_ids;
  } else if (!req.raw_prompt.empty()) {
    tokens = tokenizer_->encode(req.raw_prompt, tokenizer_->data().add_bos, /*parse_special=*/true);
  } else {
    if (req.messages.empty()) return Error{"generate: no messages"};
    // Leave out the oldest turns until the prompt and room for an answer fit. A user message
    // goes together with the assistant answer after it, so roles keep alternating.
    // Markers as token ids, message content with special-token parsing off (no role
    // injection); each message is tokenized once however many turns are left out.
    const int room = std::clamp(req.max_new_tokens, 1, std::max(1, n_ctx / 2));
    ChatEncoder encoder(*tokenizer_, template_kind_);
    std::vector<ChatMessage> messages = req.messages;
    tokens = encoder.encode(messages, /*add_generation_prompt=*/true);
    for (;;) {
      if (static_cast<int>(tokens.size()) + room <= n_ctx) break;
      size_t first = 0;
      while (first < messages.size() && messages[first].role == "system") ++first;
      if (first + 1 >= messages.size()) break;  // only the last message is left
      size_t n = 1;
      if (messages[first].role == "user" && first + 2 < messages.size() &&
          messages[first + 1].role == "assistant") {
        n = 2;
      }
      messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(first),
                     messages.begin() + static_cast<std::ptrdiff_t>(first + n));
      dropped += static_cast<int>(n);
      tokens = encoder.encode(messages, /*add_generation_prompt=*/true);
    }
  }
  if (tokens.empty()) return Error{"generate: the prompt is empty"};
  if (static_cast<int>(tokens.size()) >= n_ctx) {
    return make_error("the prompt has ", std::to_string(tokens.size()),
                      " tokens; it does not fit the context of ", std::to_string(n_ctx),
                      " tokens (raise --ctx-size)");
  }
  return tokens;
}

// Feeds the prompt in max_batch chunks, checking the stop flag between them.
Status EngineImpl::prefill(std::span<const int32_t> tokens) {
  const int B = session_->max_batch();
  for (size_t i = 0; i < tokens.size(); i += static_cast<size_t>(B)) {
    if (stop_.load(std::memory_order_relaxed)) return {};
    apply_live_settings();
    const size_t n = std::min(tokens.size() - i, static_cast<size_t>(B));
    const bool last = i + n == tokens.size();
    MOE_TRY(session_->eval({tokens.data() + i, n},
                           last ? Session::LogitsWanted::kLast : Session::LogitsWanted::kNone));
  }
  return {};
}

Result<GenerateStats> EngineImpl::generate(const GenerateRequest& req,
                                           const TextCallback& on_text) {
  const auto t0 = Clock::now();
  stop_.store(false, std::memory_order_relaxed);
  MOE_TRY(validate(req.sampler));
  if (req.max_new_tokens < 0) {
    return make_error("generate: max_new_tokens = ", std::to_string(req.max_new_tokens),
                      " is negative");
  }
  for (const auto* ids : {&req.prompt_ids, &req.forced_ids}) {
    for (const int32_t id : *ids) {
      if (id < 0 || id >= tokenizer_->n_vocab()) {
        return make_error("generate: token id ", std::to_string(id), " is outside the vocabulary [0, ",
                          std::to_string(tokenizer_->n_vocab()), ")");
      }
    }
  }
  GenerateStats st;
  auto prompt = encode_prompt(req, st.dropped_messages);
  if (!prompt) return prompt.error();
  std::vector<int32_t> history = std::move(*prompt);
  st.prompt_tokens = static_cast<int>(history.size());
  // At most n_ctx - prompt + 1 tokens can be generated: a huge max_new_tokens (-n 2000000000)
  // must not reserve gigabytes.
  history.reserve(static_cast<size_t>(session_->n_ctx()) + 1);

  const uint64_t first_step = session_->step();
  st.reused_prompt_tokens = reuse_cached_prefix(history, req.reuse_cache);
  const size_t reused = static_cast<size_t>(st.reused_prompt_tokens);
  const Status pre = prefill(std::span(history).subspan(reused));
  // Whatever was evaluated (all, part when stopped, none on error) is what the cache holds.
  cached_.assign(history.begin(), history.begin() + session_->pos());
  MOE_TRY(pre);
  st.prompt_s = since(t0);
  const auto t_decode = Clock::now();

  Sampler sampler(req.sampler);
  // A chat answer starts a new message; a raw prompt's continuation goes on with its text.
  StreamDecoder decoder(*tokenizer_,
                        /*starts_text=*/req.raw_prompt.empty() && req.prompt_ids.empty());
  auto emit = [&](const std::string& text) {
    if (!text.empty() && on_text) on_text(text);
  };
  // Each turn samples from the logits of the last eval, so the token that fills the context
  // is still produced (it just is not evaluated).
  while (true) {
    if (stop_.load(std::memory_order_relaxed)) {
      st.stop_reason = "stopped";
      break;
    }
    if (req.max_new_tokens <= 0) {
      st.stop_reason = "max_tokens";
      break;
    }
    std::span<float> logits = session_->mutable_logits();
    // Rows of the embedding table past the tokenizer's vocabulary (padding) are never sampled.
    const size_t n_tok = std::min(static_cast<size_t>(tokenizer_->n_vocab()), logits.size());
    // NaN/Inf weights, or values that overflow float, would otherwise be sampled as a valid
    // answer ("####"): stop with an error instead.
    if (!all_finite(logits.first(n_tok))) {
      emit(decoder.flush());
      return make_error("the model produced non-finite values at token ",
                        std::to_string(st.generated_tokens + 1), " of the answer (position ",
                        std::to_string(session_->pos()),
                        "; the weights or settings overflow: NaN or Inf in the logits)");
    }
    for (size_t i = n_tok; i < logits.size(); ++i) logits[i] = -INFINITY;
    int32_t tok = sampler.sample(logits, history);
    if (!req.forced_ids.empty()) {
      tok = req.forced_ids[static_cast<size_t>(st.generated_tokens) % req.forced_ids.size()];
    }
    if (st.generated_tokens == 0) st.time_to_first_token_s = since(t0);
    if (!req.ignore_eos && tokenizer_->is_end_of_generation(tok)) {
      st.stop_reason = "eos";
      break;
    }
    history.push_back(tok);
    ++st.generated_tokens;
    emit(decoder.push(tok));
    if (st.generated_tokens >= req.max_new_tokens) {
      st.stop_reason = "max_tokens";
      break;
    }
    if (session_->pos() >= session_->n_ctx()) {
      st.stop_reason = "context_full";
      break;
    }
    apply_live_settings();
    Status s = session_->eval({&tok, 1});
    if (!s.ok()) {
      emit(decoder.flush());
      return s.error();
    }
    cached_.push_back(tok);
  }
  emit(decoder.flush());
  st.decode_s = since(t_decode);
  st.computed_on = backend_->executor().computed_on();  // after: a device may have been lost

  GenerationEvent ge;
  ge.first_step = first_step;
  ge.last_step = session_->step() > 0 ? session_->step() - 1 : 0;
  ge.prompt_tokens = st.prompt_tokens;
  ge.generated_tokens = st.generated_tokens;
  ge.prompt_s = st.prompt_s;
  ge.decode_s = st.decode_s;
  backend_->bus.publish(ge);
  return st;
}

}  // namespace moe
