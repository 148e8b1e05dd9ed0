#include "netlink/device_deployment.h"

#include <chrono>
#include <thread>

#include "core/deploy/assemble.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"

namespace moe::net {
namespace {

// `auto`: probe, listen a second, keep the devices that serve this model's file.
Result<std::vector<DeviceAddress>> discover_devices(const DeviceSettings& s,
                                                    const std::string& fingerprint) {
  const DiscoveryOptions& o = s.discovery;
  auto browser = DeviceBrowser::start(o);
  if (!browser.ok()) return browser.error();
  std::vector<DeviceAddress> out;
  for (int round = 0; round < 2; ++round) {  // a second probe catches a lost datagram
    if (auto st = (*browser)->probe(); !st.ok()) return st.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  size_t other_model = 0;
  for (const SeenDevice& dev : (*browser)->devices()) {
    if (dev.info.model_fingerprint != fingerprint) {
      ++other_model;
      continue;
    }
    out.push_back({dev.address, dev.info.tcp_port, dev.info.device_id});
  }
  if (out.empty()) {
    return make_error("--devices auto: no device serving this model answered on ", o.group, ":",
                      std::to_string(o.port),
                      other_model > 0 ? " (" + std::to_string(other_model) + " serve another model)"
                                      : std::string(),
                      "; `moe-cli devices` lists what is there, --devices HOST:PORT names them");
  }
  if (s.log) s.log("found " + std::to_string(out.size()) + " by discovery");
  return out;
}

}  // namespace

Status parse_devices(const std::string& text, DeviceSettings& s) {
  if (text == "auto") {
    s.automatic = true;
    s.devices.clear();
    return {};
  }
  auto list = parse_device_list(text);
  if (!list.ok()) return list.error();
  s.automatic = false;
  s.devices = std::move(*list);
  return {};
}

ExecutorFactory device_executor_factory(std::shared_ptr<const DeviceSettings> settings,
                                        std::function<std::string()> model_path) {
  return [s = std::move(settings), model_path = std::move(model_path)](
             const AssemblyContext& ctx) -> Result<std::unique_ptr<ExpertExecutor>> {
    std::string dir;
    if (!s->insecure) {
      auto resolved = pki_dir_or_default(s->pki);
      if (!resolved.ok()) return resolved.error();
      dir = *resolved;
    }
    auto fp = model_fingerprint(model_path());
    if (!fp.ok()) return fp.error();
    RemoteOptions o;
    o.devices = s->devices;
    if (s->automatic) {
      auto found = discover_devices(*s, *fp);
      if (!found.ok()) return found.error();
      o.devices = std::move(*found);
    }
    if (!s->insecure) o.tls = TlsFiles::from_pki_dir(dir, s->host_name);
    o.insecure = s->insecure;
    o.fingerprint = *fp;
    o.wire = s->wire;
    o.log = s->log;
    auto ex = RemoteExpertExecutor::create(ctx, std::move(o));
    if (!ex.ok()) return ex.error();
    return std::unique_ptr<ExpertExecutor>(std::move(*ex));
  };
}

}  // namespace moe::net
