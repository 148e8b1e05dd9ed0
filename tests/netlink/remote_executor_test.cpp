// Expert devices on loopback, with real TLS, real sockets and the real engine on both sides:
// two in-process devices (each its own copy of the model, an ExpertService behind a
// FrameServer) serve half the experts each; the host's RemoteExpertExecutor must give logits
// bit-identical to an all-local run (f32 rows), keep going when a device disappears mid-run
// (its experts computed on the host), and refuse a device of another model.
#include <gtest/gtest.h>

#include <numeric>

#include "core/deploy/assemble.h"
#include "netlink/expert_service.h"
#include "netlink/frame.h"
#include "netlink/frame_server.h"
#include "netlink/model_fingerprint.h"
#include "netlink/pki.h"
#include "netlink/remote_expert_executor.h"
#include "tests/core/temp_dir_test.h"

namespace moe::net {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

Deployment local_deployment(int threads) {
  Deployment d;
  d.model_path = kQ8;
  d.n_threads = threads;
  d.n_ctx = 64;
  return d;
}

struct Node {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<ExpertService> service;
  std::unique_ptr<FrameServer> server;
};

class RemoteExperts : public test::TempDirTest {
 protected:
  RemoteExperts() : TempDirTest("moe_remote_test_", 120) {}
  void SetUp() override {
    TempDirTest::SetUp();
    pki_ = (dir_ / "pki").string();
    ASSERT_TRUE(pki_init(pki_).ok());
    for (const char* n : {"node-a", "node-b", "host"}) ASSERT_TRUE(pki_issue(pki_, n).ok());
    auto fp = model_fingerprint(kQ8);
    ASSERT_TRUE(fp.ok()) << fp.message();
    fingerprint_ = *fp;
  }

  // A device serving experts [lo, hi) of every layer.
  Node node(const std::string& name, int lo, int hi, const std::string& fingerprint = "") {
    Node n;
    const Deployment d = local_deployment(1);
    auto b = assemble(d);
    EXPECT_TRUE(b.ok()) << b.message();
    n.backend = std::move(*b);
    const HParams& hp = n.backend->model->hparams();
    ServiceInfo info;
    info.device_id = name;
    info.model_fingerprint = fingerprint.empty() ? fingerprint_ : fingerprint;
    info.served.assign(static_cast<size_t>(hp.n_layer * hp.n_expert), 0);
    for (int l = 0; l < hp.n_layer; ++l) {
      for (int e = lo; e < hi; ++e) info.served[static_cast<size_t>(l * hp.n_expert + e)] = 1;
    }
    n.service = std::make_unique<ExpertService>(*n.backend->model, *n.backend->local_executor,
                                                d.max_batch, info);
    auto ctx = make_tls_context(TlsRole::kServer, TlsFiles::from_pki_dir(pki_, name));
    EXPECT_TRUE(ctx.ok()) << ctx.message();
    ExpertService* svc = n.service.get();
    auto s = FrameServer::start({}, *ctx, [svc](const Frame& f) { return svc->handle(f); });
    EXPECT_TRUE(s.ok()) << s.message();
    n.server = std::move(*s);
    return n;
  }

  std::unique_ptr<Backend> host(std::vector<DeviceAddress> devices,
                                RemoteExpertExecutor** out = nullptr) {
    Deployment d = local_deployment(2);
    d.executor = [&, devices](const AssemblyContext& ctx) -> Result<std::unique_ptr<ExpertExecutor>> {
      RemoteOptions o;
      o.devices = devices;
      o.tls = TlsFiles::from_pki_dir(pki_, "host");
      o.fingerprint = fingerprint_;
      o.rpc_timeout = std::chrono::milliseconds(3000);
      o.log = [this](const std::string& l) { log_ += l + "\n"; };
      auto r = RemoteExpertExecutor::create(ctx, std::move(o));
      if (!r.ok()) return r.error();
      if (out != nullptr) *out = r->get();
      return std::unique_ptr<ExpertExecutor>(std::move(*r));
    };
    auto b = assemble(d);
    EXPECT_TRUE(b.ok()) << b.message();
    return b.ok() ? std::move(*b) : nullptr;
  }

  // Logits of a 12-token prefill, then of 6 decode steps, all concatenated.
  static std::vector<float> run(Backend& b) {
    std::vector<int32_t> prompt(12);
    std::iota(prompt.begin(), prompt.end(), 5);
    std::vector<float> all;
    auto st = b.session->eval(prompt, true);
    EXPECT_TRUE(st.ok()) << st.message();
    all.insert(all.end(), b.session->logits().begin(), b.session->logits().end());
    for (int32_t t : {40, 7, 99, 3, 250, 18}) {
      st = b.session->eval(std::span<const int32_t>(&t, 1), false);
      EXPECT_TRUE(st.ok()) << st.message();
      all.insert(all.end(), b.session->logits().begin(), b.session->logits().end());
    }
    return all;
  }

  DeviceAddress addr(const Node& n, const std::string& name) {
    return {"127.0.0.1", n.server->port(), name};
  }

