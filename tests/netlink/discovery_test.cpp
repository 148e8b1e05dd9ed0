// Discovery: the datagram format (round trip, hostile datagrams), and announcers and a browser
// talking over multicast inside a private network namespace made for the test (its own
// loopback with multicast switched on; nothing reaches any other network). Skipped with a
// message where creating a network namespace is not permitted.
#include "netlink/discovery.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <thread>

namespace moe::net {
namespace {

using namespace std::chrono_literals;

Announcement sample(const std::string& id, uint16_t port) {
  Announcement a;
  a.device_id = id;
  a.tcp_port = port;
  a.gflops = 31.5f;
  a.memory_bytes = 16ull << 30;
  a.model_fingerprint = "31613b80-0123456789abcdef-deadbeef";
  a.n_layer = 32;
  a.n_expert = 8;
  a.served.assign(256, 0);
  for (size_t i = 0; i < 256; i += 3) a.served[i] = 1;
  return a;
}

TEST(DiscoveryFormat, RoundTripAndRefusals) {
  const Announcement a = sample("node-1", 7070);
  auto b = encode_announcement(a);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_LE(b->size(), kMaxDatagram);
  bool probe = true;
  auto m = decode_discovery(*b, &probe);
  ASSERT_TRUE(m.ok()) << m.message();
  ASSERT_TRUE(m->has_value());
  EXPECT_FALSE(probe);
  EXPECT_EQ((*m)->device_id, "node-1");
  EXPECT_EQ((*m)->tcp_port, 7070);
  EXPECT_EQ((*m)->served, a.served);
  EXPECT_EQ((*m)->model_fingerprint, a.model_fingerprint);
  auto p = decode_discovery(encode_probe(), &probe);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(probe);
  // Every single-bit flip and every truncation is refused (CRC, lengths), never a crash.
  for (size_t i = 0; i < b->size(); ++i) {
    auto bad = *b;
    bad[i] ^= 0x10;
    EXPECT_FALSE(decode_discovery(bad, &probe).ok()) << "flip at " << i;
    EXPECT_FALSE(decode_discovery(std::span<const uint8_t>(*b).first(i), &probe).ok()) << i;
  }
  Announcement huge = a;
  huge.n_layer = 1000;
  huge.n_expert = 64;
  huge.served.assign(64000, 1);
  auto too_big = encode_announcement(huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.message().find("exceeds 1400"), std::string::npos) << too_big.message();
}

// Runs `body` in a child process inside a new network namespace whose loopback is up, with
// multicast on if `multicast`. Returns the child's exit code, or -1 when namespaces are not
// permitted here (message in *why).
int in_private_network(bool multicast, const std::function<int()>& body, std::string* why) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    if (unshare(CLONE_NEWNET) != 0) {
      const std::string m = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      (void)!write(pipefd[1], m.data(), m.size());
      _exit(200);
    }
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (multicast) ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_MULTICAST);
    else ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_MULTICAST);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      const std::string m = std::string("SIOCSIFFLAGS lo: ") + std::strerror(errno);
      (void)!write(pipefd[1], m.data(), m.size());
      _exit(200);
    }
    close(s);
    _exit(body());
  }
  close(pipefd[1]);
  char buf[256] = {0};
  const ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
  if (code == 200) {
    *why = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "network namespace refused";
    return -1;
  }
  return code;
}

DiscoveryOptions loopback_options() {
  DiscoveryOptions o;
  o.interface_address = "127.0.0.1";
  o.port = 17071;
  o.interval = 100ms;
  o.expiry = 1000ms;
  return o;
}

