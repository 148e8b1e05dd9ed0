#pragma once
// Encryption at rest of the chat history's patient text (libsodium).
//
// Each value (message text, conversation title, system prompt, draft) is sealed on its own with
// crypto_secretbox_easy (XSalsa20-Poly1305) under a fresh random 24-byte nonce, and stored as a
// BLOB: [version 0x01][nonce 24][Poly1305 tag 16][ciphertext]. A damaged or foreign blob fails
// the tag check and is reported as unreadable; nothing half-decrypted is ever returned.
//
// The 32-byte key is random and kept in the desktop keyring when one is reachable
// (history_keyring.h), otherwise derived from the user's passphrase with Argon2id
// (crypto_pwhash), whose salt and cost parameters live in the database's kv table. Either way a
// key check value (a keyed BLAKE2b of a fixed label) sits next to them, so a wrong passphrase or
// a foreign keyring item is detected before anything is decrypted.
#include <QByteArray>
#include <QString>
#include <QVariant>
#include <array>
#include <memory>
#include <optional>

namespace moe::ui {

/// A secretbox key; wiped from memory when destroyed.
class HistoryKey {
 public:
  static constexpr int kBytes = 32;
  HistoryKey();
  ~HistoryKey();
  HistoryKey(const HistoryKey&) = delete;
  HistoryKey& operator=(const HistoryKey&) = delete;
  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }

 private:
  std::array<unsigned char, kBytes> bytes_{};
};

/// How a passphrase becomes a key: Argon2id with this salt and cost (stored in plain text in
/// the kv table; none of it is secret).
struct KeyDerivation {
  QByteArray salt;  ///< crypto_pwhash_SALTBYTES random bytes
  quint64 opslimit = 0;
  quint64 memlimit = 0;  ///< bytes
  /// A fresh random salt with libsodium's "interactive" cost (2 passes over 64 MiB: a fraction
  /// of a second here, the same for every guess an attacker makes).
  static KeyDerivation fresh();
};

/// False when libsodium cannot start (no usable random source); nothing else works then.
bool history_crypto_ready();

/// 32 random bytes (a key kept in the desktop keyring, history_keyring.h); null when libsodium
/// cannot start.
std::unique_ptr<HistoryKey> random_history_key();

/// The key for `passphrase`; null when Argon2id cannot run (out of memory, bad parameters).
std::unique_ptr<HistoryKey> derive_history_key(const QString& passphrase, const KeyDerivation& kd);

/// The key check value stored with the database: BLAKE2b-256 keyed with the key over a fixed
/// label. It reveals nothing about the key but tells a wrong passphrase apart.
QByteArray key_check_value(const HistoryKey& key);
/// Constant-time comparison of key_check_value(key) with `stored`.
bool key_matches(const HistoryKey& key, const QByteArray& stored);

/// The first byte of every sealed value.
constexpr unsigned char kSealVersion = 0x01;
QByteArray seal_text(const HistoryKey& key, const QString& text);
/// The text, or nullopt when the blob is not ours, damaged, or sealed under another key.
std::optional<QString> open_text(const HistoryKey& key, const QByteArray& blob);

/// The value to bind for a text column: `text` itself without a key, its sealed BLOB with one.
QVariant seal_value(const HistoryKey* key, const QString& text);
/// A column value read back: TEXT is returned as is when there is no key, a BLOB is opened with
/// the key. nullopt when it cannot be read: a BLOB without a key or that fails to open, or
/// non-empty TEXT where everything must be sealed (a plaintext row in an encrypted history).
std::optional<QString> open_value(const HistoryKey* key, const QVariant& value);

}  // namespace moe::ui
