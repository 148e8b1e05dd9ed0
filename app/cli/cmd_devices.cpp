// moe-cli devices: lists the expert devices (moe-node) that announce themselves on this LAN by
// UDP multicast (netlink/discovery.h). Probes, listens for --wait, prints what answered; when
// nothing did, says why that may be and what to do instead (exit 1).
#include <cstdio>
#include <thread>

#include "app/cli/command.h"
#include "netlink/discovery.h"

namespace moe::cli {
namespace {

struct DevicesArgs {
  net::DiscoveryOptions o;
  int wait_ms = 2000;
};

int run_devices(const DevicesArgs& a) {
  auto browser = net::DeviceBrowser::start(a.o, [](const std::string& l) {
    std::fprintf(stderr, "%s\n", l.c_str());
  });
  if (!browser.ok()) {
    std::fprintf(stderr, "moe-cli devices: %s\n", browser.message().c_str());
    return 1;
  }
  if (auto st = (*browser)->probe(); !st.ok()) {
    std::fprintf(stderr, "moe-cli devices: %s\n", st.message().c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(a.wait_ms));
  const auto seen = (*browser)->devices();
  if (seen.empty()) {
    std::fprintf(stderr,
                 "moe-cli devices: no device answered on %s:%u within %d ms%s.\n"
                 "  Is moe-node running (it announces unless --no-announce)? Multicast may be "
                 "blocked between here and the devices: a firewall (UDP port %u), Wi-Fi client "
                 "isolation, or a switch that drops multicast; on a machine with several "
                 "interfaces give --discovery-interface.\n"
                 "  Without discovery, name the devices: --devices HOST:PORT[/NAME],...\n",
                 a.o.group.c_str(), a.o.port, a.wait_ms,
                 a.o.interface_address.empty() ? ""
                                               : (" via " + a.o.interface_address).c_str(),
                 a.o.port);
    return 1;
  }
  std::printf("%-20s %-22s %-8s %-10s %-10s %s\n", "device", "address", "experts", "GFLOP/s",
              "memory", "model fingerprint");
  for (const auto& d : seen) {
    size_t served = 0;
    for (uint8_t s : d.info.served) served += s;
    std::printf("%-20s %-22s %-8zu %-10.1f %-10.1f %s\n", d.info.device_id.c_str(),
                (d.address + ":" + std::to_string(d.info.tcp_port)).c_str(),
                d.info.n_layer > 0 ? served / d.info.n_layer : 0, d.info.gflops,
                static_cast<double>(d.info.memory_bytes) / (1u << 30),
                d.info.model_fingerprint.c_str());
  }
  if ((*browser)->ignored() > 0) {
    std::fprintf(stderr, "(%llu datagrams that were not valid announcements were ignored)\n",
                 static_cast<unsigned long long>((*browser)->ignored()));
  }
  return 0;
}

const CommandRegistration kDevices{
    96, "devices", "List the expert devices (moe-node) announcing themselves on this LAN",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<DevicesArgs>();
      app.add_option("--discovery-group", a->o.group, "Multicast group")->capture_default_str();
      app.add_option("--discovery-port", a->o.port, "UDP port")->capture_default_str();
      app.add_option("--discovery-interface", a->o.interface_address,
                     "IPv4 address of the interface to use (default: the system's choice)");
      app.add_option("--wait", a->wait_ms, "Milliseconds to listen after the probe")
          ->check(CLI::Range(1, 60000))
          ->capture_default_str();
      app.footer("Columns: experts served per layer, memory in GiB. Exit 1 when none answered.");
      return [a] { return run_devices(*a); };
    }};

}  // namespace
}  // namespace moe::cli