TEST(Discovery, DevicesAreFoundByAnnouncementAndProbe) {
  std::string why;
  const int code = in_private_network(true, [] {
    const DiscoveryOptions o = loopback_options();
    auto browser = DeviceBrowser::start(o);
    if (!browser.ok()) return 10;
    DiscoveryOptions slow = o;
    slow.interval = 60s;  // announces once at start; found again only through the probe
    auto a1 = Announcer::start(o, sample("node-1", 7001));
    auto a2 = Announcer::start(slow, sample("node-2", 7002));
    if (!a1.ok() || !a2.ok()) return 11;
    for (int i = 0; i < 300 && (*browser)->devices().size() < 2; ++i) {
      if (i % 50 == 49 && !(*browser)->probe().ok()) return 17;  // a datagram lost under load
      std::this_thread::sleep_for(10ms);
    }
    auto seen = (*browser)->devices();
    if (seen.size() != 2) return 12;
    if (seen[0].info.device_id != "node-1" || seen[1].info.tcp_port != 7002) return 13;
    if (seen[0].address != "127.0.0.1") return 14;
    // node-1 stops: it expires; node-2 answers a probe and stays.
    a1->reset();
    std::this_thread::sleep_for(700ms);
    if (!(*browser)->probe().ok()) return 15;
    std::this_thread::sleep_for(500ms);
    if (!(*browser)->probe().ok()) return 15;
    std::this_thread::sleep_for(100ms);
    seen = (*browser)->devices();
    if (seen.size() != 1 || seen[0].info.device_id != "node-2") return 16;
    return 0;
  }, &why);
  if (code < 0) GTEST_SKIP() << "no private network namespace here: " << why;
  EXPECT_EQ(code, 0) << "see the return codes in the test body";
}

// Nothing arrives (multicast blocked on the way, or no device running — the host cannot tell
// the two apart; a device announcing on another group stands in for the blocked path):
// `moe-cli devices` says what may be wrong and what to do instead (exit 1).
TEST(Discovery, WhenNothingArrivesDevicesExplains) {
  std::string why;
  const int code = in_private_network(true, [] {
    DiscoveryOptions elsewhere = loopback_options();
    elsewhere.group = "239.255.77.78";
    auto a = Announcer::start(elsewhere, sample("node-1", 7001));
    if (!a.ok()) return 30;
    const std::string cmd = std::string(MOE_CLI) +
                            " devices --discovery-interface 127.0.0.1 --discovery-port 17071 "
                            "--wait 300 2>&1 >/dev/null | grep -q 'multicast may be blocked'";
    return std::system(cmd.c_str()) == 0 ? 0 : 32;
  }, &why);
  if (code < 0) GTEST_SKIP() << "no private network namespace here: " << why;
  EXPECT_EQ(code, 0) << "see the return codes in the test body";
}

// moe-node announces itself (unless --no-announce) and `moe-cli devices` lists it.
TEST(Discovery, MoeCliDevicesListsARunningNode) {
  std::string why;
  const int code = in_private_network(true, [] {
    const std::string out = "/tmp/moe_devices_" + std::to_string(getpid()) + ".txt";
    const std::string cmd = std::string(MOE_CLI) +
                            " devices --discovery-interface 127.0.0.1 --discovery-port 17071 "
                            "--wait 500 > " + out + " 2>&1";
    // A stand-in announcer (moe-node needs certificates; its announcing is this same class).
    DiscoveryOptions o = loopback_options();
    auto a = Announcer::start(o, sample("node-7", 7007));
    if (!a.ok()) return 40;
    const int rc = std::system(cmd.c_str());
    FILE* f = std::fopen(out.c_str(), "r");
    char buf[4096] = {0};
    if (f != nullptr) {
      (void)!std::fread(buf, 1, sizeof(buf) - 1, f);
      std::fclose(f);
    }
    std::remove(out.c_str());
    const std::string text = buf;
    if (rc != 0) return 41;
    return text.find("node-7") != std::string::npos &&
                   text.find("127.0.0.1:7007") != std::string::npos
               ? 0
               : 42;
  }, &why);
  if (code < 0) GTEST_SKIP() << "no private network namespace here: " << why;
  EXPECT_EQ(code, 0) << "see the return codes in the test body";
}

