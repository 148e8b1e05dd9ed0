#include "netlink/pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/core/temp_dir_test.h"

namespace moe::net {
namespace {

class Pki : public test::TempDirTest {
 protected:
  Pki() : TempDirTest("moe_pki_test_", 60) {}
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pki() const { return path("pki"); }
  static int mode_of(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }
};

TEST_F(Pki, InitIssueVerify) {
  ASSERT_TRUE(pki_init(pki()).ok());
  EXPECT_EQ(mode_of(pki()), 0700);
  EXPECT_EQ(mode_of(pki() + "/ca.key"), 0600);
  ASSERT_TRUE(pki_issue(pki(), "node-1").ok());
  ASSERT_TRUE(pki_issue(pki(), "host.clinic_a").ok());
  EXPECT_EQ(mode_of(pki() + "/devices/node-1.key"), 0600);
  auto st = pki_verify(pki(), pki() + "/devices/node-1.crt");
  EXPECT_TRUE(st.ok()) << st.message();
  auto list = pki_list(pki());
  ASSERT_TRUE(list.ok()) << list.message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].name, "node-1");
  EXPECT_EQ((*list)[1].subject, "node-1");
  EXPECT_FALSE((*list)[1].revoked);
  EXPECT_FALSE((*list)[1].expired);
  EXPECT_NE((*list)[0].serial, (*list)[1].serial);
}

TEST_F(Pki, RevokedExpiredAndForeignCertificatesFailVerification) {
  ASSERT_TRUE(pki_init(pki()).ok());
  ASSERT_TRUE(pki_issue(pki(), "node-1").ok());
  ASSERT_TRUE(pki_issue(pki(), "node-2").ok());
  ASSERT_TRUE(pki_revoke(pki(), "node-1").ok());
  auto st = pki_verify(pki(), pki() + "/devices/node-1.crt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("revoked"), std::string::npos) << st.message();
  EXPECT_TRUE(pki_verify(pki(), pki() + "/devices/node-2.crt").ok());  // the others stay valid
  EXPECT_FALSE(pki_revoke(pki(), "node-1").ok());                       // once is enough

  IssueOptions past;
  past.days = 1;
  past.not_before_offset = std::chrono::hours(-72);
  ASSERT_TRUE(pki_issue(pki(), "old", past).ok());
  st = pki_verify(pki(), pki() + "/devices/old.crt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expired"), std::string::npos) << st.message();
  auto list = pki_list(pki());
  ASSERT_TRUE(list.ok());
  for (const IssuedCert& c : *list) {
    EXPECT_EQ(c.revoked, c.name == "node-1") << c.name;
    EXPECT_EQ(c.expired, c.name == "old") << c.name;
  }

  const std::string other = path("other");
  ASSERT_TRUE(pki_init(other).ok());
  ASSERT_TRUE(pki_issue(other, "intruder").ok());
  st = pki_verify(pki(), other + "/devices/intruder.crt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("issuer"), std::string::npos) << st.message();
}

TEST_F(Pki, RefusalsSayWhy) {
  auto st = pki_issue(pki(), "node-1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("pki init"), std::string::npos) << st.message();
  ASSERT_TRUE(pki_init(pki()).ok());
  st = pki_init(pki());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("exists there already"), std::string::npos) << st.message();
  for (const char* bad : {"", "../etc", "a/b", "-x", ".hidden", "sp ace",
                          "0123456789012345678901234567890123456789012345678901234567890123456"}) {
    st = pki_issue(pki(), bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("not a device name"), std::string::npos) << st.message();
  }
  ASSERT_TRUE(pki_issue(pki(), "n").ok());
  st = pki_issue(pki(), "n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("exists already"), std::string::npos) << st.message();
  st = pki_verify(pki(), write("junk.crt", "not a certificate"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a PEM certificate"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace moe::net
