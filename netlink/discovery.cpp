#include "netlink/discovery.h"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <atomic>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <map>
#include <thread>

#include "netlink/byte_io.h"
#include "netlink/crc32c.h"

namespace moe::net {
namespace {

constexpr uint32_t kMagic = 0x44454F4Du;  // "MOED"
constexpr uint16_t kVersion = 1;

void header(ByteWriter& w, DiscoveryKind k) {
  w.put(kMagic);
  w.put(kVersion);
  w.put(static_cast<uint8_t>(k));
}

void seal(std::vector<uint8_t>& b) {
  const uint32_t crc = crc32c(b);
  ByteWriter(b).put(crc);
}

struct Group {
  asio::ip::address_v4 group, iface;
  bool has_iface = false;
};

Result<Group> resolve(const DiscoveryOptions& o) {
  std::error_code ec;
  Group g;
  const auto a = asio::ip::make_address(o.group, ec);
  if (ec || !a.is_v4() || !a.is_multicast()) {
    return make_error("discovery group '", o.group, "' is not an IPv4 multicast address");
  }
  g.group = a.to_v4();
  if (!o.interface_address.empty()) {
    const auto i = asio::ip::make_address(o.interface_address, ec);
    if (ec || !i.is_v4()) {
      return make_error("discovery interface '", o.interface_address, "' is not an IPv4 address");
    }
    g.iface = i.to_v4();
    g.has_iface = true;
  }
  return g;
}

// A socket on the discovery port, in the group (and its outbound interface set).
Status open_group_socket(asio::ip::udp::socket& s, const Group& g, uint16_t port, bool join) {
  std::error_code ec;
  s.open(asio::ip::udp::v4(), ec);
  if (!ec) s.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    // Linux delivers to a socket bound to INADDR_ANY:port the datagrams of every group that any
    // socket on the host joined on that port; only ours, please.
    const int off = 0;
    if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off)) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  if (!ec) s.bind({asio::ip::address_v4::any(), port}, ec);
  if (!ec && join) {
    s.set_option(g.has_iface ? asio::ip::multicast::join_group(g.group, g.iface)
                             : asio::ip::multicast::join_group(g.group),
                 ec);
  }
  if (!ec && g.has_iface) s.set_option(asio::ip::multicast::outbound_interface(g.iface), ec);
  if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
  if (!ec) s.set_option(asio::ip::multicast::hops(1), ec);  // this LAN only
  if (ec) {
    return make_error("discovery on ", g.group.to_string(), ":", std::to_string(port), ": ",
                      ec.message(),
                      ec == asio::error::no_such_device
                          ? " (no multicast-capable interface: give --discovery-interface, or "
                            "list the devices with --devices HOST:PORT)"
                          : "");
  }
  return {};
}

}  // namespace

Result<std::vector<uint8_t>> encode_announcement(const Announcement& a) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  header(w, DiscoveryKind::kAnnounce);
  w.str(a.device_id);
  w.put(a.tcp_port);
  w.put(a.gflops);
  w.put(a.memory_bytes);
  w.str(a.model_fingerprint);
  w.put(a.n_layer);
  w.put(a.n_expert);
  const size_t bits = size_t{a.n_layer} * a.n_expert;
  std::vector<uint8_t> bitmap((bits + 7) / 8, 0);
  for (size_t i = 0; i < bits && i < a.served.size(); ++i) {
    if (a.served[i]) bitmap[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  w.bytes(bitmap);
  if (b.size() + 4 > kMaxDatagram) {
    return make_error("announcement of ", std::to_string(b.size() + 4), " bytes exceeds ",
                      std::to_string(kMaxDatagram));
  }
  seal(b);
  return b;
}

std::vector<uint8_t> encode_probe() {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  header(w, DiscoveryKind::kProbe);
  seal(b);
  return b;
}

Result<std::optional<Announcement>> decode_discovery(std::span<const uint8_t> bytes,
                                                     bool* is_probe) {
  *is_probe = false;
  if (bytes.size() < 11 || bytes.size() > kMaxDatagram) {
    return make_error("datagram of ", std::to_string(bytes.size()), " bytes");
  }
  uint32_t want;
  std::memcpy(&want, bytes.data() + bytes.size() - 4, 4);
  if (crc32c(bytes.first(bytes.size() - 4)) != want) return make_error("checksum mismatch");
  ByteReader r(bytes.first(bytes.size() - 4));
  if (r.get<uint32_t>("magic") != kMagic) return make_error("not a MoE Studio datagram");
  const auto version = r.get<uint16_t>("version");
  if (version != kVersion) return make_error("discovery version ", std::to_string(version));
  const auto kind = r.get<uint8_t>("kind");
  if (kind == static_cast<uint8_t>(DiscoveryKind::kProbe)) {
    *is_probe = true;
    return std::optional<Announcement>{};
  }
  if (kind != static_cast<uint8_t>(DiscoveryKind::kAnnounce)) return make_error("unknown kind");
  Announcement a;
  a.device_id = r.str("device id", 256);
  a.tcp_port = r.get<uint16_t>("port");
  a.gflops = r.get<float>("gflops");
  a.memory_bytes = r.get<uint64_t>("memory");
  a.model_fingerprint = r.str("model fingerprint", 128);
  a.n_layer = r.get<uint16_t>("layers");
  a.n_expert = r.get<uint16_t>("experts");
  const size_t bits = size_t{a.n_layer} * a.n_expert;
  const auto bitmap = r.bytes((bits + 7) / 8, "served bitmap");
  if (!r.ok()) return make_error("announcement: ", r.error());
  if (r.remaining() != 0) return make_error("announcement: trailing bytes");
  if (a.tcp_port == 0) return make_error("announcement: port 0");
  a.served.resize(bits);
  for (size_t i = 0; i < bits; ++i) a.served[i] = (bitmap[i / 8] >> (i % 8)) & 1u;
  return std::optional<Announcement>(std::move(a));
}

// ---- Announcer ----

struct Announcer::Impl {
  asio::io_context io;
  asio::ip::udp::socket socket{io};
  asio::steady_timer timer{io};
  asio::ip::udp::endpoint group_ep, from;
  std::array<uint8_t, kMaxDatagram> buf{};
  std::vector<uint8_t> datagram;
  std::chrono::milliseconds interval{};
  std::atomic<uint64_t> sent{0};
  LogFn log;
  std::thread thread;

  void announce() {
    std::error_code ec;
    socket.send_to(asio::buffer(datagram), group_ep, 0, ec);
    if (!ec) ++sent;
    else if (log) log("discovery: announcement not sent: " + ec.message());
    timer.expires_after(interval);
    timer.async_wait([this](std::error_code e) {
      if (!e) announce();
    });
  }
  void receive() {
    socket.async_receive_from(asio::buffer(buf), from, [this](std::error_code ec, size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        bool probe = false;
        auto m = decode_discovery({buf.data(), n}, &probe);
        if (m.ok() && probe) {  // answer the prober directly
          std::error_code e2;
          socket.send_to(asio::buffer(datagram), from, 0, e2);
          if (!e2) ++sent;
        }
      }
      receive();
    });
  }
};

