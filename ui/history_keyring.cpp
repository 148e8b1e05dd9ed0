#include "ui/history_keyring.h"

#include <QByteArray>
#include <QObject>
#include <cstring>

#include "ui/history_crypto.h"

#ifdef MOE_HAVE_LIBSECRET
// GLib's headers name struct members "signals", which Qt defines as a keyword macro.
#pragma push_macro("signals")
#undef signals
#include <libsecret/secret.h>
#pragma pop_macro("signals")
#include <sodium.h>
#endif

namespace moe::ui {

#ifdef MOE_HAVE_LIBSECRET
namespace {

// One item per history file: the attribute is the random id stored in the history's kv table.
const SecretSchema* key_schema() {
  static const SecretSchema schema = {
      "org.moe-studio.HistoryKey",
      SECRET_SCHEMA_NONE,
      {{"history", SECRET_SCHEMA_ATTRIBUTE_STRING}, {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}}};
  return &schema;
}

// Takes the GError's message and frees it.
QString take_message(GError* e) {
  const QString m = QString::fromUtf8(e->message);
  g_error_free(e);
  return m;
}

}  // namespace

bool keyring_reachable(QString* why) {
  if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")) {
    *why = QObject::tr("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)");
    return false;
  }
  // Opening a session is a real call to org.freedesktop.secrets: it fails when no service owns
  // or can activate that name.
  GError* e = nullptr;
  SecretService* service = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION, nullptr, &e);
  if (!service) {
    *why = QObject::tr("no Secret Service on the session bus (%1)").arg(take_message(e));
    return false;
  }
  g_object_unref(service);
  return true;
}

bool keyring_store(const QString& id, const QString& label, const HistoryKey& key, QString* error) {
  QByteArray secret =
      QByteArray(reinterpret_cast<const char*>(key.data()), HistoryKey::kBytes).toBase64();
  GError* e = nullptr;
  const gboolean ok = secret_password_store_sync(
      key_schema(), SECRET_COLLECTION_DEFAULT, label.toUtf8().constData(), secret.constData(),
      nullptr, &e, "history", id.toUtf8().constData(), nullptr);
  sodium_memzero(secret.data(), static_cast<size_t>(secret.size()));
  if (!ok) {
    *error = QObject::tr("the desktop keyring refused the key (%1)")
                 .arg(e ? take_message(e) : QObject::tr("no reason given"));
    return false;
  }
  return true;
}

KeyringLookup keyring_lookup(const QString& id, HistoryKey* key, QString* error) {
  GError* e = nullptr;
  gchar* secret = secret_password_lookup_sync(key_schema(), nullptr, &e, "history",
                                              id.toUtf8().constData(), nullptr);
  if (e) {
    *error = QObject::tr("the desktop keyring could not be read (%1)").arg(take_message(e));
    return KeyringLookup::kFailed;
  }
  if (!secret) return KeyringLookup::kMissing;
  QByteArray bytes = QByteArray::fromBase64(QByteArray(secret));
  secret_password_free(secret);  // wipes it
  const bool whole = bytes.size() == HistoryKey::kBytes;
  if (whole) std::memcpy(key->data(), bytes.constData(), HistoryKey::kBytes);
  sodium_memzero(bytes.data(), static_cast<size_t>(bytes.size()));
  if (!whole) {
    *error = QObject::tr("the desktop keyring's item for this history is not a key");
    return KeyringLookup::kFailed;
  }
  return KeyringLookup::kFound;
}

bool keyring_remove(const QString& id, QString* error) {
  GError* e = nullptr;
  (void)secret_password_clear_sync(key_schema(), nullptr, &e, "history", id.toUtf8().constData(),
                                   nullptr);
  if (e) {
    *error = QObject::tr("the key could not be deleted from the desktop keyring (%1)")
                 .arg(take_message(e));
    return false;
  }
  return true;
}

#else  // built without libsecret: never a keyring, always the passphrase

bool keyring_reachable(QString* why) {
  *why = QObject::tr("this build has no keyring support (libsecret was not found at build time)");
  return false;
}
bool keyring_store(const QString&, const QString&, const HistoryKey&, QString* error) {
  return keyring_reachable(error);
}
KeyringLookup keyring_lookup(const QString&, HistoryKey*, QString* error) {
  keyring_reachable(error);
  return KeyringLookup::kFailed;
}
bool keyring_remove(const QString&, QString* error) {
  return keyring_reachable(error);
}

#endif

}  // namespace moe::ui
