#include "netlink/pki.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>

#include "core/util/atomic_file.h"
#include "netlink/openssl_error.h"

namespace moe::net {
namespace {

namespace fs = std::filesystem;

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Crl = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Revoked = std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED, X509_REVOKED_free>>;

std::string ca_key_path(const std::string& dir) { return dir + "/ca.key"; }
std::string ca_crt_path(const std::string& dir) { return dir + "/ca.crt"; }
std::string crl_path(const std::string& dir) { return dir + "/crl.pem"; }
std::string device_path(const std::string& dir, const std::string& name, const char* ext) {
  return dir + "/devices/" + name + ext;
}

std::string pem_of(const std::function<int(BIO*)>& write) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || write(b.get()) != 1) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// A private key: created exclusively with mode 0600, never replaced.
Status write_private_key(const std::string& path, EVP_PKEY* key) {
  const std::string pem = pem_of([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (pem.empty()) return make_error(path, ": cannot encode the key: ", openssl_error());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(path, ": ",
                      errno == EEXIST ? "exists already (a key is never overwritten)"
                                      : std::strerror(errno));
  }
  const ssize_t w = ::write(fd, pem.data(), pem.size());
  const bool ok = w == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return make_error(path, ": write failed");
  }
  return {};
}

Status write_public(const std::string& path, const std::string& pem) {
  if (pem.empty()) return make_error(path, ": cannot encode: ", openssl_error());
  auto f = AtomicFile::create(path);
  if (!f.ok()) return f.error();
  if (auto st = f->write({reinterpret_cast<const uint8_t*>(pem.data()), pem.size()}); !st.ok()) {
    return st;
  }
  return f->commit();
}

Result<Key> read_key(const std::string& path) {
  Bio b(BIO_new_file(path.c_str(), "r"));
  if (!b) return make_error(path, ": cannot open (", std::strerror(errno), ")");
  Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) return make_error(path, ": not a PEM private key: ", openssl_error());
  return k;
}

Result<Cert> read_cert(const std::string& path) {
  Bio b(BIO_new_file(path.c_str(), "r"));
  if (!b) return make_error(path, ": cannot open (", std::strerror(errno), ")");
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) return make_error(path, ": not a PEM certificate: ", openssl_error());
  return c;
}

Result<Crl> read_crl(const std::string& path) {
  Bio b(BIO_new_file(path.c_str(), "r"));
  if (!b) return make_error(path, ": cannot open (", std::strerror(errno), ")");
  Crl c(PEM_read_bio_X509_CRL(b.get(), nullptr, nullptr, nullptr));
  if (!c) return make_error(path, ": not a PEM CRL: ", openssl_error());
  return c;
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

// A fresh certificate with a random 127-bit serial, subject CN = cn, O = MoE Studio.
Cert new_cert(const std::string& cn, EVP_PKEY* key, int64_t not_before_s, int64_t valid_s) {
  Cert c(X509_new());
  if (!c) return c;
  Bn serial(BN_new());
  X509_NAME* name = X509_get_subject_name(c.get());
  const bool ok =
      serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get())) != nullptr &&
      X509_set_version(c.get(), 2) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(c.get()), static_cast<long>(not_before_s)) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(c.get()), static_cast<long>(not_before_s + valid_s)) !=
          nullptr &&
      X509_set_pubkey(c.get(), key) == 1 &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("MoE Studio"), -1, -1,
                                 0) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) == 1;
  if (!ok) c.reset();
  return c;
}

Status sign_and_save_crl(const std::string& dir, X509* ca, EVP_PKEY* ca_key, X509_CRL* crl) {
  if (X509_CRL_set_version(crl, 1) != 1 ||
      X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1) {
    return make_error(crl_path(dir), ": ", openssl_error());
  }
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 3650L * 86400);
  const bool ok = now != nullptr && next != nullptr && X509_CRL_set1_lastUpdate(crl, now) == 1 &&
                  X509_CRL_set1_nextUpdate(crl, next) == 1 && X509_CRL_sort(crl) == 1 &&
                  X509_CRL_sign(crl, ca_key, EVP_sha256()) > 0;
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  if (!ok) return make_error(crl_path(dir), ": cannot sign: ", openssl_error());
  return write_public(crl_path(dir), pem_of([&](BIO* b) { return PEM_write_bio_X509_CRL(b, crl); }));
}

