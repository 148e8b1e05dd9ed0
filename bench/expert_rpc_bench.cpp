// Added latency of one MoE layer's expert RPC over loopback (issue 15's target: < 150 µs per
// layer per token): the host's side exactly as RemoteExpertExecutor::run does it (encode the
// request from the batch's rows into a kept frame buffer, send, receive into a kept buffer,
// decode the reply's rows to their places) against a FrameServer whose handler decodes the
// request and answers zero rows of the right shape at once — no expert compute, so the round
// trip is all the RPC adds to a layer. Activations as f32 rows (the default wire type).
//   args: tokens (1: a decode step, 128: a prefill), n_embd (1024: mixtral-mini, 4096:
//         Mixtral 8x7B), TLS (1: TLS 1.3 with mutual authentication, 0: --insecure).
// Two assignments per token (top-2, both experts on the device). Every round trip is timed;
// the counters p50_us / p90_us are the median and 90th percentile over all of them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "netlink/frame_client.h"
#include "netlink/frame_server.h"
#include "netlink/messages.h"
#include "netlink/pki.h"
#include "netlink/tls_context.h"

namespace {

using namespace moe::net;
using Clock = std::chrono::steady_clock;

// A throwaway deployment CA with a device and a host certificate, removed at exit.
const std::string& pki_dir() {
  static std::string root;
  static const std::string dir = [] {
    char tmpl[] = "/tmp/moe_rpc_bench_XXXXXX";
    const char* made = mkdtemp(tmpl);
    root = made != nullptr ? made : "/tmp/moe_rpc_bench";
    std::atexit([] { std::filesystem::remove_all(root); });
    const std::string d = root + "/pki";
    if (!pki_init(d).ok() || !pki_issue(d, "node").ok() || !pki_issue(d, "host").ok()) {
      std::fprintf(stderr, "cannot create the benchmark's PKI in %s\n", d.c_str());
      std::exit(1);
    }
    return d;
  }();
  return dir;
}

// The device's side without the compute: decode into a kept request, answer zero rows of the
// right shape encoded straight into the reply buffer (as ExpertService does).
void answer(const Frame& f, std::vector<uint8_t>& out) {
  static ExpertRequest req;  // the server's one thread
  static std::vector<float> y;
  if (!decode_expert_request_into(f.payload, {}, req).ok()) return;
  const auto n_assign = static_cast<uint32_t>(req.assignments.size());
  y.assign(static_cast<size_t>(n_assign) * req.n_embd, 0.0f);
  const size_t at = begin_frame(out);
  ByteWriter w(out);
  encode_expert_response(req.type, 0, y, n_assign, req.n_embd, w);
  finish_frame(FrameType::kExpertResponse, f.request_id, out, at);
}

double percentile(std::vector<double> v, double q) {
  const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void BM_ExpertLayerRoundTrip(benchmark::State& state) {
  const auto n_tokens = static_cast<uint32_t>(state.range(0));
  const auto n_embd = static_cast<uint32_t>(state.range(1));
  const bool tls = state.range(2) != 0;
  std::shared_ptr<asio::ssl::context> server_tls, client_tls;
  if (tls) {
    server_tls = *make_tls_context(TlsRole::kServer, TlsFiles::from_pki_dir(pki_dir(), "node"));
    client_tls = *make_tls_context(TlsRole::kClient, TlsFiles::from_pki_dir(pki_dir(), "host"));
  }
  auto server = FrameServer::start(ServerOptions{}, server_tls, answer);
  if (!server.ok()) return state.SkipWithError(server.message().c_str());
  auto client = FrameClient::connect("127.0.0.1", (*server)->port(), client_tls);
  if (!client.ok()) return state.SkipWithError(client.message().c_str());

  // The batch [n_tokens, n_embd] and its assignments, as RemoteExpertExecutor::run sees them.
  const std::vector<float> x(static_cast<size_t>(n_tokens) * n_embd, 0.5f);
  std::vector<WireAssignment> assignments;
  std::vector<const float*> rows;
  for (uint32_t t = 0; t < n_tokens; ++t) {
    assignments.push_back({t, 0});
    assignments.push_back({t, 1});
    rows.push_back(x.data() + static_cast<size_t>(t) * n_embd);
  }
  std::vector<float> y(assignments.size() * n_embd);
  std::vector<uint8_t> frame;  // kept across calls, as each device's in the executor
  Frame reply;
  std::vector<double> us;
  uint64_t id = 1, bytes = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    frame.clear();
    const size_t at = begin_frame(frame);
    ByteWriter w(frame);
    encode_expert_request(0, WireType::kF32, n_embd, assignments, rows, w);
    finish_frame(FrameType::kExpertRequest, id, frame, at);
    auto st = (*client)->send_raw(frame, std::chrono::milliseconds(5000));
    if (st.ok()) st = (*client)->receive_into(reply, std::chrono::milliseconds(5000));
    if (!st.ok()) return state.SkipWithError(st.message().c_str());
    auto resp = view_expert_response(reply.payload);
    if (!resp.ok() || reply.request_id != id++ || resp->y.rows != assignments.size()) {
      return state.SkipWithError("a wrong reply");
    }
    for (size_t j = 0; j < assignments.size(); ++j) resp->y.row(j, y.data() + j * n_embd);
    benchmark::DoNotOptimize(y.data());
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    bytes += frame.size() + reply.payload.size() + kFrameHeaderBytes;
  }
  state.counters["p50_us"] = percentile(us, 0.5);
  state.counters["p90_us"] = percentile(us, 0.9);
  state.counters["p50_us_per_token"] = percentile(us, 0.5) / n_tokens;
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_ExpertLayerRoundTrip)
    ->ArgNames({"tokens", "n_embd", "tls"})
    ->ArgsProduct({{1, 128}, {1024, 4096}, {1, 0}})
    ->MinTime(1.0)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
