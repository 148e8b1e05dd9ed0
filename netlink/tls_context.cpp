#include "netlink/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>

#include "netlink/openssl_error.h"

namespace moe::net {
namespace {

Status add_crl(SSL_CTX* ctx, const std::string& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  if (b == nullptr) return make_error(path, ": cannot open (", std::strerror(errno), ")");
  X509_CRL* crl = PEM_read_bio_X509_CRL(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (crl == nullptr) return make_error(path, ": not a PEM CRL: ", openssl_error());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  const bool ok = X509_STORE_add_crl(store, crl) == 1 &&
                  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) == 1;
  X509_CRL_free(crl);
  if (!ok) return make_error(path, ": ", openssl_error());
  return {};
}

}  // namespace

TlsFiles TlsFiles::from_pki_dir(const std::string& dir, const std::string& name) {
  return {dir + "/ca.crt", dir + "/crl.pem", dir + "/devices/" + name + ".crt",
          dir + "/devices/" + name + ".key"};
}

Result<std::shared_ptr<asio::ssl::context>> make_tls_context(TlsRole role, const TlsFiles& files,
                                                             LogFn log) {
  auto ctx = std::make_shared<asio::ssl::context>(role == TlsRole::kServer
                                                      ? asio::ssl::context::tls_server
                                                      : asio::ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    return make_error("cannot require TLS 1.3: ", openssl_error());
  }
  std::error_code ec;
  ctx->load_verify_file(files.ca, ec);
  if (ec) return make_error(files.ca, ": not a CA certificate (", ec.message(), ")");
  ctx->use_certificate_chain_file(files.cert, ec);
  if (ec) return make_error(files.cert, ": not a certificate (", ec.message(), ")");
  ctx->use_private_key_file(files.key, asio::ssl::context::pem, ec);
  if (ec) return make_error(files.key, ": not this certificate's private key (", ec.message(), ")");
  if (SSL_CTX_check_private_key(native) != 1) {
    return make_error(files.key, ": does not match ", files.cert);
  }
  if (auto st = add_crl(native, files.crl); !st.ok()) return st.error();
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  ctx->set_verify_callback([log](bool preverified, asio::ssl::verify_context& vc) {
    if (!preverified && log) {
      X509_STORE_CTX* sc = vc.native_handle();
      const int err = X509_STORE_CTX_get_error(sc);
      char cn[256] = "?";
      if (X509* c = X509_STORE_CTX_get_current_cert(sc)) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof(cn));
      }
      log(std::string("peer certificate refused: ") + X509_verify_cert_error_string(err) +
          " (CN=" + cn + ")");
    }
    return preverified;
  });
  return ctx;
}

}  // namespace moe::net
