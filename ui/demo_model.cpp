#include "ui/demo_model.h"

#include "core/model/model_generator.h"

namespace moe::ui {

Status write_demo_model(const std::string& path) {
  auto preset = model_preset("demo");
  if (!preset.ok()) return preset.error();
  GenerateOptions opt;
  opt.preset = preset.value();
  opt.seed = 1;                              // the same demo model on every machine
  auto written = generate_model(opt, path);  // "<path>.tmp" then rename: never half a file
  if (!written.ok()) return written.error();
  return {};
}

}  // namespace moe::ui
