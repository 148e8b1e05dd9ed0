#include "app/cli/device_options.h"

#include <cstdio>
#include <memory>

#include "netlink/device_deployment.h"

namespace moe::cli {

void add_device_options(CLI::App& app, Deployment& d) {
  auto s = std::make_shared<net::DeviceSettings>();
  s->log = [](const std::string& line) { std::fprintf(stderr, "devices: %s\n", line.c_str()); };
  app.add_option_function<std::string>(
         "--devices",
         [s, &d](const std::string& text) {
           if (auto st = net::parse_devices(text, *s); !st.ok()) {
             throw CLI::ValidationError("--devices", st.message());
           }
           d.executor = net::device_executor_factory(s, [&d] { return d.model_path; });
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
