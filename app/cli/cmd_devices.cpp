// moe-cli devices: lists the expert devices (moe-node) that announce themselves on this LAN by
// UDP multicast (netlink/discovery.h) and checks the devices the operator expects (--expect)
// the way a host would use them (netlink/device_probe.h): for one that does not serve, it says
// why — port closed, no route, certificate refused, another protocol version or model, or
// reachable but not heard by multicast. --probe measures RTT and throughput to each.
#include <cstdio>
#include <thread>

#include "app/cli/command.h"
#include "netlink/device_probe.h"
#include "netlink/discovery.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"
#include "netlink/tls_context.h"

namespace moe::cli {
namespace {

struct DevicesArgs {
  net::DiscoveryOptions o;
  int wait_ms = 2000;
  std::string expect, model, pki, name = "host";
  bool probe = false, insecure = false;
};

// The discovery error or silence, in terms of what to check.
std::string multicast_advice(const DevicesArgs& a, const std::string& error) {
  std::string s = error.empty() ? "no announcement was heard" : error;
  // ENETUNREACH sending the probe, ENODEV joining the group: the routing table has no way to
  // the group (no default route, no 224.0.0.0/4 route) and no interface was named.
  if (error.find("unreachable") != std::string::npos ||
      error.find("No such device") != std::string::npos) {
    s += ": no multicast route on this interface (ip route add 224.0.0.0/4 dev IFACE, or give "
         "--discovery-interface ADDRESS)";
  } else {
    s += "; multicast may be blocked between here and the devices: a firewall (UDP port " +
         std::to_string(a.o.port) + "), Wi-Fi client isolation, or a switch that drops "
         "multicast; on a machine with several interfaces give --discovery-interface";
  }
  return s;
}

void print_probe(const std::string& label, const net::ProbeReport& r, bool measured) {
  if (!r.ok) {
    std::printf("%-20s NOT USABLE: %s\n", label.c_str(), r.problem.c_str());
    std::fflush(stdout);
    return;
  }
  std::printf("%-20s serves %s", label.c_str(), r.ack.device_id.c_str());
  if (measured) std::printf(" · RTT %.3f ms · %.0f MB/s", r.rtt_ms, r.mb_per_s);
  std::printf("\n");
}

int run_devices(const DevicesArgs& a) {
  std::vector<net::DeviceAddress> expected;
  if (!a.expect.empty()) {
    auto list = net::parse_device_list(a.expect);
    if (!list.ok()) return std::fprintf(stderr, "moe-cli devices: --expect: %s\n", list.message().c_str()), 2;
    expected = std::move(*list);
  }
  net::ProbeOptions po;
  po.measure = a.probe;
  if (!a.model.empty()) {
    auto fp = net::model_fingerprint(a.model);
    if (!fp.ok()) return std::fprintf(stderr, "moe-cli devices: %s\n", fp.message().c_str()), 1;
    po.fingerprint = *fp;
  }
  const bool connects = a.probe || !expected.empty();
  if (connects && !a.insecure) {
    auto dir = net::pki_dir_or_default(a.pki);
    if (!dir.ok()) return std::fprintf(stderr, "moe-cli devices: %s\n", dir.message().c_str()), 1;
    auto tls = net::make_tls_context(net::TlsRole::kClient, net::TlsFiles::from_pki_dir(*dir, a.name),
                                     [](const std::string& l) { std::fprintf(stderr, "%s\n", l.c_str()); });
    if (!tls.ok()) return std::fprintf(stderr, "moe-cli devices: %s\n", tls.message().c_str()), 1;
    po.tls = *tls;
  }

  std::string discovery_error;
  std::vector<net::SeenDevice> seen;
  auto browser = net::DeviceBrowser::start(a.o, [](const std::string& l) {
    std::fprintf(stderr, "%s\n", l.c_str());
  });
  if (!browser.ok()) {
    discovery_error = browser.message();
  } else if (auto st = (*browser)->probe(); !st.ok()) {
    discovery_error = st.message();
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(a.wait_ms));
    seen = (*browser)->devices();
  }
  if (seen.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "moe-cli devices: none heard on %s:%u%s within %d ms: %s.\n",
                 a.o.group.c_str(), a.o.port,
                 a.o.interface_address.empty() ? "" : (" via " + a.o.interface_address).c_str(),
                 a.wait_ms, multicast_advice(a, discovery_error).c_str());
    if (expected.empty()) {
      std::fprintf(stderr, "  Is moe-node running (it announces unless --no-announce)? Without "
                           "discovery, name the devices: --devices HOST:PORT[/NAME],... (and "
                           "check them here with --expect).\n");
    }
  } else {
    std::printf("%-20s %-22s %-8s %-10s %-10s %s\n", "device", "address", "experts", "GFLOP/s",
                "memory", "model fingerprint");
    for (const auto& d : seen) {
      size_t served = 0;
      for (uint8_t s : d.info.served) served += s;
      std::printf("%-20s %-22s %-8zu %-10.1f %-10.1f %s%s\n", d.info.device_id.c_str(),
                  (d.address + ":" + std::to_string(d.info.tcp_port)).c_str(),
                  d.info.n_layer > 0 ? served / d.info.n_layer : 0, d.info.gflops,
                  static_cast<double>(d.info.memory_bytes) / (1u << 30),
                  d.info.model_fingerprint.c_str(),
                  !po.fingerprint.empty() && d.info.model_fingerprint != po.fingerprint
                      ? "  (another model)"
                      : "");
    }
    if (browser.ok() && (*browser)->ignored() > 0) {
      std::fprintf(stderr, "(%llu datagrams that were not valid announcements — another protocol "
                           "version or not moe-node — were ignored)\n",
                   static_cast<unsigned long long>((*browser)->ignored()));
    }
    if (a.probe) {
      std::printf("\n");
      for (const auto& d : seen) {
        const net::DeviceAddress addr{d.address, d.info.tcp_port, d.info.device_id};
        print_probe(d.info.device_id, net::probe_device(addr, po), true);
      }
    }
  }

