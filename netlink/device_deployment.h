#pragma once
// Running a model's experts on LAN devices, as every front end asks for it (`--devices`,
// `--pki`, `--name`, `--insecure`, `--wire` in moe-cli; the app's device settings): the settings, their
// one parser, and the ExecutorFactory that the assembly place calls to connect to the devices
// (discovering them first for `auto`). The CLI and the app share this; neither parses alone.
#include <memory>
#include <string>
#include <vector>

#include "core/deploy/deployment.h"
#include "netlink/activation_codec.h"
#include "netlink/discovery.h"
#include "netlink/remote_expert_executor.h"

namespace moe::net {

struct DeviceSettings {
  bool automatic = false;  ///< `auto`: the devices discovery finds serving this model
  std::vector<DeviceAddress> devices;
  DiscoveryOptions discovery;
  std::string pki;                 ///< PKI folder; empty: default_pki_dir()
  std::string host_name = "host";  ///< this host's certificate: PKI/NAME.crt
  bool insecure = false;           ///< plaintext (--insecure): no PKI, every log line flagged
  WireType wire = WireType::kF32;
  LogFn log;  ///< connection and failure lines; empty: none
};

/// "auto" or "HOST:PORT[/NAME],..." into `s` (automatic / devices); an error names the bad
/// entry and leaves `s` unchanged.
Status parse_devices(const std::string& text, DeviceSettings& s);

/// The factory for Deployment::executor: at assembly it resolves the PKI folder, fingerprints
/// `model_path()` (called then, so a front end may set the path after the devices), discovers
/// devices for `auto`, and connects a RemoteExpertExecutor around the local one.
ExecutorFactory device_executor_factory(std::shared_ptr<const DeviceSettings> settings,
                                        std::function<std::string()> model_path);

}  // namespace moe::net
