// `moe-cli pki` end to end: a deployment CA, device certificates, revocation, the listing, and
// verification as the TLS handshake will do it; refusals exit 1 with a reason, usage errors 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::run_cli;
using moe::cli_test::sh_quote;

TEST(CliPki, InitIssueRevokeListVerify) {
  const fs::path dir = fs::temp_directory_path() / ("moe_cli_pki_" + std::to_string(getpid()));
  fs::remove_all(dir);
  const std::string d = "pki --dir " + sh_quote(dir.string()) + " ";
  auto o = run_cli(d + "init");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("created the deployment CA"), std::string::npos) << o.out;
  ASSERT_EQ(run_cli(d + "issue node-1").rc, 0);
  o = run_cli(d + "issue node-2 --days 30");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("valid 30 days"), std::string::npos) << o.out;
  o = run_cli(d + "revoke node-1");
  ASSERT_EQ(o.rc, 0) << o.err;
  o = run_cli(d + "list");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("node-1"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("revoked"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("valid"), std::string::npos) << o.out;
  o = run_cli(d + "verify " + sh_quote((dir / "devices/node-1.crt").string()));
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("certificate revoked"), std::string::npos) << o.err;
  o = run_cli(d + "verify " + sh_quote((dir / "devices/node-2.crt").string()));
  EXPECT_EQ(o.rc, 0) << o.err;
  o = run_cli(d + "init");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("exists there already"), std::string::npos) << o.err;
  o = run_cli(d + "issue ../escape");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("not a device name"), std::string::npos) << o.err;
  EXPECT_EQ(run_cli(d).rc, 2);  // a subcommand is required
  EXPECT_EQ(run_cli(d + "issue n --days 0").rc, 2);
  // The default folder follows MOE_PKI_DIR.
  o = run_cli("pki list", 0, "MOE_PKI_DIR=" + sh_quote(dir.string()));
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("node-2"), std::string::npos) << o.out;
  fs::remove_all(dir);
}

}  // namespace
