// ChatStore's private history: encryption at rest (sealing at the value boundary, migration in
// one transaction, unlock with a key check), retention, scrubbing deleted text out of the files,
// and the off-the-record in-memory database. The rest of the store is in chat_store.cpp.
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include "ui/chat_store.h"
#include "ui/history_crypto.h"
#include "ui/history_keyring.h"

namespace moe::ui {

namespace {
QSqlDatabase db(const QString& connection) {
  return QSqlDatabase::database(connection, false);
}
// kv keys of the key derivation (all under ChatStore's plain "privacy." prefix).
const char* kSchemeKey = "privacy.scheme";
const char* kSaltKey = "privacy.salt";
const char* kOpsKey = "privacy.opslimit";
const char* kMemKey = "privacy.memlimit";
const char* kCheckKey = "privacy.key_check";
const char* kRetentionKey = "privacy.retention_days";
const char* kKeyringIdKey = "privacy.keyring_id";
// The schemes this build writes and reads: secretbox values (history_crypto.h) under an
// Argon2id key from a passphrase, or under a random key kept in the desktop keyring, found
// there by the random id in privacy.keyring_id.
const char* kScheme = "secretbox-argon2id-v1";
const char* kKeyringScheme = "secretbox-keyring-v1";
constexpr qint64 kDayMs = 24LL * 3600 * 1000;

// Every column that holds patient text: (table, row key, column, which rows).
struct TextColumn {
  const char *table, *key, *column, *where;
};
constexpr TextColumn kTextColumns[] = {
    {"conversations", "id", "title", ""},
    {"conversations", "id", "system_prompt", ""},
    {"messages", "id", "content", ""},
    {"kv", "key", "value", " WHERE substr(key, 1, 8) <> 'privacy.' AND key <> '.write_probe'"},
};
}  // namespace

// Out of line: HistoryKey is complete only here.
ChatStore::ChatStore() = default;

QVariant ChatStore::seal(const QString& text) const {
  // Locked: SQL NULL, which the NOT NULL text columns refuse, so no plaintext ever lands in an
  // encrypted file.
  if (locked()) return QVariant();
  return seal_value(key_.get(), text);
}

QString ChatStore::unseal(const QVariant& value, int* unreadable) const {
  if (auto text = open_value(key_.get(), value)) return *text;
  ++*unreadable;
  return QObject::tr("[unreadable: this text cannot be decrypted]");
}

void ChatStore::load_privacy_state() {
  encrypted_ = !value(kSchemeKey).isEmpty();
  key_.reset();
}

bool ChatStore::load_key_derivation(KeyDerivation* kd) const {
  const QString scheme = value(kSchemeKey);
  if (scheme == kKeyringScheme) {
    error_ = QObject::tr("the history's key is kept in the desktop keyring; it has no passphrase");
    return false;
  }
  if (scheme != kScheme) {
    error_ = QObject::tr("the history is encrypted with \"%1\", which this version cannot read")
                 .arg(scheme);
    return false;
  }
  kd->salt = QByteArray::fromBase64(value(kSaltKey).toLatin1());
  kd->opslimit = value(kOpsKey).toULongLong();
  kd->memlimit = value(kMemKey).toULongLong();
  return true;
}

bool ChatStore::write_key_derivation(const HistoryKey& key, const KeyDerivation& kd) {
  return put_value(kSchemeKey, kScheme) && put_value(kSaltKey, kd.salt.toBase64()) &&
         put_value(kOpsKey, QString::number(kd.opslimit)) &&
         put_value(kMemKey, QString::number(kd.memlimit)) &&
         put_value(kCheckKey, key_check_value(key).toBase64());
}

namespace {
// The key for `passphrase` under `kd`, or null with `error` set.
std::unique_ptr<HistoryKey> derive_or_explain(const QString& passphrase, const KeyDerivation& kd,
                                              QString* error) {
  if (passphrase.isEmpty()) {
    *error = QObject::tr("the passphrase is empty");
    return nullptr;
  }
  auto key = derive_history_key(passphrase, kd);
  if (!key)
    *error = QObject::tr(
        "the key could not be derived from the passphrase (not enough memory for Argon2id, or "
        "damaged key parameters in the history)");
  return key;
}
}  // namespace

bool ChatStore::unlock(const QString& passphrase) {
  if (!encrypted_) return true;
  KeyDerivation kd;
  if (!load_key_derivation(&kd)) return false;
  auto key = derive_or_explain(passphrase, kd, &error_);
  if (!key) return false;
  if (!key_matches(*key, QByteArray::fromBase64(value(kCheckKey).toLatin1()))) {
    error_ = QObject::tr("the passphrase is wrong");
    return false;
  }
  key_ = std::move(key);
  return true;
}

bool ChatStore::uses_keyring() const {
  return encrypted_ && value(kSchemeKey) == kKeyringScheme;
}

bool ChatStore::enable_keyring_encryption() {
  if (encrypted_) {
    error_ = QObject::tr("the history is already encrypted");
    return false;
  }
  auto key = random_history_key();
  if (!key) {
    error_ = QObject::tr("libsodium could not start (no random source)");
    return false;
  }
  // The key reaches the keyring before any value is sealed under it: a refusal changes nothing.
  const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
  if (!keyring_store(id, QObject::tr("MoE Studio chat history key (%1)").arg(path_), *key, &error_))
    return false;
  const bool ok = run_transaction([&] {
    return recode(nullptr, key.get()) && put_value(kSchemeKey, kKeyringScheme) &&
           put_value(kKeyringIdKey, id) && put_value(kCheckKey, key_check_value(*key).toBase64());
  });
  if (!ok) {
    QString ignored;  // nothing was sealed under it: an orphan item would only be clutter
    keyring_remove(id, &ignored);
    return false;
  }
  key_ = std::move(key);
  encrypted_ = true;
  return scrub();
}

bool ChatStore::unlock_from_keyring() {
  if (!encrypted_ || key_) return true;
  if (!uses_keyring()) {
    error_ = QObject::tr("the history is encrypted with a passphrase");
    return false;
  }
  QString why;
  if (!keyring_reachable(&why)) {
    error_ =
        QObject::tr("its key is kept in the desktop keyring, which cannot be reached: %1").arg(why);
    return false;
  }
  auto key = std::make_unique<HistoryKey>();
  switch (keyring_lookup(value(kKeyringIdKey), key.get(), &error_)) {
    case KeyringLookup::kFound:
      break;
    case KeyringLookup::kMissing:
      error_ = QObject::tr(
          "its key is not in the desktop keyring (deleted there, or this is another user's or "
          "another machine's keyring)");
      return false;
    case KeyringLookup::kFailed:
      return false;
  }
  if (!key_matches(*key, QByteArray::fromBase64(value(kCheckKey).toLatin1()))) {
    error_ = QObject::tr("the key in the desktop keyring does not belong to this history");
    return false;
  }
  key_ = std::move(key);
  return true;
}

bool ChatStore::recode(const HistoryKey* from, const HistoryKey* to) {
  for (const TextColumn& c : kTextColumns) {
    QSqlQuery read(db(connection_));
    if (!read.exec(QString("SELECT %1, %2 FROM %3%4").arg(c.key, c.column, c.table, c.where))) {
      error_ = read.lastError().text();
      return false;
    }
    QVector<QPair<QVariant, QString>> rows;
    while (read.next()) {
      const auto text = open_value(from, read.value(1));
      if (!text) {
        error_ = QObject::tr("%1 %2 of %3 cannot be decrypted; nothing was changed")
                     .arg(c.column, read.value(0).toString(), c.table);
        return false;
      }
      rows.push_back({read.value(0), *text});
    }
    if (read.lastError().isValid()) {
      error_ = read.lastError().text();
      return false;
    }
    QSqlQuery write(db(connection_));
    write.prepare(QString("UPDATE %1 SET %2 = ? WHERE %3 = ?").arg(c.table, c.column, c.key));
    for (const auto& [row, text] : rows) {
      write.bindValue(0, seal_value(to, text));
      write.bindValue(1, row);
      if (!write.exec()) {
        error_ = write.lastError().text();
        return false;
      }
    }
  }
  return true;
}

bool ChatStore::enable_encryption(const QString& passphrase) {
  if (encrypted_) {
    error_ = QObject::tr("the history is already encrypted");
    return false;
  }
  if (!history_crypto_ready()) {
    error_ = QObject::tr("libsodium could not start (no random source)");
    return false;
  }
  const KeyDerivation kd = KeyDerivation::fresh();
  auto key = derive_or_explain(passphrase, kd, &error_);
  if (!key) return false;
  if (!run_transaction(
          [&] { return recode(nullptr, key.get()) && write_key_derivation(*key, kd); }))
    return false;
  key_ = std::move(key);
  encrypted_ = true;
  return scrub();
}

bool ChatStore::disable_encryption() {
  if (!encrypted_) return true;
  if (!key_) {
    error_ = QObject::tr("the history is locked");
    return false;
  }
  const QString keyring_id = uses_keyring() ? value(kKeyringIdKey) : QString();
  const bool ok = run_transaction([&] {
    QSqlQuery q(db(connection_));
    if (!recode(key_.get(), nullptr)) return false;
    if (!q.exec("DELETE FROM kv WHERE key IN ('privacy.scheme', 'privacy.salt', "
                "'privacy.opslimit', 'privacy.memlimit', 'privacy.key_check', "
                "'privacy.keyring_id')")) {
      error_ = q.lastError().text();
      return false;
    }
    return true;
  });
  if (!ok) return false;
  key_.reset();
  encrypted_ = false;
  // Nothing is sealed under the keyring's key any more. Should the keyring refuse to delete
  // it, the item is harmless and the history is already plain; the scrub is what matters.
  QString ignored;
  if (!keyring_id.isEmpty()) keyring_remove(keyring_id, &ignored);
  return scrub();
}

bool ChatStore::change_passphrase(const QString& current, const QString& next) {
  if (!encrypted_ || !key_) {
    error_ = QObject::tr("the history is not encrypted and unlocked");
    return false;
  }
  KeyDerivation old_kd;
  if (!load_key_derivation(&old_kd)) return false;
  auto check = derive_or_explain(current, old_kd, &error_);
  if (!check) return false;
  if (!key_matches(*check, QByteArray::fromBase64(value(kCheckKey).toLatin1()))) {
    error_ = QObject::tr("the current passphrase is wrong");
    return false;
  }
  const KeyDerivation kd = KeyDerivation::fresh();
  auto key = derive_or_explain(next, kd, &error_);
  if (!key) return false;
  if (!run_transaction(
          [&] { return recode(key_.get(), key.get()) && write_key_derivation(*key, kd); }))
    return false;
  key_ = std::move(key);
  return scrub();
}

bool ChatStore::scrub() {
  if (off_the_record()) return true;  // nothing of it is on disk
  // TRUNCATE leaves a zero-length WAL, so old page images (the text before it was deleted or
  // sealed) do not stay in the -wal file; VACUUM rebuilds the file without free pages.
  return exec("PRAGMA wal_checkpoint(TRUNCATE)") && exec("VACUUM") &&
         exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

int ChatStore::delete_conversations_before(const QDateTime& cutoff) {
  QSqlQuery q(db(connection_));
  q.prepare("DELETE FROM conversations WHERE updated_ms < ?");
  q.addBindValue(cutoff.toMSecsSinceEpoch());
  if (!q.exec()) {
    error_ = q.lastError().text();
    return -1;
  }
  const int n = q.numRowsAffected();  // their messages go with them (ON DELETE CASCADE)
  if (n > 0 && !scrub()) return -1;
  return n;
}

int ChatStore::retention_days() const {
  return value(kRetentionKey, "0").toInt();
}

bool ChatStore::set_retention_days(int days) {
  return put_value(kRetentionKey, QString::number(std::max(days, 0)));
}

int ChatStore::apply_retention() {
  // Off the record the connection is the in-memory one: the file waits for the next run.
  if (off_the_record()) return 0;
  const int days = retention_days();
  if (days <= 0) return 0;
  return delete_conversations_before(
      QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch() - days * kDayMs));
}

bool ChatStore::delete_all_conversations() {
  const bool ok = run_transaction([&] {
    return exec("DELETE FROM messages") && exec("DELETE FROM conversations") &&
           exec("DELETE FROM kv WHERE substr(key, 1, 8) <> 'privacy.'");
  });
  return ok && scrub();
}

bool ChatStore::set_off_the_record(bool on) {
  if (on == off_the_record()) return true;
  if (!on) {
    const QString scratch = connection_;
    connection_ = disk_connection_;
    disk_connection_.clear();
    db(scratch).close();
    QSqlDatabase::removeDatabase(scratch);
    return true;
  }
  const QString name = "moe-chat-scratch-" + QUuid::createUuid().toString(QUuid::Id128);
  {
    QSqlDatabase d = QSqlDatabase::addDatabase("QSQLITE", name);
    d.setDatabaseName(":memory:");
    if (!d.open()) {
      error_ = d.lastError().text();
      d = QSqlDatabase();
      QSqlDatabase::removeDatabase(name);
      return false;
    }
  }
  // The same schema as the file's (whatever columns it has), read from the file itself.
  QStringList schema;
  {
    QSqlQuery q(db(connection_));
    q.exec("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'");
    while (q.next()) schema << q.value(0).toString();
  }
  disk_connection_ = connection_;
  connection_ = name;
  bool ok = exec("PRAGMA foreign_keys=ON");
  for (const QString& sql : schema) ok = ok && exec(sql);
  if (!ok) {
    const QString why = error_;
    set_off_the_record(false);
    error_ = why;
  }
  return ok;
}

}  // namespace moe::ui
