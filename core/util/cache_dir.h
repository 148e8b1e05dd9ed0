#pragma once
// The per-user cache folder for what this machine measures or records once and reuses (kernel
// tuning, routing profiles): $MOE_CACHE_DIR, else $XDG_CACHE_HOME/moe-studio, else
// $HOME/.cache/moe-studio. Created (mode 0700) on first use.
#include <string>

#include "core/util/status.h"

namespace moe {

/// The folder (created if missing); an error names it when it cannot be created.
Result<std::string> user_cache_dir();

}  // namespace moe
