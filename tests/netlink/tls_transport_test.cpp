// The expert RPC transport on loopback: TLS 1.3 with mutual authentication by the deployment CA
// (real certificates from netlink/pki), frames through FrameServer / FrameClient, and the
// server's defences: refused certificates, malformed frames, plaintext, slow clients. Each
// refusal closes that connection only and is logged with its reason.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <algorithm>
#include <array>
#include <fstream>
#include <mutex>
#include <thread>

#include "netlink/frame_client.h"
#include "netlink/frame_server.h"
#include "netlink/pki.h"
#include "netlink/tls_context.h"
#include "tests/core/temp_dir_test.h"

namespace moe::net {
namespace {

using namespace std::chrono_literals;

class Log {
 public:
  LogFn fn() {
    return [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
  }
  /// Waits (bounded) for a line containing `text`.
  bool saw(const std::string& text, std::chrono::milliseconds wait = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + wait;
    do {
      {
        std::lock_guard lock(mu_);
        for (const auto& l : lines_) {
          if (l.find(text) != std::string::npos) return true;
        }
      }
      std::this_thread::sleep_for(5ms);
    } while (std::chrono::steady_clock::now() < end);
    return false;
  }
  std::string all() {
    std::lock_guard lock(mu_);
    std::string s;
    for (const auto& l : lines_) s += l + "\n";
    return s;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

class TlsTransport : public test::TempDirTest {
 protected:
  TlsTransport() : TempDirTest("moe_tls_test_", 120) {}
  void SetUp() override {
    TempDirTest::SetUp();
    pki_ = (dir_ / "pki").string();
    ASSERT_TRUE(pki_init(pki_).ok());
    for (const char* n : {"node-1", "host", "revoked"}) ASSERT_TRUE(pki_issue(pki_, n).ok());
    IssueOptions past;
    past.days = 1;
    past.not_before_offset = std::chrono::hours(-72);
    ASSERT_TRUE(pki_issue(pki_, "old", past).ok());
    ASSERT_TRUE(pki_revoke(pki_, "revoked").ok());
    other_ = (dir_ / "other").string();
    ASSERT_TRUE(pki_init(other_).ok());
    ASSERT_TRUE(pki_issue(other_, "intruder").ok());
  }

  std::unique_ptr<FrameServer> serve(ServerOptions o = {}, const std::string& name = "node-1",
                                     const std::string& dir = "") {
    auto ctx = make_tls_context(TlsRole::kServer, TlsFiles::from_pki_dir(dir.empty() ? pki_ : dir, name),
                                server_log_.fn());
    EXPECT_TRUE(ctx.ok()) << ctx.message();
    return serve_with(o, ctx.ok() ? *ctx : nullptr);
  }
  /// `tls` null: a plaintext (--insecure) server.
  std::unique_ptr<FrameServer> serve_with(ServerOptions o, std::shared_ptr<asio::ssl::context> tls) {
    // The handler: an expert-request is answered with its payload reversed.
    auto s = FrameServer::start(
        o, std::move(tls),
        [](const Frame& f, std::vector<uint8_t>& out) {
          const std::vector<uint8_t> reversed(f.payload.rbegin(), f.payload.rend());
          encode_frame(FrameType::kExpertResponse, f.request_id, reversed, out);
        },
        server_log_.fn());
    EXPECT_TRUE(s.ok()) << s.message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  Result<std::unique_ptr<FrameClient>> client(uint16_t port, const std::string& name = "host",
                                              const std::string& dir = "",
                                              const std::string& expect = "node-1") {
    auto ctx = make_tls_context(TlsRole::kClient, TlsFiles::from_pki_dir(dir.empty() ? pki_ : dir, name),
                                client_log_.fn());
    if (!ctx.ok()) return ctx.error();
    ClientOptions o;
    o.expected_name = expect;
    o.connect_timeout = 3000ms;
    return FrameClient::connect("127.0.0.1", port, *ctx, o);
  }

  // A client whose certificate the server refuses may finish its side of the TLS 1.3 handshake
  // (the server checks the client's certificate after sending its own): it then gets no reply.
  void expect_no_service(Result<std::unique_ptr<FrameClient>> c) {
    if (!c.ok()) return;
    const std::vector<uint8_t> p{1, 2, 3};
    auto r = (*c)->call(FrameType::kExpertRequest, 1, p, 2000ms);
    EXPECT_FALSE(r.ok()) << "a refused client got a reply";
  }

  std::string pki_, other_;
  Log server_log_, client_log_;
};

TEST_F(TlsTransport, MutuallyAuthenticatedRequestsAndPings) {
  auto server = serve();
  ASSERT_TRUE(server);
  auto c = client(server->port());
  ASSERT_TRUE(c.ok()) << c.message() << "\n" << server_log_.all();
  const std::vector<uint8_t> p{1, 2, 3, 4, 5};
  for (uint64_t id = 1; id <= 20; ++id) {
    auto r = (*c)->call(FrameType::kExpertRequest, id, p, 2000ms);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->type, FrameType::kExpertResponse);
    EXPECT_EQ(r->request_id, id);
    EXPECT_EQ(r->payload, (std::vector<uint8_t>{5, 4, 3, 2, 1}));
  }
  auto pong = (*c)->call(FrameType::kPing, 99, p, 2000ms);
  ASSERT_TRUE(pong.ok()) << pong.message();
  EXPECT_EQ(pong->type, FrameType::kPong);
  EXPECT_EQ(pong->payload, p);
  EXPECT_EQ(server->stats().frames, 21u);
  EXPECT_EQ(server->stats().handshakes_failed, 0u);
}

// The host sends each frame from a buffer it keeps and reads each reply into one Frame:
// replies of changing size back to back (a prefill's MiB, a decode step's bytes, nothing) are
// each exactly their own bytes — in TLS, where one read takes many records, and in plaintext.
TEST_F(TlsTransport, FramesOfChangingSizeThroughKeptBuffers) {
  auto secure = serve();
  auto plain = serve_with({}, nullptr);
  ASSERT_TRUE(secure && plain);
  auto tc = client(secure->port());
  auto pc = FrameClient::connect("127.0.0.1", plain->port(), nullptr);
  ASSERT_TRUE(tc.ok()) << tc.message();
  ASSERT_TRUE(pc.ok()) << pc.message();
  for (FrameClient* c : {tc->get(), pc->get()}) {
    Frame reply;
    std::vector<uint8_t> frame;
    uint64_t id = 0;
    for (size_t size : {size_t{1} << 20, size_t{3}, size_t{300001}, size_t{0}, size_t{1} << 20}) {
      ++id;
      std::vector<uint8_t> p(size);
      for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(i * 7 + id);
      frame.clear();
      encode_frame(FrameType::kExpertRequest, id, p, frame);
      ASSERT_TRUE(c->send_raw(frame, 5000ms).ok());
      const auto st = c->receive_into(reply, 5000ms);
      ASSERT_TRUE(st.ok()) << st.message();
      EXPECT_EQ(reply.request_id, id);
      ASSERT_EQ(reply.payload, std::vector<uint8_t>(p.rbegin(), p.rend()))
          << (c->secure() ? "TLS" : "plaintext") << ", " << size << " bytes";
    }
  }
}

TEST_F(TlsTransport, RefusedCertificatesGetNoService) {
  auto server = serve();
  ASSERT_TRUE(server);
  expect_no_service(client(server->port(), "revoked"));
  EXPECT_TRUE(server_log_.saw("peer certificate refused: certificate revoked (CN=revoked)"))
      << server_log_.all();
  expect_no_service(client(server->port(), "old"));
  EXPECT_TRUE(server_log_.saw("certificate has expired")) << server_log_.all();
  {  // trusts our CA, presents a certificate of another one
    TlsFiles f = TlsFiles::from_pki_dir(other_, "intruder");
    f.ca = pki_ + "/ca.crt";
    f.crl = pki_ + "/crl.pem";
    auto ctx = make_tls_context(TlsRole::kClient, f);
    ASSERT_TRUE(ctx.ok()) << ctx.message();
    expect_no_service(FrameClient::connect("127.0.0.1", server->port(), *ctx));
  }
  EXPECT_TRUE(server_log_.saw("unable to get local issuer certificate")) << server_log_.all();

  // A client with no certificate at all.
  auto bare = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  bare->load_verify_file(pki_ + "/ca.crt");
  bare->set_verify_mode(asio::ssl::verify_peer);
  expect_no_service(FrameClient::connect("127.0.0.1", server->port(), bare));
  EXPECT_TRUE(server_log_.saw("TLS handshake failed")) << server_log_.all();
  // Counted on the server's thread, possibly after the client has given up.
  for (int i = 0; i < 300 && server->stats().handshakes_failed < 4; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(server->stats().handshakes_failed, 4u);
  EXPECT_EQ(server->stats().frames, 0u);

  // The host refuses a device of another CA, and one whose name is not the expected one.
  auto foreign = serve({}, "intruder", other_);
  ASSERT_TRUE(foreign);
  auto c = client(foreign->port());
  ASSERT_FALSE(c.ok());
  // (the foreign device sends its CA along: "self-signed certificate in certificate chain")
  EXPECT_TRUE(client_log_.saw("peer certificate refused: ")) << client_log_.all();
  c = client(server->port(), "host", "", "node-2");
  ASSERT_FALSE(c.ok()) << "the device's certificate names node-1, not node-2";
  EXPECT_NE(c.message().find("is for 'node-1', not 'node-2'"), std::string::npos) << c.message();
  // And the legitimate host still gets served.
  c = client(server->port());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE((*c)->call(FrameType::kPing, 1, {}, 2000ms).ok());
}

// `moe-cli pki revoke` while both ends run: the CRL file is read again at the next handshake,
// so the running device refuses the newly revoked host, and the running host the newly revoked
// device, each logging the reload and the refusal; no context is rebuilt, no process restarted.
TEST_F(TlsTransport, ARevocationTakesEffectWithoutARestart) {
  ASSERT_TRUE(pki_issue(pki_, "node-2").ok());
  ASSERT_TRUE(pki_issue(pki_, "host-2").ok());
  auto server1 = serve();
  auto server2 = serve({}, "node-2");
  ASSERT_TRUE(server1 && server2);
  const auto connect_with = [&](const std::shared_ptr<asio::ssl::context>& ctx, uint16_t port,
                                const std::string& expect) {
    ClientOptions o;
    o.expected_name = expect;
    o.connect_timeout = 3000ms;
    return FrameClient::connect("127.0.0.1", port, ctx, o);
  };
  auto host = make_tls_context(TlsRole::kClient, TlsFiles::from_pki_dir(pki_, "host"),
                               client_log_.fn());
  auto host2 = make_tls_context(TlsRole::kClient, TlsFiles::from_pki_dir(pki_, "host-2"),
                                client_log_.fn());
  ASSERT_TRUE(host.ok() && host2.ok());
  auto before = connect_with(*host, server1->port(), "node-1");
  ASSERT_TRUE(before.ok()) << before.message();
  ASSERT_TRUE((*before)->call(FrameType::kPing, 1, {}, 2000ms).ok());

  // The device refuses the host it served a moment ago.
  ASSERT_TRUE(pki_revoke(pki_, "host").ok());
  expect_no_service(connect_with(*host, server1->port(), "node-1"));
  EXPECT_TRUE(server_log_.saw("revocation list reloaded from " + pki_ + "/crl.pem: 2 revoked"))
      << server_log_.all();
  EXPECT_TRUE(server_log_.saw("peer certificate refused: certificate revoked (CN=host)"))
      << server_log_.all();
  // Another host is still served by the same device.
  auto other = connect_with(*host2, server1->port(), "node-1");
  ASSERT_TRUE(other.ok()) << other.message();
  EXPECT_TRUE((*other)->call(FrameType::kPing, 2, {}, 2000ms).ok());

  // The host refuses a device it connected to before; the device logs the failed handshake.
  auto first = connect_with(*host2, server2->port(), "node-2");
  ASSERT_TRUE(first.ok()) << first.message();
  ASSERT_TRUE(pki_revoke(pki_, "node-2").ok());
  auto refused = connect_with(*host2, server2->port(), "node-2");
  ASSERT_FALSE(refused.ok()) << "a revoked device was accepted";
  EXPECT_TRUE(client_log_.saw("revocation list reloaded from " + pki_ + "/crl.pem: 3 revoked"))
      << client_log_.all();
  EXPECT_TRUE(client_log_.saw("peer certificate refused: certificate revoked (CN=node-2)"))
      << client_log_.all();
  for (int i = 0; i < 300 && server2->stats().handshakes_failed < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server2->stats().handshakes_failed, 1u) << server_log_.all();

  // A CRL that cannot be read leaves the last good one in force, and says so.
  { std::ofstream(pki_ + "/crl.pem") << "not a CRL\n"; }
  expect_no_service(connect_with(*host, server1->port(), "node-1"));
  EXPECT_TRUE(server_log_.saw("revocation list not reloaded (the previous one stays in force)"))
      << server_log_.all();
}

// Malformed frames close their connection with a logged reason; a well-behaved client on
// another connection is served throughout.
TEST_F(TlsTransport, HostileFramesCloseOnlyTheirConnection) {
  ServerOptions o;
  o.max_payload = 4096;
  auto server = serve(o);
  ASSERT_TRUE(server);
  auto good = client(server->port());
  ASSERT_TRUE(good.ok()) << good.message();
  const std::vector<uint8_t> p(64, 7);
  const auto frame = encode_frame(FrameType::kExpertRequest, 5, p);
  struct Case {
    const char* name;
    size_t offset;
    uint8_t value;
    const char* logged;
  };
  const Case cases[] = {
      {"magic", 0, 'Z', "bad magic"},
      {"version", 4, 9, "protocol version 9"},
      {"type", 6, 42, "unknown frame type 42"},
      {"oversize", 18, 0x01, "over the limit of 4096"},
      {"crc", kFrameHeaderBytes + 10, 0, "checksum mismatch"},
  };
  for (const Case& k : cases) {
    auto bad = frame;
    bad[k.offset] = k.value;
    auto c = client(server->port());
    ASSERT_TRUE(c.ok()) << k.name << ": " << c.message();
    (void)(*c)->send_raw(bad, 2000ms);
    auto r = (*c)->receive(2000ms);
    EXPECT_FALSE(r.ok()) << k.name << ": the connection should be closed";
    EXPECT_TRUE(server_log_.saw(k.logged)) << k.name << "\n" << server_log_.all();
    auto ok = (*good)->call(FrameType::kExpertRequest, 1, p, 2000ms);
    ASSERT_TRUE(ok.ok()) << k.name << ": the other connection suffered: " << ok.message();
  }
  EXPECT_EQ(server->stats().faults, 5u);
}

// Slow loris: half a header, then nothing. Closed at the idle timeout; others unaffected.
// Plaintext (no TLS) to the TLS port: the handshake fails and is logged.
TEST_F(TlsTransport, SlowAndPlaintextClientsAreDropped) {
  ServerOptions o;
  o.idle_timeout = 300ms;
  o.handshake_timeout = 300ms;
  auto server = serve(o);
  ASSERT_TRUE(server);
  auto slow = client(server->port());
  ASSERT_TRUE(slow.ok());
  const auto frame = encode_frame(FrameType::kPing, 1, {});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*slow)->send_raw(std::span<const uint8_t>(frame).first(10), 1000ms).ok());
  auto r = (*slow)->receive(3000ms);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(r.ok());
  EXPECT_LT(waited, 2500ms) << "closed by the server's idle timeout, not by the client's";
  EXPECT_TRUE(server_log_.saw("waiting for a frame timed out")) << server_log_.all();
  EXPECT_GE(server->stats().timeouts, 1u);

  asio::io_context io;
  asio::ip::tcp::socket raw(io);
  raw.connect({asio::ip::make_address("127.0.0.1"), server->port()});
  const std::string junk = "GET / HTTP/1.0\r\n\r\nexpert activations in plaintext";
  std::error_code ec;
  asio::write(raw, asio::buffer(junk), ec);
  EXPECT_TRUE(server_log_.saw("TLS handshake failed")) << server_log_.all();
  // A client that connects and never starts TLS is dropped at the handshake timeout.
  asio::ip::tcp::socket idle(io);
  idle.connect({asio::ip::make_address("127.0.0.1"), server->port()});
  EXPECT_TRUE(server_log_.saw("TLS handshake timed out")) << server_log_.all();
  auto fine = client(server->port());
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE((*fine)->call(FrameType::kPing, 2, {}, 2000ms).ok());
}

// A relay between a client and the server that records every byte in both directions: what a
// packet capture on the LAN would see.
class RecordingRelay {
 public:
  explicit RecordingRelay(uint16_t upstream) : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    acceptor_.async_accept([this, upstream](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      down_ = std::make_unique<asio::ip::tcp::socket>(std::move(s));
      up_ = std::make_unique<asio::ip::tcp::socket>(io_);
      up_->connect({asio::ip::make_address("127.0.0.1"), upstream}, ec);
      if (ec) return;
      pump(*down_, *up_, a_);
      pump(*up_, *down_, b_);
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RecordingRelay() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<uint8_t> captured() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, std::array<uint8_t, 65536>& buf) {
    from.async_read_some(asio::buffer(buf), [this, &from, &to, &buf](std::error_code ec, size_t n) {
      if (ec) return;
      {
        std::lock_guard lock(mu_);
        seen_.insert(seen_.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
      }
      asio::write(to, asio::buffer(buf.data(), n), ec);
      if (!ec) pump(from, to, buf);
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<asio::ip::tcp::socket> down_, up_;
  std::array<uint8_t, 65536> a_{}, b_{};
  std::mutex mu_;
  std::vector<uint8_t> seen_;
  std::thread thread_;
};

// Activations derive from patient text: on the wire they must be unreadable. A request whose
// rows carry a distinctive pattern is relayed through a recorder; the pattern (present in the
// frame as encoded) appears nowhere in what crossed the network.
TEST_F(TlsTransport, APacketCaptureHoldsNoPlaintextActivations) {
  auto server = serve();
  ASSERT_TRUE(server);
  RecordingRelay relay(server->port());
  auto c = client(relay.port());
  ASSERT_TRUE(c.ok()) << c.message();
  std::vector<uint8_t> payload;
  for (int i = 0; i < 512; ++i) {
    for (const char ch : std::string("PATIENT-ROW-7f3a")) payload.push_back(static_cast<uint8_t>(ch));
  }
  const std::string marker = "PATIENT-ROW-7f3a";
  const auto has_marker = [&](const std::vector<uint8_t>& bytes) {
    return std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end()) != bytes.end();
  };
  ASSERT_TRUE(has_marker(encode_frame(FrameType::kExpertRequest, 1, payload)));
  auto r = (*c)->call(FrameType::kExpertRequest, 1, payload, 2000ms);
  ASSERT_TRUE(r.ok()) << r.message();
  const auto seen = relay.captured();
  EXPECT_GT(seen.size(), payload.size()) << "the relay saw the exchange";
  EXPECT_FALSE(has_marker(seen)) << "activation bytes crossed the network in plaintext";

  // The same exchange with --insecure on both ends: the capture shows the rows (so the check
  // above can fail), which is why plaintext is only ever an explicit choice.
  auto plain_server = serve_with({}, nullptr);
  ASSERT_TRUE(plain_server);
  RecordingRelay plain_relay(plain_server->port());
  auto pc = FrameClient::connect("127.0.0.1", plain_relay.port(), nullptr);
  ASSERT_TRUE(pc.ok()) << pc.message();
  EXPECT_FALSE((*pc)->secure());
  ASSERT_TRUE((*pc)->call(FrameType::kExpertRequest, 1, payload, 2000ms).ok());
  EXPECT_TRUE(has_marker(plain_relay.captured()));
}

// --insecure is all-or-nothing, and a half-configured deployment says which half is which on
// both sides instead of "bad magic" or OpenSSL's "wrong version number".
TEST_F(TlsTransport, InsecureModeWorksOnlyWithBothEndsAndNamesAMismatch) {
  auto plain = serve_with({}, nullptr);
  ASSERT_TRUE(plain);
  auto pc = FrameClient::connect("127.0.0.1", plain->port(), nullptr);
  ASSERT_TRUE(pc.ok()) << pc.message();
  const std::vector<uint8_t> p{1, 2, 3};
  auto r = (*pc)->call(FrameType::kExpertRequest, 7, p, 2000ms);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->payload, (std::vector<uint8_t>{3, 2, 1}));

  // A TLS host (no --insecure) meets a plaintext node.
  auto tls_client = client(plain->port());
  EXPECT_FALSE(tls_client.ok());
  EXPECT_NE(tls_client.message().find("--insecure"), std::string::npos) << tls_client.message();
  EXPECT_TRUE(server_log_.saw("a TLS host connected to this plaintext (--insecure) node"))
      << server_log_.all();

  // A plaintext host meets a TLS node: no reply, and the node names the cause.
  auto secure = serve();
  ASSERT_TRUE(secure);
  auto plain_client = FrameClient::connect("127.0.0.1", secure->port(), nullptr);
  ASSERT_TRUE(plain_client.ok()) << "TCP connects; there is no handshake to fail";
  EXPECT_FALSE((*plain_client)->call(FrameType::kExpertRequest, 1, p, 2000ms).ok());
  EXPECT_TRUE(server_log_.saw("a plaintext (--insecure) host connected to this TLS node"))
      << server_log_.all();
  EXPECT_EQ(secure->stats().frames, 0u) << "the TLS node served a plaintext frame";
}

}  // namespace
}  // namespace moe::net
