#pragma once
// The bundled demo: a small Mixtral-style MoE with random weights, generated on first use
// (core/model/model_generator.h, preset "demo") so that `moe-studio --demo` works with no
// download. Called on the engine's worker thread (it writes a file).
#include <string>

#include "core/util/status.h"

namespace moe::ui {

/// Writes the demo model to `path` (atomically: a temporary file renamed into place).
Status write_demo_model(const std::string& path);

}  // namespace moe::ui
