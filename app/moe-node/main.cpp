// moe-node: the expert-device daemon (SPEC §3.3, docs/protocol.md). Loads the experts it is
// told to serve from its own copy of the GGUF (the host checks the file's fingerprint; weights
// never travel), listens for the host over TLS 1.3 with mutual authentication by the
// deployment CA (`moe-cli pki`), and computes expert outputs with the same CPU kernels as the
// host. Logs are logfmt lines on stderr. SIGTERM or SIGINT: stop accepting, close, exit 0.
//   moe-node -m model.gguf --name node-1 [--listen 0.0.0.0:7070] [--pki DIR] [--experts 0-3]
#include <CLI/CLI.hpp>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/deploy/assemble.h"
#include "core/util/byte_size.h"
#include "netlink/discovery.h"
#include "netlink/expert_placement.h"
#include "netlink/expert_service.h"
#include "netlink/frame_server.h"
#include "netlink/link_emulator.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"

namespace {

std::mutex log_mu;
bool log_insecure = false;  // --insecure: every line says so

std::string logfmt_quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c == '\n' ? ' ' : c;
  }
  return q + "\"";
}

void log_line(const char* level, const std::string& msg, const std::string& extra = {}) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(log_mu);
  std::fprintf(stderr, "ts=%s.%03lldZ level=%s msg=%s%s%s%s\n", ts, static_cast<long long>(ms),
               level, logfmt_quote(msg).c_str(), extra.empty() ? "" : " ", extra.c_str(),
               log_insecure ? " insecure=true" : "");
  std::fflush(stderr);
}

// "all" or a list of experts and ranges: "0-3,6". Error names the bad part.
bool parse_experts(const std::string& spec, int n_expert, std::vector<bool>* out, std::string* err) {
  out->assign(static_cast<size_t>(n_expert), spec == "all");
  if (spec == "all") return true;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    int lo = -1, hi = -1;
    char tail = 0;
    const int got = std::sscanf(part.c_str(), "%d-%d%c", &lo, &hi, &tail);
    if (got == 1) hi = lo;
    if ((got != 1 && got != 2) || lo < 0 || hi < lo || hi >= n_expert) {
      *err = "--experts: '" + part + "' is not an expert or range in [0, " +
             std::to_string(n_expert - 1) + "]";
      return false;
    }
    for (int e = lo; e <= hi; ++e) (*out)[static_cast<size_t>(e)] = true;
  }
  return true;
}

