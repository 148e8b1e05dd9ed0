#include "tests/gguf_fuzz/model_check.h"

#include "core/model/inspect.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace moe::fuzz {
namespace {

uint64_t touch(const MatrixView& m) {
  if (m.data == nullptr || m.bytes() == 0) return 0;
  return m.data[0] + m.data[m.bytes() - 1];
}

}  // namespace

CheckOutcome check_model(std::span<const uint8_t> bytes, const std::string& name) {
  CheckOutcome out;
  auto f = GgufFile::parse(bytes, name);
  if (!f.ok()) {
    out.message = f.message();
    return out;
  }
  auto summary = summarize_model(**f);
  out.checksum += summary.ok() ? summary->n_tensors : summary.message().size();
  auto m = Model::from_file(std::move(*f));
  if (!m.ok()) {
    out.message = m.message();
    return out;
  }
  const Model& model = **m;
  out.checksum += touch(model.tok_embd()) + touch(model.output());
  for (float v : model.output_norm()) out.checksum += v != 0;
  for (int il = 0; il < model.n_layer(); ++il) {
    const LayerWeights& L = model.layer(il);
    out.checksum += touch(L.wq) + touch(L.wk) + touch(L.wv) + touch(L.wo) + touch(L.router);
    for (const ExpertWeights& e : L.experts)
      out.checksum += touch(e.gate) + touch(e.up) + touch(e.down);
    out.checksum += L.attn_norm.size() + L.ffn_norm.size();
  }
  out.checksum += model.weight_types().size();
  auto td = read_tokenizer_data(model.file());
  if (!td.ok()) {
    out.message = td.message();
    return out;
  }
  auto tok = Tokenizer::create(std::move(*td));
  if (!tok.ok()) {
    out.message = name + ": " + tok.message();  // as open_local_runtime reports it
    return out;
  }
  const auto ids = (*tok)->encode("Hello [INST] world </s>\n", true, true);
  for (int32_t id : ids) {
    if (id < 0 || id >= (*tok)->n_vocab()) __builtin_trap();
  }
  out.checksum += (*tok)->decode(ids).size();
  out.loaded = true;
  return out;
}

}  // namespace moe::fuzz
