#include "core/model/model.h"

#include <map>
#include <new>
#include <set>

#include "core/quant/quant.h"

namespace moe {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "{";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "}";
}

std::string blk(int il, const char* name) {
  return "blk." + std::to_string(il) + "." + name + ".weight";
}

}  // namespace

MatrixView slice_view(const TensorInfo& t, int64_t index) {
  MatrixView m;
  m.type = t.type;
  m.n_in = t.ne(0);
  m.n_out = t.ne(1);
  m.row_stride = row_bytes(t.type, m.n_in);
  m.data = t.data + static_cast<size_t>(index) * m.row_stride * static_cast<size_t>(m.n_out);
  return m;
}

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  try {
    auto file = GgufFile::open(path);
    if (!file) return file.error();
    return from_file(std::move(*file));
  } catch (const std::bad_alloc&) {
    return make_error(path, ": out of memory while loading the model");
  }
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<Model> m;  // outside the try: the file (and its name) outlive a bad_alloc
  try {
    m.reset(new Model());
    m->file_ = std::move(file);
    auto hp = read_hparams(*m->file_);
    if (!hp) return hp.error();
    m->hp_ = *hp;
    MOE_TRY(check_hparams_against_tensors(m->hp_, *m->file_));
    MOE_TRY(m->bind());
    return m;
  } catch (const std::bad_alloc&) {
    const GgufFile& f = file ? *file : *m->file_;
    return make_error(f.path(), ": out of memory while loading the model");
  }
}

// Looks a tensor up and checks it is a computable 2-D {n_in, n_out} matrix.
Result<MatrixView> Model::matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
  const TensorInfo* t = file_->find_tensor(name);
  if (!t) return make_error(file_->path(), ": missing tensor '", name, "'");
  const TypeTraits* tt = type_traits(t->type);
  if (!tt || !tt->computable) {
    return make_error(file_->path(), ": tensor '", name, "' has type ", type_name(t->type),
                      ", which this engine cannot compute");
  }
  if (t->ne(0) % tt->block_size != 0) {
    return make_error(file_->path(), ": tensor '", name, "' row length ", std::to_string(t->ne(0)),
                      " is not a multiple of the ", type_name(t->type), " block size");
  }
  if (t->shape.size() > 2 || t->ne(0) != n_in || (n_out > 0 && t->ne(1) != n_out)) {
    return make_error(file_->path(), ": tensor '", name, "' has shape ", shape_str(t->shape),
                      ", expected {", std::to_string(n_in), ", ",
                      n_out > 0 ? std::to_string(n_out) : std::string("n_vocab"), "}");
  }
  return slice_view(*t, 0);
}

Result<std::vector<float>> Model::vector(const std::string& name, int64_t n) const {
  const TensorInfo* t = file_->find_tensor(name);
  if (!t) return make_error(file_->path(), ": missing tensor '", name, "'");
  const TypeTraits* tt = type_traits(t->type);
  if (!tt || !tt->computable || n % tt->block_size != 0) {
    return make_error(file_->path(), ": tensor '", name, "' has unsupported type ",
                      type_name(t->type));
  }
  if (t->shape.size() != 1 || t->ne(0) != n) {
    return make_error(file_->path(), ": tensor '", name, "' has shape ", shape_str(t->shape),
                      ", expected {", std::to_string(n), "}");
  }
  std::vector<float> v(static_cast<size_t>(n));
  dequantize_row(t->type, t->data, v.data(), n);
  return v;
}

Status Model::bind() {
  auto emb = matrix("token_embd.weight", hp_.n_embd, 0);
  if (!emb) return emb.error();
  tok_embd_ = *emb;
  hp_.n_vocab = static_cast<int>(tok_embd_.n_out);
  if (hp_.n_vocab < 1) return make_error(file_->path(), ": token_embd.weight has no rows");
  auto norm = vector("output_norm.weight", hp_.n_embd);
  if (!norm) return norm.error();
  output_norm_ = std::move(*norm);
  if (file_->find_tensor("output.weight")) {
    auto out = matrix("output.weight", hp_.n_embd, hp_.n_vocab);
    if (!out) return out.error();
    output_ = *out;
  } else {
    output_ = tok_embd_;  // tied embeddings (llama.cpp does the same)
  }
  non_expert_bytes_ = tok_embd_.bytes() + (output_.data != tok_embd_.data ? output_.bytes() : 0);
  // One layer at a time: a block_count larger than the blocks present fails at the first
  // missing tensor, having sized nothing from the count.
  for (int il = 0; il < hp_.n_layer; ++il) MOE_TRY(bind_layer(il));
  return {};
}

