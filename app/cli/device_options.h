#pragma once
// --devices, --pki, --host-name, --wire: run the experts of a model on LAN devices (moe-node)
// through the executor seam (Deployment::executor). Part of add_deployment_options.
#include "app/cli/command.h"
#include "core/deploy/deployment.h"

namespace moe::cli {

void add_device_options(CLI::App& app, Deployment& d);

}  // namespace moe::cli