std::string time_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string serial_hex(X509* c) {
  Bn bn(ASN1_INTEGER_to_BN(X509_get_serialNumber(c), nullptr));
  if (!bn) return "?";
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex != nullptr ? hex : "?";
  OPENSSL_free(hex);
  return s;
}

std::string common_name(X509* c) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, sizeof(buf));
  return buf;
}

}  // namespace

Result<std::string> default_pki_dir() {
  if (const char* d = std::getenv("MOE_PKI_DIR"); d != nullptr && *d != '\0') return std::string(d);
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x == '/') {
    return std::string(x) + "/moe-studio/pki";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
    return std::string(h) + "/.config/moe-studio/pki";
  }
  return make_error("no folder for the PKI: set MOE_PKI_DIR, XDG_CONFIG_HOME or HOME");
}

Result<std::string> pki_dir_or_default(const std::string& dir) {
  if (!dir.empty()) return dir;
  return default_pki_dir();
}

bool valid_device_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status pki_init(const std::string& dir, const CaOptions& options) {
  std::error_code ec;
  if (fs::exists(ca_key_path(dir), ec)) {
    return make_error(dir, ": a CA exists there already (", ca_key_path(dir),
                      "); issue device certificates with it, or choose another folder");
  }
  fs::create_directories(dir + "/devices", ec);
  if (ec) return make_error(dir, ": cannot create the folder: ", ec.message());
  ::chmod(dir.c_str(), 0700);
  ::chmod((dir + "/devices").c_str(), 0700);
  Key key(EVP_EC_gen("P-256"));
  if (!key) return make_error("cannot generate the CA key: ", openssl_error());
  Cert ca = new_cert(options.name, key.get(), 0, int64_t{options.days} * 86400);
  if (!ca || X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) != 1 ||
      !add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(ca.get(), key.get(), EVP_sha256()) <= 0) {
    return make_error("cannot create the CA certificate: ", openssl_error());
  }
  if (auto st = write_private_key(ca_key_path(dir), key.get()); !st.ok()) return st;
  if (auto st = write_public(ca_crt_path(dir),
                             pem_of([&](BIO* b) { return PEM_write_bio_X509(b, ca.get()); }));
      !st.ok()) {
    return st;
  }
  Crl crl(X509_CRL_new());
  if (!crl) return make_error("cannot create the CRL: ", openssl_error());
  return sign_and_save_crl(dir, ca.get(), key.get(), crl.get());
}

