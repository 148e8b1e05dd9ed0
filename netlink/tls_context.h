#pragma once
// TLS for the expert RPC (docs/protocol.md): TLS 1.3 only, mutual authentication by the
// deployment CA (`moe-cli pki`), revocation list checked. Both ends present a certificate; a
// peer without one, with one of another CA, expired or revoked fails the handshake, and the
// reason is logged on the side that refused it.
#include <functional>
#include <memory>
#include <string>

#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "core/util/status.h"

namespace moe::net {

/// PEM files of one end: the deployment CA and CRL, its own certificate and key.
struct TlsFiles {
  std::string ca, crl, cert, key;
  /// The files of device or host `name` in a `moe-cli pki` folder.
  static TlsFiles from_pki_dir(const std::string& dir, const std::string& name);
};

enum class TlsRole { kServer, kClient };
using LogFn = std::function<void(const std::string&)>;

/// A context for one role. `log` gets one line per refused peer certificate ("peer
/// certificate refused: certificate revoked (CN=node-1)") and one per reload of the CRL.
/// Errors name the file.
Result<std::shared_ptr<asio::ssl::context>> make_tls_context(TlsRole role, const TlsFiles& files,
                                                             LogFn log = {});

/// Before a handshake on a connection of such a context: verify the peer against the CRL as it
/// is on disk now. crl.pem is read again when it changed since the last handshake (another
/// inode, size or modification time: `moe-cli pki revoke`, or a new copy from the operator), so
/// a newly revoked peer is refused at its next connection without restarting either end; a
/// CRL that cannot be read is logged and the previous one stays in force. Connections already
/// open are not cut.
void use_current_revocations(SSL* ssl);

}  // namespace moe::net