Status Model::bind_layer(int il) {
  LayerWeights& L = layers_.emplace_back();
  const int64_t n_embd = hp_.n_embd, n_kv = int64_t{hp_.n_head_kv} * hp_.head_dim;
  auto an = vector(blk(il, "attn_norm"), n_embd);
  if (!an) return an.error();
  L.attn_norm = std::move(*an);
  auto fn = vector(blk(il, "ffn_norm"), n_embd);
  if (!fn) return fn.error();
  L.ffn_norm = std::move(*fn);
  struct {
    const char* name;
    MatrixView* dst;
    int64_t n_in, n_out;
  } mats[] = {{"attn_q", &L.wq, n_embd, n_embd},
              {"attn_k", &L.wk, n_embd, n_kv},
              {"attn_v", &L.wv, n_embd, n_kv},
              {"attn_output", &L.wo, n_embd, n_embd}};
  for (auto& m : mats) {
    auto v = matrix(blk(il, m.name), m.n_in, m.n_out);
    if (!v) return v.error();
    *m.dst = *v;
    non_expert_bytes_ += v->bytes();
  }
  if (hp_.moe) {
    auto r = matrix(blk(il, "ffn_gate_inp"), n_embd, hp_.n_expert);
    if (!r) return r.error();
    L.router = *r;
    non_expert_bytes_ += r->bytes();
  }
  return bind_experts(il, L);
}

// Three layouts: merged ffn_*_exps {n_in, n_out, n_expert}; per-expert ffn_*.E; dense ffn_*.
Status Model::bind_experts(int il, LayerWeights& L) {
  const int64_t n_embd = hp_.n_embd, n_ff = hp_.moe ? hp_.n_expert_ff : hp_.n_ff;
  const int n_expert = hp_.n_expert;
  L.experts.resize(static_cast<size_t>(n_expert));
  struct Part {
    const char* name;
    MatrixView ExpertWeights::*member;
    int64_t n_in, n_out;
  } parts[] = {{"ffn_gate", &ExpertWeights::gate, n_embd, n_ff},
               {"ffn_up", &ExpertWeights::up, n_embd, n_ff},
               {"ffn_down", &ExpertWeights::down, n_ff, n_embd}};
  for (const Part& part : parts) {
    const std::string merged = blk(il, (std::string(part.name) + "_exps").c_str());
    if (hp_.moe && file_->find_tensor(merged)) {
      const TensorInfo* t = file_->find_tensor(merged);
      const TypeTraits* tt = type_traits(t->type);
      if (!tt || !tt->computable || part.n_in % tt->block_size != 0) {
        return make_error(file_->path(), ": tensor '", merged, "' has type ", type_name(t->type),
                          ", which this engine cannot compute for rows of ",
                          std::to_string(part.n_in));
      }
      if (t->shape.size() != 3 || t->ne(0) != part.n_in || t->ne(1) != part.n_out ||
          t->ne(2) != n_expert) {
        return make_error(file_->path(), ": tensor '", merged, "' has shape ", shape_str(t->shape),
                          ", expected {", std::to_string(part.n_in), ", ",
                          std::to_string(part.n_out), ", ", std::to_string(n_expert), "}");
      }
      for (int e = 0; e < n_expert; ++e)
        L.experts[static_cast<size_t>(e)].*part.member = slice_view(*t, e);
      expert_tensors_.insert(t);
      continue;
    }
    for (int e = 0; e < n_expert; ++e) {
      const std::string name = hp_.moe ? "blk." + std::to_string(il) + "." + part.name + "." +
                                             std::to_string(e) + ".weight"
                                       : blk(il, part.name);
      auto v = matrix(name, part.n_in, part.n_out);
      if (!v) {
        if (hp_.moe && !file_->find_tensor(name)) {
          return make_error(file_->path(), ": missing tensor '", merged, "' (or per-expert '", name,
                            "')");
        }
        return v.error();
      }
      L.experts[static_cast<size_t>(e)].*part.member = *v;
      expert_tensors_.insert(file_->find_tensor(name));
    }
  }
  for (const auto& e : L.experts) expert_bytes_ += e.bytes();
  return {};
}

std::string Model::weight_types() const {
  std::set<std::string> names;
  for (const auto& L : layers_) {
    for (const auto& e : L.experts) {
      names.insert(std::string(type_name(e.gate.type)));
      names.insert(std::string(type_name(e.up.type)));
      names.insert(std::string(type_name(e.down.type)));
    }
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "/") + n;
  return names.size() > 1 ? "mixed " + out : out;
}

}  // namespace moe