// --devices auto end to end in a private network: a moe-node announces the model, the host
// finds it, runs its experts there, and answers as an all-local run does.
TEST(Discovery, DevicesAutoFindsTheNodeOfThisModel) {
  std::string why;
  const int code = in_private_network(true, [] {
    const std::string dir = "/tmp/moe_auto_" + std::to_string(getpid());
    const std::string model = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";
    const std::string cli = MOE_CLI, node = MOE_NODE;
    const std::string disc = " --discovery-interface 127.0.0.1 --discovery-port 17071";
    const std::string run = cli + " run -m " + model +
                            " -p 'the patient reports' --raw -n 16 --greedy --ignore-eos -t 1";
    const std::string script =
        "set -e\ncd " + dir + "\n" +
        cli + " pki --dir pki init >/dev/null\n" + cli + " pki --dir pki issue host >/dev/null\n" +
        cli + " pki --dir pki issue node-a >/dev/null\n" +
        node + " -m " + model + " --name node-a --pki pki --listen 127.0.0.1:0 -t 1" + disc +
        " --port-file port 2>node.log &\nn=$!\n"
        "for i in $(seq 100); do [ -s port ] && break; sleep 0.1; done\n" +
        run + " > local.txt 2>/dev/null\n" +
        run + " --pki pki --devices auto" + disc + " > remote.txt 2> remote.err\n"
        "kill $n\ncmp local.txt remote.txt\ngrep -q 'found 1 by discovery' remote.err\n"
        "grep -q \"connected to device 'node-a'\" remote.err\n";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/script.sh") << script;
    // Bounded: on the deadline bash gets SIGTERM and its EXIT trap ends the node and the
    // device's namespace.
    const int rc =
        std::system(("timeout 240 bash " + dir + "/script.sh >" + dir + "/out.txt 2>&1").c_str());
    if (rc != 0) {
      std::ifstream e(dir + "/remote.err");
      std::fprintf(stderr, "script failed; remote.err:\n%s\n",
                   std::string(std::istreambuf_iterator<char>(e), {}).c_str());
    }
    std::filesystem::remove_all(dir);
    return rc == 0 ? 0 : 50;
  }, &why);
  if (code < 0) GTEST_SKIP() << "no private network namespace here: " << why;
  EXPECT_EQ(code, 0);
}

