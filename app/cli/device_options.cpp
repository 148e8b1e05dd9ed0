#include "app/cli/device_options.h"

#include <cstdio>
#include <chrono>
#include <memory>
#include <thread>

#include "core/deploy/assemble.h"
#include "netlink/discovery.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"
#include "netlink/remote_expert_executor.h"

namespace moe::cli {
namespace {

struct DeviceSettings {
  bool automatic = false;  // --devices auto: the devices discovery finds for this model
  net::DiscoveryOptions discovery;
  std::vector<net::DeviceAddress> devices;
  std::string pki, host_name = "host";
  bool insecure = false;
  net::WireType wire = net::WireType::kF32;
};

// --devices auto: probe, listen a second, keep the devices that serve this model's file.
Result<std::vector<net::DeviceAddress>> discover_devices(const net::DiscoveryOptions& o,
                                                         const std::string& fingerprint) {
  auto browser = net::DeviceBrowser::start(o);
  if (!browser.ok()) return browser.error();
  std::vector<net::DeviceAddress> out;
  for (int round = 0; round < 2; ++round) {  // a second probe catches a lost datagram
    if (auto st = (*browser)->probe(); !st.ok()) return st.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  size_t other_model = 0;
  for (const net::SeenDevice& dev : (*browser)->devices()) {
    if (dev.info.model_fingerprint != fingerprint) {
      ++other_model;
      continue;
    }
    out.push_back({dev.address, dev.info.tcp_port, dev.info.device_id});
  }
  if (out.empty()) {
    return make_error("--devices auto: no device serving this model answered on ", o.group, ":",
                      std::to_string(o.port),
                      other_model > 0 ? " (" + std::to_string(other_model) +
                                            " serve another model)"
                                      : std::string(),
                      "; `moe-cli devices` lists what is there, --devices HOST:PORT names them");
  }
  std::fprintf(stderr, "devices: found %zu by discovery\n", out.size());
  return out;
}

}  // namespace

void add_device_options(CLI::App& app, Deployment& d) {
  auto s = std::make_shared<DeviceSettings>();
  app.add_option_function<std::string>(
         "--devices",
         [s, &d](const std::string& text) {
           s->automatic = text == "auto";
           if (!s->automatic) {
             auto list = net::parse_device_list(text);
             if (!list.ok()) throw CLI::ValidationError("--devices", list.message());
             s->devices = std::move(*list);
           }
           d.executor = [s, &d](const AssemblyContext& ctx)
               -> Result<std::unique_ptr<ExpertExecutor>> {
             std::string dir = s->pki;
             if (dir.empty() && !s->insecure) {
               auto def = net::default_pki_dir();
               if (!def.ok()) return def.error();
               dir = *def;
             }
             auto fp = net::model_fingerprint(d.model_path);
             if (!fp.ok()) return fp.error();
             net::RemoteOptions o;
             o.devices = s->devices;
             if (s->automatic) {
               auto found = discover_devices(s->discovery, *fp);
               if (!found.ok()) return found.error();
               o.devices = std::move(*found);
             }
             if (!s->insecure) o.tls = net::TlsFiles::from_pki_dir(dir, s->host_name);
             o.insecure = s->insecure;
             o.fingerprint = *fp;
             o.wire = s->wire;
             o.log = [](const std::string& line) { std::fprintf(stderr, "devices: %s\n", line.c_str()); };
             auto ex = net::RemoteExpertExecutor::create(ctx, std::move(o));
             if (!ex.ok()) return ex.error();
             return std::unique_ptr<ExpertExecutor>(std::move(*ex));
           };
         },
         "Run experts on LAN devices (moe-node): HOST:PORT[/NAME],... (NAME: the name in the "
         "device's certificate, checked), or auto: the devices that announce this model on the "
         "LAN (see moe-cli devices); a device that fails is replaced by this machine")
      ->type_name("LIST");
  app.add_option("--discovery-interface", s->discovery.interface_address,
                 "--devices auto: IPv4 address of the interface to discover on");
  app.add_option("--discovery-port", s->discovery.port, "--devices auto: UDP port")
      ->capture_default_str();
  app.add_option("--pki", s->pki,
                 "PKI folder of `moe-cli pki` for --devices (default $MOE_PKI_DIR, "
                 "$XDG_CONFIG_HOME/moe-studio/pki, ~/.config/moe-studio/pki)");
  app.add_option("--name,--host-name", s->host_name,
                 "This host's certificate in the PKI folder (devices/NAME.crt)")
      ->capture_default_str();
  app.add_option_function<float>(
         "--lan-theta",
         [&d](float theta) {
           d.selection.selector = SelectorKind::kWlr;
           d.selection.latency = LatencyKind::kMeasured;
           d.selection.theta = theta;
         },
         "WDMoE selection on the devices' measured latency (round trip + compute, per device, "
         "EWMA): at THETA > 0 a low-weight expert on a slow or distant device may be left out; "
         "0 = exact top-k")
      ->check(CLI::Range(0.0, 1.0))
      ->needs("--devices")
      ->excludes("--tier-theta");
  app.add_flag("--insecure", s->insecure,
               "--devices without TLS: activations (derived from the prompt) cross the network "
               "in plaintext, readable by anyone on the path; the devices must run with "
               "--insecure too. Every log line says so");
  app.add_option_function<std::string>(
      "--wire",
      [s](const std::string& t) {
        if (!net::parse_wire_type(t, &s->wire)) {
          throw CLI::ValidationError("--wire", "'" + t + "': f32, f16, bf16 or int8");
        }
      },
      "Activations on the wire: f32 (exact, default), f16, bf16, int8");
}

}  // namespace moe::cli
