// moe-cli pki: the deployment's certificate authority for mutually authenticated TLS between
// the host and its expert devices (netlink/pki.h, docs/protocol.md).
//   moe-cli pki init                 CA key + certificate + empty revocation list
//   moe-cli pki issue NAME [--days]  devices/NAME.{key,crt} signed by the CA
//   moe-cli pki revoke NAME          NAME's certificate into the revocation list
//   moe-cli pki list                 issued certificates: expiry, revoked, expired
//   moe-cli pki verify CERT          checks CERT as the TLS handshake will
#include <cstdio>

#include "app/cli/command.h"
#include "netlink/pki.h"

namespace moe::cli {
namespace {

struct PkiArgs {
  std::string dir, name, cert;
  int64_t days = 365;
  int ca_days = 3650;
};

int fail(const std::string& m) {
  std::fprintf(stderr, "moe-cli pki: %s\n", m.c_str());
  return 1;
}

const CommandRegistration kPki{
    95, "pki", "Certificates for the LAN devices (a deployment CA, device certificates)",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<PkiArgs>();
      app.require_subcommand(1);
      app.footer(
          "Files live in --dir (default $MOE_PKI_DIR, else $XDG_CONFIG_HOME/moe-studio/pki, else "
          "~/.config/moe-studio/pki): ca.key (keep it on this machine), ca.crt and crl.pem (copy "
          "them to every device), devices/NAME.crt and devices/NAME.key (copy to device NAME "
          "only). Keys are EC P-256, certificates SHA-256; see docs/protocol.md.");
      app.add_option("--dir", a->dir, "PKI folder");
      auto* init = app.add_subcommand("init", "Create the deployment CA");
      init->add_option("--days", a->ca_days, "CA validity in days")
          ->check(CLI::Range(1, 36500));
      auto* issue = app.add_subcommand("issue", "Issue a device (or host) certificate");
      issue->add_option("name", a->name, "Device name (A-Z a-z 0-9 . _ -)")->required();
      issue->add_option("--days", a->days, "Validity in days")->check(CLI::Range(1, 36500));
      auto* revoke = app.add_subcommand("revoke", "Revoke a device's certificate");
      revoke->add_option("name", a->name, "Device name")->required();
      auto* list = app.add_subcommand("list", "List issued certificates");
      auto* verify = app.add_subcommand("verify", "Check a certificate against the CA and CRL");
      verify->add_option("cert", a->cert, "PEM certificate file")->required();
      return [a, init, issue, revoke, list, verify]() -> int {
        auto resolved = net::pki_dir_or_default(a->dir);
        if (!resolved.ok()) return fail(resolved.message());
        const std::string dir = *resolved;
        if (init->parsed()) {
          net::CaOptions o;
          o.days = a->ca_days;
          if (auto st = net::pki_init(dir, o); !st.ok()) return fail(st.message());
          std::printf("created the deployment CA in %s (ca.key, ca.crt, crl.pem)\n", dir.c_str());
          return 0;
        }
        if (issue->parsed()) {
          net::IssueOptions o;
          o.days = a->days;
          if (auto st = net::pki_issue(dir, a->name, o); !st.ok()) return fail(st.message());
          std::printf("issued %s/devices/%s.crt and .key (valid %lld days)\n", dir.c_str(),
                      a->name.c_str(), static_cast<long long>(a->days));
          return 0;
        }
        if (revoke->parsed()) {
          if (auto st = net::pki_revoke(dir, a->name); !st.ok()) return fail(st.message());
          std::printf("revoked %s; copy %s/crl.pem to every device\n", a->name.c_str(),
                      dir.c_str());
          return 0;
        }
        if (list->parsed()) {
          auto certs = net::pki_list(dir);
          if (!certs.ok()) return fail(certs.message());
          std::printf("%-24s %-25s %-10s %s\n", "name", "valid until", "state", "serial");
          for (const auto& c : *certs) {
            std::printf("%-24s %-25s %-10s %s\n", c.name.c_str(), c.not_after.c_str(),
                        c.revoked ? "revoked" : c.expired ? "expired" : "valid", c.serial.c_str());
          }
          return 0;
        }
        if (verify->parsed()) {
          if (auto st = net::pki_verify(dir, a->cert); !st.ok()) return fail(st.message());
          std::printf("%s: valid (issued by the CA in %s, not revoked)\n", a->cert.c_str(),
                      dir.c_str());
          return 0;
        }
        return 2;
      };
    }};

}  // namespace
}  // namespace moe::cli
