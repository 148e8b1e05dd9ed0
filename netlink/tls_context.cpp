#include "netlink/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "netlink/openssl_error.h"

namespace moe::net {
namespace {

// The trust store a handshake verifies the peer against: the deployment CA and its CRL.
Result<X509_STORE*> load_trust(const std::string& ca, const std::string& crl_file,
                               int* n_revoked) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return make_error("cannot create a trust store: ", openssl_error());
  const auto refuse = [store](auto&&... why) -> Result<X509_STORE*> {
    X509_STORE_free(store);
    return make_error(why...);
  };
  if (X509_STORE_load_file(store, ca.c_str()) != 1) {
    return refuse(ca, ": not a CA certificate (", openssl_error(), ")");
  }
  BIO* b = BIO_new_file(crl_file.c_str(), "r");
  if (b == nullptr) return refuse(crl_file, ": cannot open (", std::strerror(errno), ")");
  X509_CRL* crl = PEM_read_bio_X509_CRL(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (crl == nullptr) return refuse(crl_file, ": not a PEM CRL: ", openssl_error());
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  *n_revoked = revoked != nullptr ? sk_X509_REVOKED_num(revoked) : 0;
  const bool ok = X509_STORE_add_crl(store, crl) == 1 &&
                  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) == 1;
  X509_CRL_free(crl);
  if (!ok) return refuse(crl_file, ": ", openssl_error());
  return store;
}

// Identity of the CRL file as last read: a `moe-cli pki revoke` (atomic replace: new inode) or
// a copy over it (new size or modification time) changes it.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};
FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

// Per TLS context: the current trust store, re-read when crl.pem changes (checked at every
// handshake: a stat), so a revocation takes effect at the next connection without a restart.
struct Revocation {
  std::string ca, crl;
  LogFn log;
  std::mutex mu;
  FileStamp stamp;
  X509_STORE* store = nullptr;  // owned (one reference)
  ~Revocation() { X509_STORE_free(store); }

  // The store to verify a new connection's peer with (one reference for the caller).
  X509_STORE* current() {
    std::lock_guard lock(mu);
    const FileStamp now = stamp_of(crl);
    if (!(now == stamp)) {
      stamp = now;  // a bad file is reported once, not at every handshake
      int n = 0;
      auto fresh = load_trust(ca, crl, &n);
      if (!fresh.ok()) {
        if (log) log("revocation list not reloaded (the previous one stays in force): " + fresh.message());
      } else {
        X509_STORE_free(store);
        store = *fresh;
        if (log) log("revocation list reloaded from " + crl + ": " + std::to_string(n) + " revoked");
      }
    }
    X509_STORE_up_ref(store);
    return store;
  }
};

int revocation_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<Revocation*>(p); });
  return index;
}

}  // namespace

void use_current_revocations(SSL* ssl) {
  auto* r = static_cast<Revocation*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), revocation_index()));
  if (r == nullptr) return;
  X509_STORE* store = r->current();
  SSL_set1_verify_cert_store(ssl, store);  // takes its own reference
  X509_STORE_free(store);
}

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
  auto revocation = std::make_unique<Revocation>();
  revocation->ca = files.ca;
  revocation->crl = files.crl;
  revocation->log = log;
  revocation->stamp = stamp_of(files.crl);
  int n_revoked = 0;
  auto trust = load_trust(files.ca, files.crl, &n_revoked);
  if (!trust.ok()) return trust.error();
  revocation->store = *trust;
  std::error_code ec;
  ctx->use_certificate_chain_file(files.cert, ec);
  if (ec) return make_error(files.cert, ": not a certificate (", ec.message(), ")");
  ctx->use_private_key_file(files.key, asio::ssl::context::pem, ec);
  if (ec) return make_error(files.key, ": not this certificate's private key (", ec.message(), ")");
  if (SSL_CTX_check_private_key(native) != 1) {
    return make_error(files.key, ": does not match ", files.cert);
  }
  // The context's own store (its chain) is the CA; every handshake verifies the peer against
  // the Revocation's current store (use_current_revocations).
  if (X509_STORE_up_ref(revocation->store) != 1) return make_error("trust store: ", openssl_error());
  SSL_CTX_set_cert_store(native, revocation->store);
  if (SSL_CTX_set_ex_data(native, revocation_index(), revocation.get()) != 1) {
    return make_error("cannot attach the revocation list: ", openssl_error());
  }
  revocation.release();  // the context owns it now (freed with it)
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
