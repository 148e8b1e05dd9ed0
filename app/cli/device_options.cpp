#include "app/cli/device_options.h"

#include <cstdio>
#include <memory>

#include "core/deploy/assemble.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"
#include "netlink/remote_expert_executor.h"

namespace moe::cli {
namespace {

struct DeviceSettings {
  std::vector<net::DeviceAddress> devices;
  std::string pki, host_name = "host";
  net::WireType wire = net::WireType::kF32;
};

}  // namespace

void add_device_options(CLI::App& app, Deployment& d) {
  auto s = std::make_shared<DeviceSettings>();
  app.add_option_function<std::string>(
         "--devices",
         [s, &d](const std::string& text) {
           auto list = net::parse_device_list(text);
           if (!list.ok()) throw CLI::ValidationError("--devices", list.message());
           s->devices = std::move(*list);
           d.executor = [s, &d](const AssemblyContext& ctx)
               -> Result<std::unique_ptr<ExpertExecutor>> {
             std::string dir = s->pki;
             if (dir.empty()) {
               auto def = net::default_pki_dir();
               if (!def.ok()) return def.error();
               dir = *def;
             }
             auto fp = net::model_fingerprint(d.model_path);
             if (!fp.ok()) return fp.error();
             net::RemoteOptions o;
             o.devices = s->devices;
             o.tls = net::TlsFiles::from_pki_dir(dir, s->host_name);
             o.fingerprint = *fp;
             o.wire = s->wire;
             o.log = [](const std::string& line) { std::fprintf(stderr, "devices: %s\n", line.c_str()); };
             auto ex = net::RemoteExpertExecutor::create(ctx, std::move(o));
             if (!ex.ok()) return ex.error();
             return std::unique_ptr<ExpertExecutor>(std::move(*ex));
           };
         },
         "Run experts on LAN devices (moe-node): HOST:PORT[/NAME],... (NAME: the name in the "
         "device's certificate, checked); a device that fails is replaced by this machine")
      ->type_name("LIST");
  app.add_option("--pki", s->pki,
                 "PKI folder of `moe-cli pki` for --devices (default $MOE_PKI_DIR, "
                 "$XDG_CONFIG_HOME/moe-studio/pki, ~/.config/moe-studio/pki)");
  app.add_option("--host-name", s->host_name,
                 "This host's certificate in the PKI folder (devices/NAME.crt)")
      ->capture_default_str();
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
