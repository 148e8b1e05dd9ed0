#pragma once
// The two demo models.
//  * The trained one (default): a tiny Mixtral-architecture model trained on WordNet 3.0
//    glosses (tools/demo_train.py, docs/demo-model.md), shipped as
//    resources/demo/moe-studio-demo-q8_0.gguf and copied next to the moe-studio binary by the
//    build. find_bundled_demo_model() locates it.
//  * The random one (`moe-studio --random-demo`, and tests): a Mixtral-style MoE with random
//    weights, generated on first use (core/model/model_generator.h, preset "demo"), written by
//    write_demo_model() on the engine's worker thread.
#include <QString>
#include <string>

#include "core/util/status.h"

namespace moe::ui {

/// File name of the trained demo model, next to the binary or in <prefix>/share/moe-studio.
inline constexpr const char* kBundledDemoModelFile = "moe-studio-demo-q8_0.gguf";

/// The trained demo model shipped with the app: `app_dir`/kBundledDemoModelFile, else
/// `app_dir`/../share/moe-studio/kBundledDemoModelFile. Empty when neither exists.
QString find_bundled_demo_model(const QString& app_dir);

/// Writes the demo model to `path` (atomically: a temporary file renamed into place).
Status write_demo_model(const std::string& path);

}  // namespace moe::ui
