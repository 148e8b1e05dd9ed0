#include "ui/history_crypto.h"

#include <sodium.h>

namespace moe::ui {

namespace {
constexpr int kHeaderBytes = 1 + crypto_secretbox_NONCEBYTES;
// The label the key check value is computed over; changing it invalidates every stored check.
constexpr char kCheckLabel[] = "MoE Studio history key check v1";
static_assert(HistoryKey::kBytes == crypto_secretbox_KEYBYTES);
}  // namespace

HistoryKey::HistoryKey() {
  sodium_mlock(bytes_.data(), bytes_.size());  // best effort: keep the key out of swap
}

HistoryKey::~HistoryKey() {
  sodium_munlock(bytes_.data(), bytes_.size());  // also wipes it
}

bool history_crypto_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

KeyDerivation KeyDerivation::fresh() {
  KeyDerivation kd;
  kd.salt.resize(crypto_pwhash_SALTBYTES);
  randombytes_buf(kd.salt.data(), static_cast<size_t>(kd.salt.size()));
  kd.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  kd.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  return kd;
}

std::unique_ptr<HistoryKey> random_history_key() {
  if (!history_crypto_ready()) return nullptr;
  auto key = std::make_unique<HistoryKey>();
  randombytes_buf(key->data(), HistoryKey::kBytes);
  return key;
}

std::unique_ptr<HistoryKey> derive_history_key(const QString& passphrase, const KeyDerivation& kd) {
  if (!history_crypto_ready() || kd.salt.size() != crypto_pwhash_SALTBYTES ||
      kd.opslimit < crypto_pwhash_OPSLIMIT_MIN || kd.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      kd.memlimit < crypto_pwhash_MEMLIMIT_MIN || kd.memlimit > crypto_pwhash_MEMLIMIT_MAX)
    return nullptr;
  // NFC: the same passphrase typed on another system (composed vs decomposed accents) gives
  // the same key.
  QByteArray utf8 = passphrase.normalized(QString::NormalizationForm_C).toUtf8();
  auto key = std::make_unique<HistoryKey>();
  const int rc =
      crypto_pwhash(key->data(), HistoryKey::kBytes, utf8.constData(),
                    static_cast<unsigned long long>(utf8.size()),
                    reinterpret_cast<const unsigned char*>(kd.salt.constData()), kd.opslimit,
                    static_cast<size_t>(kd.memlimit), crypto_pwhash_ALG_ARGON2ID13);
  sodium_memzero(utf8.data(), static_cast<size_t>(utf8.size()));
  return rc == 0 ? std::move(key) : nullptr;
}

QByteArray key_check_value(const HistoryKey& key) {
  QByteArray out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), crypto_generichash_BYTES,
                     reinterpret_cast<const unsigned char*>(kCheckLabel), sizeof kCheckLabel - 1,
                     key.data(), HistoryKey::kBytes);
  return out;
}

bool key_matches(const HistoryKey& key, const QByteArray& stored) {
  const QByteArray mine = key_check_value(key);
  return stored.size() == mine.size() &&
         sodium_memcmp(mine.constData(), stored.constData(), static_cast<size_t>(mine.size())) == 0;
}

QByteArray seal_text(const HistoryKey& key, const QString& text) {
  const QByteArray plain = text.toUtf8();
  QByteArray out(kHeaderBytes + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kSealVersion;
  randombytes_buf(p + 1, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(p + kHeaderBytes, reinterpret_cast<const unsigned char*>(plain.constData()),
                        static_cast<unsigned long long>(plain.size()), p + 1, key.data());
  return out;
}

std::optional<QString> open_text(const HistoryKey& key, const QByteArray& blob) {
  if (blob.size() < kHeaderBytes + static_cast<int>(crypto_secretbox_MACBYTES)) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(blob.constData());
  if (p[0] != kSealVersion) return std::nullopt;
  const qsizetype n = blob.size() - kHeaderBytes;
  QByteArray plain(n - static_cast<qsizetype>(crypto_secretbox_MACBYTES), '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), p + kHeaderBytes,
                                 static_cast<unsigned long long>(n), p + 1, key.data()) != 0)
    return std::nullopt;
  return QString::fromUtf8(plain);
}

QVariant seal_value(const HistoryKey* key, const QString& text) {
  if (key == nullptr) return text.isNull() ? QString("") : text;  // the columns are NOT NULL
  return seal_text(*key, text);
}

std::optional<QString> open_value(const HistoryKey* key, const QVariant& value) {
  if (value.typeId() == QMetaType::QByteArray) {
    if (key == nullptr) return std::nullopt;
    return open_text(*key, value.toByteArray());
  }
  const QString text = value.toString();
  // An empty default ('' from the schema) says nothing; any other plaintext in an encrypted
  // history is refused, so the history is never half plaintext, half ciphertext.
  if (key != nullptr && !text.isEmpty()) return std::nullopt;
  return text;
}

}  // namespace moe::ui