  int unusable = 0;
  if (!expected.empty()) std::printf("\nexpected devices:\n");
  for (const net::DeviceAddress& e : expected) {
    const std::string label = e.host + ":" + std::to_string(e.port) + (e.name.empty() ? "" : "/" + e.name);
    const net::ProbeReport r = net::probe_device(e, po);
    print_probe(label, r, a.probe);
    if (!r.ok) {
      ++unusable;
      continue;
    }
    bool heard = false;
    for (const auto& d : seen) {
      heard |= d.info.tcp_port == e.port && (d.address == e.host || d.info.device_id == r.ack.device_id);
    }
    if (!heard) {
      std::printf("%-20s   reachable, but not heard by multicast (%s): --devices HOST:PORT works, "
                  "--devices auto will not find it\n",
                  "", seen.empty() ? "nothing was, see above"
                                   : "others were: does it run --no-announce, or announce on "
                                     "another interface?");
    }
  }
  if (!expected.empty()) return unusable == 0 ? 0 : 1;
  return seen.empty() ? 1 : 0;
}

const CommandRegistration kDevices{
    96, "devices",
    "List the expert devices (moe-node) on this LAN; check the ones you expect, and say why one "
    "does not serve",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<DevicesArgs>();
      app.add_option("--discovery-group", a->o.group, "Multicast group")->capture_default_str();
      app.add_option("--discovery-port", a->o.port, "UDP port")->capture_default_str();
      app.add_option("--discovery-interface", a->o.interface_address,
                     "IPv4 address of the interface to use (default: the system's choice)");
      app.add_option("--wait", a->wait_ms, "Milliseconds to listen after the probe")
          ->check(CLI::Range(1, 60000))
          ->capture_default_str();
      app.add_option("--expect", a->expect,
                     "Devices you expect, HOST:PORT[/NAME],... (as --devices): each is connected "
                     "to, and the reason is printed for one that would not serve")
          ->type_name("LIST");
      app.add_option("-m,--model", a->model,
                     "The host's model: a device serving another file is reported as such");
      app.add_flag("--probe", a->probe, "Measure RTT (ping) and throughput (1 MiB echoes) to each");
      app.add_option("--pki", a->pki, "PKI folder of `moe-cli pki` (for --expect / --probe)");
      app.add_option("--name", a->name, "This host's certificate in the PKI folder")
          ->capture_default_str();
      app.add_flag("--insecure", a->insecure, "Connect without TLS (devices run --insecure)");
      app.footer("Columns: experts served per layer, memory in GiB. Exit 1 when none answered, "
                 "or when an expected device would not serve.");
      return [a] { return run_devices(*a); };
    }};

}  // namespace
}  // namespace moe::cli