Result<std::unique_ptr<Announcer>> Announcer::start(const DiscoveryOptions& o, Announcement a,
                                                    LogFn log) {
  auto g = resolve(o);
  if (!g.ok()) return g.error();
  auto d = encode_announcement(a);
  if (!d.ok()) return d.error();
  auto impl = std::make_unique<Impl>();
  if (auto st = open_group_socket(impl->socket, *g, o.port, true); !st.ok()) return st.error();
  impl->group_ep = {g->group, o.port};
  impl->datagram = std::move(*d);
  impl->interval = o.interval;
  impl->log = std::move(log);
  Impl* raw = impl.get();
  asio::post(impl->io, [raw] {
    raw->announce();
    raw->receive();
  });
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<Announcer>(new Announcer(std::move(impl)));
}

Announcer::Announcer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Announcer::~Announcer() {
  impl_->io.stop();
  impl_->thread.join();
}
uint64_t Announcer::sent() const { return impl_->sent.load(); }

// ---- DeviceBrowser ----

struct DeviceBrowser::Impl {
  asio::io_context io;
  asio::ip::udp::socket listen{io}, probe{io};
  asio::ip::udp::endpoint group_ep;
  struct Rx {
    asio::ip::udp::endpoint from;
    std::array<uint8_t, kMaxDatagram> buf{};
  } rx_listen, rx_probe;
  std::chrono::milliseconds expiry{};
  mutable std::mutex mu;
  std::map<std::string, SeenDevice> table;
  std::atomic<uint64_t> ignored{0};
  LogFn log;
  std::thread thread;

  void receive(asio::ip::udp::socket& s, Rx& rx) {
    s.async_receive_from(asio::buffer(rx.buf), rx.from, [this, &s, &rx](std::error_code ec, size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        bool is_probe = false;
        auto m = decode_discovery({rx.buf.data(), n}, &is_probe);
        if (!m.ok()) {
          if (ignored++ == 0 && log) {
            log("discovery: ignored a datagram from " + rx.from.address().to_string() + ": " +
                m.message());
          }
        } else if (*m) {
          std::lock_guard lock(mu);
          SeenDevice& d = table[(*m)->device_id];
          d.info = std::move(**m);
          d.address = rx.from.address().to_string();
          d.last_seen = std::chrono::steady_clock::now();
        }
      }
      receive(s, rx);
    });
  }
};

Result<std::unique_ptr<DeviceBrowser>> DeviceBrowser::start(const DiscoveryOptions& o,
                                                            LogFn log) {
  auto g = resolve(o);
  if (!g.ok()) return g.error();
  auto impl = std::make_unique<Impl>();
  if (auto st = open_group_socket(impl->listen, *g, o.port, true); !st.ok()) return st.error();
  if (auto st = open_group_socket(impl->probe, *g, 0, false); !st.ok()) return st.error();
  impl->group_ep = {g->group, o.port};
  impl->expiry = o.expiry;
  impl->log = std::move(log);
  Impl* raw = impl.get();
  raw->receive(raw->listen, raw->rx_listen);
  raw->receive(raw->probe, raw->rx_probe);
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<DeviceBrowser>(new DeviceBrowser(std::move(impl)));
}

DeviceBrowser::DeviceBrowser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceBrowser::~DeviceBrowser() {
  impl_->io.stop();
  impl_->thread.join();
}

Status DeviceBrowser::probe() {
  const auto p = encode_probe();
  std::error_code ec;
  impl_->probe.send_to(asio::buffer(p), impl_->group_ep, 0, ec);
  if (ec) {
    return make_error("discovery probe to ", impl_->group_ep.address().to_string(), ":",
                      std::to_string(impl_->group_ep.port()), ": ", ec.message());
  }
  return {};
}

std::vector<SeenDevice> DeviceBrowser::devices() const {
  const auto now = std::chrono::steady_clock::now();
  std::vector<SeenDevice> out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [id, d] : impl_->table) {
    if (now - d.last_seen <= impl_->expiry) out.push_back(d);
  }
  return out;
}

uint64_t DeviceBrowser::ignored() const { return impl_->ignored.load(); }

}  // namespace moe::net
