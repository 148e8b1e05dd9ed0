// moe-cli make-model --preset {demo,mixtral-mini,mixtral-8x7b} --type {f16,q8_0,q4_0,q4_k_m}
//                    --seed S -o FILE: a random-weight Mixtral GGUF (see docs/gguf.md).
#include <cstdio>

#include "app/cli/command.h"
#include "core/model/model_generator.h"
#include "core/util/limits.h"

namespace moe::cli {
namespace {

struct MakeModelArgs {
  std::string preset = "demo", type = "q4_k_m", output, vocab = "llama";
  uint64_t seed = 1;
  int threads = 2;
};

int run_make_model(const MakeModelArgs& a) {
  auto preset = model_preset(a.preset);
  if (!preset) {
    std::fprintf(stderr, "moe-cli make-model: %s\n", preset.message().c_str());
    return 2;
  }
  auto mix = parse_weight_mix(a.type);
  if (!mix) {
    std::fprintf(stderr, "moe-cli make-model: %s\n", mix.message().c_str());
    return 2;
  }
  GenerateOptions opt;
  opt.preset = *preset;
  opt.mix = *mix;
  opt.seed = a.seed;
  opt.n_threads = a.threads;
  opt.vocab = a.vocab;
  auto st = generate_model(opt, a.output);
  if (!st) {
    std::fprintf(stderr, "moe-cli make-model: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("wrote %s: preset %s, %s, seed %llu, %zu tensors, %.2f MiB in %.2f s\n",
              a.output.c_str(), a.preset.c_str(), a.type.c_str(),
              static_cast<unsigned long long>(a.seed), st->n_tensors,
              static_cast<double>(st->file_bytes) / (1 << 20), st->seconds);
  return 0;
}

const CommandRegistration kMakeModel{
    90, "make-model", "Write a random-weight Mixtral-architecture GGUF (for tests and demos)",
    [](CLI::App& sub) -> CommandAction {
      auto args = std::make_shared<MakeModelArgs>();
      sub.add_option("--preset", args->preset, "demo | mixtral-mini | mixtral-8x7b")
          ->capture_default_str();
      sub.add_option("--type", args->type, "f16 | q8_0 | q4_0 | q4_k_m")->capture_default_str();
      sub.add_option("--seed", args->seed, "Random seed (std::mt19937_64)")->capture_default_str();
      sub.add_option("--threads", args->threads, "Quantization threads")
          ->check(CLI::Range(1, kMaxThreads))
          ->capture_default_str();
      sub.add_option("--vocab", args->vocab, "Bundled vocabulary: llama | gpt2")
          ->capture_default_str();
      sub.add_option("-o,--output", args->output, "Output .gguf file")->required();
      return [args] { return run_make_model(*args); };
    }};

}  // namespace
}  // namespace moe::cli
