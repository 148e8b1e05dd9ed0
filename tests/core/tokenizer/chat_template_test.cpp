// Chat prompts rendered like transformers' apply_chat_template with the real Jinja templates
// (tests/fixtures/tokenizer/chat_templates.json).
#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/chat_template.h"

namespace moe {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::string(MOE_FIXTURE_DIR) + "/tokenizer/chat_templates.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

TEST(ChatTemplate, DetectsFromJinja) {
  const auto fx = fixture();
  EXPECT_EQ(
      detect_chat_template(fx["jinja"]["mistral"].get<std::string>(), ChatTemplateKind::kChatML),
      ChatTemplateKind::kMistral);
  EXPECT_EQ(
      detect_chat_template(fx["jinja"]["chatml"].get<std::string>(), ChatTemplateKind::kMistral),
      ChatTemplateKind::kChatML);
  EXPECT_EQ(
      detect_chat_template(fx["jinja"]["llama3"].get<std::string>(), ChatTemplateKind::kMistral),
      ChatTemplateKind::kLlama3);
  EXPECT_EQ(detect_chat_template(kMixtralChatTemplate, ChatTemplateKind::kChatML),
            ChatTemplateKind::kMistral);
  EXPECT_EQ(detect_chat_template("", ChatTemplateKind::kChatML), ChatTemplateKind::kChatML);
  EXPECT_EQ(detect_chat_template("{{ unknown }}", ChatTemplateKind::kMistral),
            ChatTemplateKind::kMistral);
  EXPECT_EQ(chat_template_name(ChatTemplateKind::kLlama3), "llama3");
}

TEST(ChatTemplate, JinjaInFixtureIsTheBundledOne) {
  const auto fx = fixture();
  EXPECT_EQ(fx["jinja"]["mistral"].get<std::string>(), kMixtralChatTemplate);
  EXPECT_EQ(fx["jinja"]["chatml"].get<std::string>(), kChatMLChatTemplate);
  EXPECT_EQ(fx["jinja"]["llama3"].get<std::string>(), kLlama3ChatTemplate);
}

TEST(ChatTemplate, MatchesTransformersRendering) {
  int n = 0;
  const auto fx = fixture();
  for (const auto& c : fx["cases"]) {
    const std::string name = c["template"];
    const ChatTemplateKind kind = name == "mistral"  ? ChatTemplateKind::kMistral
                                  : name == "chatml" ? ChatTemplateKind::kChatML
                                                     : ChatTemplateKind::kLlama3;
    std::vector<ChatMessage> msgs;
    for (const auto& m : c["messages"]) msgs.push_back({m["role"], m["content"]});
    const std::string bos = c["bos"], eos = c["eos"];
    EXPECT_EQ(apply_chat_template(kind, msgs, c["add_generation_prompt"], bos, eos),
              c["expected"].get<std::string>())
        << name << " case " << n;
    ++n;
  }
  EXPECT_EQ(n, 24);
}

}  // namespace
}  // namespace moe