// MemAvailable of /proc/meminfo (0 when it cannot be read: no limit).
uint64_t available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  unsigned long long kib = 0;
  for (std::string line; std::getline(f, line);) {
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1) return kib * 1024;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moe-node: serve a model's experts to a MoE Studio host over the LAN", "moe-node"};
  std::string model, name, listen = "0.0.0.0:7070", pki_dir, experts = "all", port_file;
  int threads = 0, delay_ms = 0;
  bool no_announce = false, insecure = false;
  std::string memory, emulate_link;
  moe::net::DiscoveryOptions disc;
  uint32_t max_payload = moe::net::kDefaultMaxPayload;
  char host_buf[256] = "node";
  gethostname(host_buf, sizeof(host_buf) - 1);
  name = host_buf;
  app.set_config("--config", "", "Read options from this file (key = value lines, TOML/INI)");
  app.set_version_flag("--version", "moe-node 0.1.0");
  app.add_option("-m,--model", model, "This device's copy of the host's GGUF model")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--name", name, "Device name: its certificate devices/NAME.crt (default: hostname)");
  app.add_option("--listen", listen, "Address and port to listen on (port 0: any free port)");
  app.add_option("--pki", pki_dir, "PKI folder from `moe-cli pki` (default: $MOE_PKI_DIR, "
                                   "$XDG_CONFIG_HOME/moe-studio/pki, ~/.config/moe-studio/pki)");
  app.add_flag("--insecure", insecure,
               "Plain TCP, no certificates: the host's activations (derived from patient text) "
               "cross the network readable by anyone on the path. Only for a trusted test "
               "network; the host must use --insecure too. Every log line says insecure=true");
  app.add_option("--experts", experts, "Experts served in every layer: all, or e.g. 0-3,6");
  app.add_option("--memory", memory,
                 "RAM this device offers for experts (e.g. 8GiB); the host gives it no more "
                 "experts than fit. Default: the system's available memory");
  app.add_option("-t,--threads", threads, "Compute threads (0: all)")->check(CLI::Range(0, 1024));
  std::string backend_name = "cpu";
  app.add_option("--backend", backend_name,
                 "Who computes this device's experts: cpu, cuda (a CUDA GPU, its VRAM holding "
                 "as many experts as fit) or auto (cuda when a device is present)")
      ->capture_default_str();
  app.add_option("--max-payload", max_payload, "Largest frame payload accepted, bytes")
      ->check(CLI::Range(1u << 16, 1u << 30));
  app.add_option("--reply-delay-ms", delay_ms,
                 "Hold every expert reply this long (emulates a slower link or device)")
      ->check(CLI::Range(0, 60000));
  app.add_option("--emulate-link", emulate_link,
                 "Hold each expert reply as long as its bytes take over DEVICE's modelled "
                 "wireless link in a WDMoE scenario (rates of eqs. 2-3 with fading, "
                 "retransmission below 0 dB SNR): SCENARIO.json:DEVICE (name or index)")
      ->type_name("SCENARIO.json:DEVICE");
  std::string machine = "auto", sched = "batch";
  app.add_option("--machine", machine,
                 "Which machine the host is told this device runs on: devices with one ID share "
                 "its cores, so the host gives each of them whole layers instead of spreading "
                 "every layer over them (auto: a hash of the kernel's boot id; none: say nothing, "
                 "as if on a machine of its own; the default with --emulate-link)")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.empty() || v.size() > 64 ? std::string("an ID of 1 to 64 characters")
                                              : std::string();
          },
          "ID"))
      ->capture_default_str();
  app.add_option("--sched", sched,
                 "CPU scheduling of this daemon: batch (SCHED_BATCH: a request's arrival does not "
                 "preempt what runs on the CPU, e.g. the host engine sending its other requests on "
                 "a shared machine) or normal")
      ->check(CLI::IsMember({"batch", "normal"}))
      ->capture_default_str();
  app.add_flag("--no-announce", no_announce, "Do not announce this device by UDP multicast");
  app.add_option("--discovery-group", disc.group, "Multicast group of the announcements")
      ->capture_default_str();
  app.add_option("--discovery-port", disc.port, "UDP port of the announcements")
      ->capture_default_str();
  app.add_option("--discovery-interface", disc.interface_address,
                 "IPv4 address of the interface to announce on (default: the system's choice)");
  app.add_option("--port-file", port_file, "Write the port listened on to this file (tests)");
  app.footer("The host connects with `moe-cli run ... --devices HOST:PORT/NAME,...`. See "
             "docs/protocol.md; a systemd unit is in packaging/moe-node.service.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Before any thread starts, so that every thread (compute pool, server) has it.
  if (sched == "batch") {
    const sched_param none{};
    if (sched_setscheduler(0, SCHED_BATCH, &none) != 0) {
      log_line("warn", "--sched batch: " + std::string(std::strerror(errno)) + "; running SCHED_OTHER");
    }
  }
  // Signals are taken by sigwait below, not by a handler: block them before any thread starts.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  log_insecure = insecure;
  if (insecure) {
    log_line("warn", "--insecure: no TLS; expert activations travel in plaintext");
  } else {
    auto d = moe::net::pki_dir_or_default(pki_dir);
    if (!d.ok()) return log_line("error", d.message()), 1;
    pki_dir = *d;
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return log_line("error", "--listen: expected HOST:PORT"), 2;
  moe::net::ServerOptions so;
  so.bind = listen.substr(0, colon);
  so.port = static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1));
  so.max_payload = max_payload;

  auto fp = moe::net::model_fingerprint(model);
  if (!fp.ok()) return log_line("error", fp.message()), 1;
  moe::Deployment d;
  d.model_path = model;
  d.n_threads = threads;
  d.n_ctx = 16;  // no attention runs here; the smallest KV cache
  auto compute = moe::parse_compute_backend(backend_name);
  if (!compute.ok()) return log_line("error", "--backend: " + compute.message()), 2;
  d.backend = *compute;
  auto backend = moe::assemble(d);
  if (!backend.ok()) return log_line("error", backend.message()), 1;
  const moe::HParams& hp = (*backend)->model->hparams();
  std::vector<bool> mask;
  std::string err;
  if (!parse_experts(experts, hp.n_expert, &mask, &err)) return log_line("error", err), 2;
  moe::net::ServiceInfo info;
  info.device_id = name;
  info.model_fingerprint = *fp;
  info.max_payload = max_payload;
  // A node that emulates a scenario's wireless device stands for a device of its own, not for
  // a share of this machine: the host must spread layers over such nodes as over real devices.
  if (machine == "auto" && !emulate_link.empty()) machine = "none";
  info.machine = machine == "auto" ? moe::net::this_machine_key() : machine == "none" ? "" : machine;
  info.served.assign(static_cast<size_t>(hp.n_layer * hp.n_expert), 0);
  for (int l = 0; l < hp.n_layer; ++l) {
    for (int e = 0; e < hp.n_expert; ++e) {
      info.served[static_cast<size_t>(l * hp.n_expert + e)] = mask[static_cast<size_t>(e)];
    }
  }
  log_line("info", "experts computed", "on=" + logfmt_quote(std::string((*backend)->executor().name())));
  moe::net::ExpertService service(*(*backend)->model, (*backend)->executor(),
                                  (*backend)->deployment.max_batch, info);
  // What the host weighs this device by when it spreads experts (docs/protocol.md).
  uint64_t memory_bytes = available_memory_bytes();
  if (!memory.empty()) {
    auto m = moe::parse_byte_size(memory);
    if (!m.ok()) return log_line("error", "--memory: " + m.message()), 2;
    memory_bytes = *m;
  }
  const float gflops = service.measure_gflops(std::chrono::milliseconds(200));
  service.set_capacity(gflops, memory_bytes);
  info.gflops = gflops;
  info.memory_bytes = memory_bytes;
  const auto log = [](const std::string& m) { log_line("warn", m); };
  std::shared_ptr<asio::ssl::context> tls;  // null: --insecure
  if (!insecure) {
    auto made = moe::net::make_tls_context(moe::net::TlsRole::kServer,
                                           moe::net::TlsFiles::from_pki_dir(pki_dir, name), log);
    if (!made.ok()) return log_line("error", made.message()), 1;
    tls = *made;
  }
  std::unique_ptr<moe::net::LinkEmulator> link;
  if (!emulate_link.empty()) {
    auto made = moe::net::LinkEmulator::from_spec(emulate_link);
    if (!made.ok()) return log_line("error", made.message()), 2;
    link = std::move(*made);
    // A typical decode request: one f32 row out, one reply row per expert back.
    const size_t row = static_cast<size_t>(hp.n_embd) * 4;
    log_line("info", "emulating a wireless link",
             "scenario_device=" + logfmt_quote(link->device_name()) + " mean_ms_per_row=" +
                 std::to_string(1e3 * link->mean_delay_s(row, row)));
  }
  auto server = moe::net::FrameServer::start(
      so, tls,
      [&service, &link, delay_ms](const moe::net::Frame& f, std::vector<uint8_t>& replies) {
        service.handle(f, replies);
        if (f.type == moe::net::FrameType::kExpertRequest) {
          auto hold = std::chrono::nanoseconds(std::chrono::milliseconds(delay_ms));
          if (link) {
            hold += link->delay(moe::net::kFrameHeaderBytes + f.payload.size(), replies.size());
          }
          if (hold.count() > 0) std::this_thread::sleep_for(hold);
        }
      },
      log);
  if (!server.ok()) return log_line("error", server.message()), 1;
  std::unique_ptr<moe::net::Announcer> announcer;
  if (!no_announce) {
    moe::net::Announcement ann;
    ann.device_id = name;
    ann.tcp_port = (*server)->port();
    ann.model_fingerprint = *fp;
    ann.n_layer = static_cast<uint16_t>(hp.n_layer);
    ann.n_expert = static_cast<uint16_t>(hp.n_expert);
    ann.served = info.served;
    ann.gflops = info.gflops;
    ann.memory_bytes = info.memory_bytes;
    auto a = moe::net::Announcer::start(disc, ann, log);
    if (a.ok()) {
      announcer = std::move(*a);
    } else {  // the RPC still works with a static device list on the host
      log_line("warn", "not announcing: " + a.message());
    }
  }
  if (!port_file.empty()) std::ofstream(port_file) << (*server)->port() << "\n";
  log_line("info", "serving", "device=" + logfmt_quote(name) + " port=" +
                                  std::to_string((*server)->port()) + " model=" + logfmt_quote(model) +
                                  " fingerprint=" + *fp + " experts=" + logfmt_quote(experts) +
                                  " gflops=" + std::to_string(gflops) +
                                  " memory_mib=" + std::to_string(memory_bytes >> 20) +
                                  " threads=" + std::to_string((*backend)->pool->size()) +
                                  " machine=" + logfmt_quote(info.machine) + " sched=" + sched);
  int sig = 0;
  sigwait(&stop, &sig);
  const moe::net::ServerStats st = (*server)->stats();
  announcer.reset();
  server->reset();
  std::string link_stats;
  if (link) {
    const auto ls = link->stats();
    link_stats = " link_requests=" + std::to_string(ls.requests) + " link_lost_attempts=" +
                 std::to_string(ls.lost_attempts) + " link_held_s=" + std::to_string(ls.held_s);
  }
  log_line("info", "stopped", "signal=" + std::to_string(sig) + " connections=" +
                                  std::to_string(st.connections) + " frames=" +
                                  std::to_string(st.frames) + " faults=" + std::to_string(st.faults) +
                                  link_stats);
  return 0;
}