Status pki_issue(const std::string& dir, const std::string& name, const IssueOptions& o) {
  if (!valid_device_name(name)) {
    return make_error("'", name, "' is not a device name: 1-64 of A-Z a-z 0-9 . _ -, not "
                      "starting with . or -");
  }
  auto ca_key = read_key(ca_key_path(dir));
  if (!ca_key.ok()) return make_error(ca_key.message(), " (run `moe-cli pki init` first)");
  auto ca = read_cert(ca_crt_path(dir));
  if (!ca.ok()) return ca.error();
  std::error_code ec;
  if (fs::exists(device_path(dir, name, ".crt"), ec)) {
    return make_error("a certificate for '", name, "' exists already (",
                      device_path(dir, name, ".crt"), "); revoke it and issue another name");
  }
  fs::create_directories(dir + "/devices", ec);
  Key key(EVP_EC_gen("P-256"));
  if (!key) return make_error("cannot generate a key: ", openssl_error());
  Cert c = new_cert(name, key.get(), o.not_before_offset.count(), o.days * 86400);
  const std::string san = "DNS:" + name;
  if (!c || X509_set_issuer_name(c.get(), X509_get_subject_name(ca->get())) != 1 ||
      !add_ext(c.get(), ca->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c.get(), ca->get(), NID_key_usage, "critical,digitalSignature") ||
      !add_ext(c.get(), ca->get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_ext(c.get(), ca->get(), NID_subject_alt_name, san.c_str()) ||
      !add_ext(c.get(), ca->get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(c.get(), ca_key->get(), EVP_sha256()) <= 0) {
    return make_error("cannot create the certificate for '", name, "': ", openssl_error());
  }
  if (auto st = write_private_key(device_path(dir, name, ".key"), key.get()); !st.ok()) return st;
  return write_public(device_path(dir, name, ".crt"),
                      pem_of([&](BIO* b) { return PEM_write_bio_X509(b, c.get()); }));
}

Status pki_revoke(const std::string& dir, const std::string& name) {
  if (!valid_device_name(name)) return make_error("'", name, "' is not a device name");
  auto ca_key = read_key(ca_key_path(dir));
  if (!ca_key.ok()) return ca_key.error();
  auto ca = read_cert(ca_crt_path(dir));
  if (!ca.ok()) return ca.error();
  auto cert = read_cert(device_path(dir, name, ".crt"));
  if (!cert.ok()) return cert.error();
  auto crl = read_crl(crl_path(dir));
  if (!crl.ok()) return crl.error();
  X509_REVOKED* found = nullptr;
  if (X509_CRL_get0_by_serial(crl->get(), &found, X509_get_serialNumber(cert->get())) == 1) {
    return make_error("'", name, "' is revoked already");
  }
  Revoked r(X509_REVOKED_new());
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  const bool ok = r && now != nullptr &&
                  X509_REVOKED_set_serialNumber(r.get(), X509_get_serialNumber(cert->get())) == 1 &&
                  X509_REVOKED_set_revocationDate(r.get(), now) == 1 &&
                  X509_CRL_add0_revoked(crl->get(), r.get()) == 1;
  ASN1_TIME_free(now);
  if (!ok) return make_error("cannot revoke '", name, "': ", openssl_error());
  r.release();  // owned by the CRL now
  return sign_and_save_crl(dir, ca->get(), ca_key->get(), crl->get());
}

Result<std::vector<IssuedCert>> pki_list(const std::string& dir) {
  auto crl = read_crl(crl_path(dir));
  if (!crl.ok()) return crl.error();
  std::vector<IssuedCert> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/devices", ec)) {
    if (e.path().extension() != ".crt") continue;
    auto c = read_cert(e.path().string());
    if (!c.ok()) return c.error();
    IssuedCert ic;
    ic.name = e.path().stem().string();
    ic.subject = common_name(c->get());
    ic.serial = serial_hex(c->get());
    ic.not_after = time_text(X509_get0_notAfter(c->get()));
    X509_REVOKED* r = nullptr;
    ic.revoked = X509_CRL_get0_by_serial(crl->get(), &r, X509_get_serialNumber(c->get())) == 1;
    ic.expired = X509_cmp_current_time(X509_get0_notAfter(c->get())) < 0;
    out.push_back(std::move(ic));
  }
  if (ec) return make_error(dir, "/devices: ", ec.message());
  std::sort(out.begin(), out.end(),
            [](const IssuedCert& a, const IssuedCert& b) { return a.name < b.name; });
  return out;
}

Status pki_verify(const std::string& dir, const std::string& cert_path) {
  auto ca = read_cert(ca_crt_path(dir));
  if (!ca.ok()) return ca.error();
  auto crl = read_crl(crl_path(dir));
  if (!crl.ok()) return crl.error();
  auto cert = read_cert(cert_path);
  if (!cert.ok()) return cert.error();
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca->get()) != 1 ||
      X509_STORE_add_crl(store.get(), crl->get()) != 1 ||
      X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return make_error(cert_path, ": ", openssl_error());
  }
  if (X509_verify_cert(ctx.get()) == 1) return {};
  return make_error(cert_path, ": ",
                    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
}

}  // namespace moe::net
