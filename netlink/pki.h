#pragma once
// The deployment's certificate authority for mutually authenticated TLS between the host and
// its expert devices (docs/protocol.md, `moe-cli pki`). Files in one folder (default
// $XDG_CONFIG_HOME/moe-studio/pki, else ~/.config/moe-studio/pki; mode 0700):
//   ca.key (0600, never leaves the operator's machine), ca.crt, crl.pem (revoked devices),
//   devices/<name>.crt and devices/<name>.key (0600): what a device (or the host) presents.
// Keys are EC P-256; certificates X.509 v3 signed with SHA-256: the CA with CA:TRUE, keyCertSign
// and cRLSign; a device with CA:FALSE, digitalSignature, serverAuth + clientAuth (the host and
// the devices use the same kind) and its name as CN and DNS subjectAltName. Private keys are
// created exclusively (an existing key is never overwritten).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace moe::net {

/// $MOE_PKI_DIR, else $XDG_CONFIG_HOME/moe-studio/pki, else $HOME/.config/moe-studio/pki.
Result<std::string> default_pki_dir();
/// `dir` when given (a --pki option), else default_pki_dir().
Result<std::string> pki_dir_or_default(const std::string& dir);

struct CaOptions {
  std::string name = "MoE Studio deployment CA";
  int days = 3650;
};
/// Creates the folder, the CA key and certificate and an empty CRL. Refuses when a CA is there.
Status pki_init(const std::string& dir, const CaOptions& options = {});

struct IssueOptions {
  int64_t days = 365;
  /// Start of validity relative to now (tests issue certificates that have already expired).
  std::chrono::seconds not_before_offset{0};
};
/// A device (or host) name: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool valid_device_name(const std::string& name);
/// Issues devices/<name>.{key,crt}; refuses an invalid name or one already issued.
Status pki_issue(const std::string& dir, const std::string& name, const IssueOptions& o = {});
/// Adds devices/<name>.crt's serial to the CRL (re-signed, replaced atomically).
Status pki_revoke(const std::string& dir, const std::string& name);

struct IssuedCert {
  std::string name;     ///< file stem under devices/
  std::string subject;  ///< CN
  std::string serial;   ///< hex
  std::string not_after;  ///< "2027-12-03 15:20:00 UTC"
  bool revoked = false;
  bool expired = false;
};
Result<std::vector<IssuedCert>> pki_list(const std::string& dir);

/// Checks a certificate file against the folder's CA and CRL as the TLS handshake will:
/// Ok, or an Error such as "node-1.crt: certificate revoked" / "... certificate has expired"
/// / "... unable to get local issuer certificate" (another CA).
Status pki_verify(const std::string& dir, const std::string& cert_path);

}  // namespace moe::net