// Two "hosts": the test's private network namespace and a second one made inside it, joined by
// a veth pair (10.77.0.1 <-> 10.77.0.2), a moe-node on the far side. Discovery and generation
// cross the link; then multicast is blocked two real ways, and `moe-cli devices --expect` must
// explain each while the expected device serves: a firewall on the device's side (nftables
// drops 224.0.0.0/4 both ways, TCP untouched: "none heard ... a firewall", "not heard by
// multicast"), and no multicast route on the host (discovery without --discovery-interface,
// the only route being the veth subnet); with the firewall still up, a static --devices list
// gives the local answer. Needs ip (iproute2), unshare and nsenter; skipped where namespaces
// or veth links are not permitted; the firewall part needs nft (Debian nftables) and is left
// out, said in the output, without it. Both namespaces live only as long as the processes the
// script started, which its EXIT trap ends (also at the 240 s deadline).
TEST(Discovery, AcrossAVethLinkBetweenTwoNamespaces) {
  std::string why;
  const int code = in_private_network(true, [] {
    if (std::system("command -v ip >/dev/null && command -v nsenter >/dev/null") != 0) return 77;
    const std::string dir = "/tmp/moe_veth_" + std::to_string(getpid());
    const std::string model = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";
    const std::string cli = MOE_CLI, node = MOE_NODE;
    const std::string run = cli + " run -m " + model +
                            " -p 'the patient reports' --raw -n 12 --greedy --ignore-eos -t 1";
    const std::string host_disc = " --discovery-interface 10.77.0.1 --discovery-port 17072";
    const std::string expect = " --pki pki --expect 10.77.0.2:7070/node-a";
    const std::string script =
        "set -ex\ncd " + dir + "\n" +
        cli + " pki --dir pki init >/dev/null\n" + cli + " pki --dir pki issue host >/dev/null\n" +
        cli + " pki --dir pki issue node-a >/dev/null\n"
        "unshare --net sleep 120 & D=$!\ntrap 'kill $D ${N:-} 2>/dev/null' EXIT\nsleep 0.3\n"
        "in_d() { nsenter --net=/proc/$D/ns/net \"$@\"; }\n"
        "ip link add vh type veth peer name vd || exit 77\n"
        "ip link set vd netns $D\n"
        "ip addr add 10.77.0.1/24 dev vh && ip link set vh up\n"
        "in_d ip addr add 10.77.0.2/24 dev vd\nin_d ip link set vd up\nin_d ip link set lo up\n"
        // Not through in_d: $! must be moe-node itself (nsenter execs it) for the trap to end it.
        "nsenter --net=/proc/$D/ns/net " + node + " -m " + model + " --name node-a --pki pki --listen 10.77.0.2:7070 -t 1"
        " --discovery-interface 10.77.0.2 --discovery-port 17072 --port-file port 2>node.log &\n"
        "N=$!\nfor i in $(seq 100); do [ -s port ] && break; sleep 0.1; done\n" +
        run + " > local.txt 2>/dev/null\n" +
        cli + " devices --wait 500" + host_disc + " > seen.txt\n"
        "grep -q 'node-a  *10.77.0.2:7070' seen.txt\n" +
        run + " --pki pki --devices auto" + host_disc + " > auto.txt 2> auto.err\n"
        "cmp local.txt auto.txt\ngrep -q \"connected to device 'node-a'\" auto.err\n"
        // Multicast blocked by a firewall on the device's side (nftables drops 224.0.0.0/4 in
        // and out; TCP untouched): discovery hears nothing, the expected device still serves.
        "if command -v nft >/dev/null && in_d nft -f - <<'EOF'\n"
        "table ip moe_block_mc {\n"
        "  chain in { type filter hook input priority 0; ip daddr 224.0.0.0/4 drop; }\n"
        "  chain out { type filter hook output priority 0; ip daddr 224.0.0.0/4 drop; }\n"
        "}\nEOF\nthen\n"
        "set +e\n" + cli + " devices --wait 500" + host_disc + expect +
        " > blocked.txt 2> blocked.err\nrc=$?\nset -e\n"
        "[ $rc -eq 0 ]\n"
        "grep -q 'none heard' blocked.err\ngrep -q 'a firewall' blocked.err\n"
        "grep -q 'not heard by multicast' blocked.txt\ngrep -q 'serves node-a' blocked.txt\n"
        "else echo NO-NFT; fi\n"
        // No multicast route on the host: without --discovery-interface the group is reached
        // through the routing table, which here has only the veth subnet.
        "set +e\n" + cli + " devices --wait 500 --discovery-port 17072" + expect +
        " > noroute.txt 2> noroute.err\nrc=$?\nset -e\n"
        "[ $rc -eq 0 ]\n"
        "grep -q 'none heard' noroute.err\n"
        "grep -q 'no multicast route on this interface' noroute.err\n"
        "if grep -q 'a firewall' noroute.err; then exit 1; fi\n"
        "grep -q 'serves node-a' noroute.txt\n" +
        run + " --pki pki --devices 10.77.0.2:7070/node-a > static.txt 2>/dev/null\n"
        "cmp local.txt static.txt\n";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/script.sh") << script;
    // Bounded: on the deadline bash gets SIGTERM and its EXIT trap ends the node and the
    // device's namespace.
    const int rc =
        std::system(("timeout 240 bash " + dir + "/script.sh >" + dir + "/out.txt 2>&1").c_str());
    const int status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
    if (status != 0 && status != 77) {
      std::ifstream e(dir + "/out.txt");
      std::fprintf(stderr, "script failed (%d):\n%s\n", status,
                   std::string(std::istreambuf_iterator<char>(e), {}).c_str());
    }
    std::ifstream o(dir + "/out.txt");
    if (std::string(std::istreambuf_iterator<char>(o), {}).find("NO-NFT\n") !=
        std::string::npos) {
      std::fprintf(stderr, "firewall part not run: no nft (nftables) or no nf_tables here\n");
    }
    std::filesystem::remove_all(dir);
    return status == 0 ? 0 : status == 77 ? 77 : 60;
  }, &why);
  if (code < 0) GTEST_SKIP() << "no private network namespace here: " << why;
  if (code == 77) GTEST_SKIP() << "no veth link here (ip, nsenter or the veth driver missing)";
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace moe::net
