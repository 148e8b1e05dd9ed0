#pragma once
// Discovery of expert devices (SPEC §3.3, docs/protocol.md): a device announces itself by UDP
// multicast every few seconds and answers probes; a host sends a probe and collects the
// announcements into a table with last-seen times and expiry. One datagram per message:
//   magic "MOED" | version u16 | kind u8 (1 announce, 2 probe) | device id str | TCP port u16 |
//   GFLOP/s f32 | memory bytes u64 | model fingerprint str | n_layer u16 | n_expert u16 |
//   served bitmap (n_layer * n_expert bits) | CRC-32C u32 of everything before it
// at most 1400 bytes. Announcements carry no secret: a device still has to pass the mutually
// authenticated TLS handshake before it gets any activation.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/util/status.h"
#include "netlink/tls_context.h"

namespace moe::net {

inline constexpr const char* kDefaultGroup = "239.255.77.77";
inline constexpr uint16_t kDefaultDiscoveryPort = 7071;
inline constexpr size_t kMaxDatagram = 1400;

struct Announcement {
  std::string device_id;
  uint16_t tcp_port = 0;
  float gflops = 0;
  uint64_t memory_bytes = 0;
  std::string model_fingerprint;
  uint16_t n_layer = 0, n_expert = 0;
  std::vector<uint8_t> served;  ///< [n_layer * n_expert], 1 = served
};

enum class DiscoveryKind : uint8_t { kAnnounce = 1, kProbe = 2 };

/// The datagram; an error when it would exceed kMaxDatagram.
Result<std::vector<uint8_t>> encode_announcement(const Announcement& a);
std::vector<uint8_t> encode_probe();
/// A received datagram: an announcement, a probe (nullopt announcement, *is_probe true), or an
/// error saying why it was ignored.
Result<std::optional<Announcement>> decode_discovery(std::span<const uint8_t> bytes,
                                                     bool* is_probe);

struct DiscoveryOptions {
  std::string group = kDefaultGroup;
  uint16_t port = kDefaultDiscoveryPort;
  std::string interface_address;  ///< the interface's IPv4 address; empty: the system's choice
  std::chrono::milliseconds interval{5000};  ///< between announcements
  std::chrono::milliseconds expiry{15000};   ///< a device not heard from for this long is gone
};

/// Device side: announces every interval and answers probes, on its own thread.
class Announcer {
 public:
  static Result<std::unique_ptr<Announcer>> start(const DiscoveryOptions& o, Announcement a,
                                                  LogFn log = {});
  ~Announcer();
  uint64_t sent() const;
  struct Impl;

 private:
  explicit Announcer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SeenDevice {
  Announcement info;
  std::string address;  ///< the sender's IP
  std::chrono::steady_clock::time_point last_seen;
};

/// Host side: listens to the group, probes, keeps the table.
class DeviceBrowser {
 public:
  static Result<std::unique_ptr<DeviceBrowser>> start(const DiscoveryOptions& o, LogFn log = {});
  ~DeviceBrowser();
  /// Sends a probe (devices answer at once rather than at their next announcement).
  Status probe();
  /// Devices heard from within the expiry, sorted by id.
  std::vector<SeenDevice> devices() const;
  /// Datagrams received that were not valid announcements (counted, logged once each kind).
  uint64_t ignored() const;
  struct Impl;

 private:
  explicit DeviceBrowser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moe::net