  std::string pki_, fingerprint_, log_;
};

TEST_F(RemoteExperts, LogitsAreBitIdenticalToAllLocal) {
  auto local = assemble(local_deployment(2));
  ASSERT_TRUE(local.ok()) << local.message();
  const std::vector<float> want = run(**local);

  Node a = node("node-a", 0, 2), b = node("node-b", 2, 4);
  RemoteExpertExecutor* ex = nullptr;
  auto h = host({addr(a, "node-a"), addr(b, "node-b")}, &ex);
  ASSERT_TRUE(h && ex) << log_;
  const std::vector<float> got = run(*h);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "logit " << i;
  const auto st = ex->status();
  ASSERT_EQ(st.size(), 2u);
  // 7 evals x 2 layers: every layer call reaches one or both devices (a decode step whose two
  // experts live on one device contacts only that one).
  uint64_t rpcs = 0;
  for (const DeviceStatus& s : st) {
    EXPECT_TRUE(s.up) << s.address;
    EXPECT_LE(s.rpcs, 14u) << s.address;
    EXPECT_GT(s.assignments, 0u);
    EXPECT_EQ(s.failures, 0u);
    rpcs += s.rpcs;
  }
  EXPECT_GE(rpcs, 14u);
}

TEST_F(RemoteExperts, ALostDeviceIsReplacedByTheHostMidGeneration) {
  auto local = assemble(local_deployment(2));
  ASSERT_TRUE(local.ok());
  const std::vector<float> want = run(**local);

  Node a = node("node-a", 0, 2), b = node("node-b", 2, 4);
  RemoteExpertExecutor* ex = nullptr;
  auto h = host({addr(a, "node-a"), addr(b, "node-b")}, &ex);
  ASSERT_TRUE(h && ex);
  auto events = h->bus.subscribe();
  std::vector<int32_t> prompt(12);
  std::iota(prompt.begin(), prompt.end(), 5);
  ASSERT_TRUE(h->session->eval(prompt, true).ok());
  std::vector<float> got(h->session->logits().begin(), h->session->logits().end());
  b.server.reset();  // node-b goes away between two decode steps
  for (int32_t t : {40, 7, 99, 3, 250, 18}) {
    auto st = h->session->eval(std::span<const int32_t>(&t, 1), false);
    ASSERT_TRUE(st.ok()) << st.message();
    got.insert(got.end(), h->session->logits().begin(), h->session->logits().end());
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "logit " << i;
  const auto st = ex->status();
  EXPECT_TRUE(st[0].up);
  EXPECT_FALSE(st[1].up);
  EXPECT_GE(st[1].failures, 1u);
  EXPECT_NE(log_.find("its experts run on the host"), std::string::npos) << log_;
  // The events name each device by address and certificate, with what it serves and the
  // bytes of every RPC (what the app's LAN panel shows).
  bool left = false;
  int rpcs = 0;
  std::vector<Event> evs;
  events->drain(evs);
  for (const Event& e : evs) {
    if (const auto* de = std::get_if<DeviceEvent>(&e)) {
      const std::string name = de->device == 1 ? "node-a" : "node-b";
      EXPECT_EQ(std::string(de->identity.data()), name);
      EXPECT_EQ(std::string(de->address.data()), st[de->device - 1].address);
      EXPECT_EQ(de->experts_held, 4u);  // 2 experts x 2 layers
      EXPECT_EQ(de->insecure, 0);
      left |= de->kind == DeviceEvent::Kind::kLeft && de->device == 2;
      if (de->kind == DeviceEvent::Kind::kRpc) {
        ++rpcs;
        EXPECT_GT(de->bytes, 2 * kFrameHeaderBytes);
        EXPECT_GT(de->rtt_s, 0.0);
      }
    }
  }
  EXPECT_TRUE(left) << "no DeviceEvent for the lost device";
  EXPECT_GT(rpcs, 0);
  EXPECT_EQ(ex->computed_on(), "LAN devices node-a, node-b (lost) + local CPU");
}

TEST_F(RemoteExperts, ADeviceOfAnotherModelIsNotUsed) {
  Node a = node("node-a", 0, 4, "123-feedfacefeedface-00000000");
  RemoteExpertExecutor* ex = nullptr;
  auto h = host({addr(a, "node-a")}, &ex);
  ASSERT_TRUE(h && ex);
  EXPECT_FALSE(ex->status()[0].up);
  EXPECT_NE(log_.find("this device serves model 123-feedfacefeedface"), std::string::npos) << log_;
  std::vector<int32_t> prompt{1, 2, 3};
  EXPECT_TRUE(h->session->eval(prompt, false).ok());  // all local
}

TEST(DeviceList, Parses) {
  auto l = parse_device_list("10.0.0.2:7070/node-1,localhost:80");
  ASSERT_TRUE(l.ok()) << l.message();
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].host, "10.0.0.2");
  EXPECT_EQ((*l)[0].port, 7070);
  EXPECT_EQ((*l)[0].name, "node-1");
  EXPECT_EQ((*l)[1].name, "");
  for (const char* bad : {"", "host", "h:0", "h:70000", ":80", "h:8x"}) {
    EXPECT_FALSE(parse_device_list(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace moe::net
