#pragma once
// The desktop keyring as the home of the chat history's key: any freedesktop Secret Service on
// the session bus (GNOME Keyring; KeePassXC and KWallet offer one too), through libsecret.
// When one answers, the history key is 32 random bytes kept there and nothing is typed; when
// none does, the history falls back to a passphrase (history_crypto.h). A build without
// libsecret never finds a keyring.
//
// The calls are synchronous and run on the UI thread (at start and in the Privacy dialog): a
// keyring answers within milliseconds, and when it is locked its own unlock prompt is what the
// user waits for. Only an explicit DBUS_SESSION_BUS_ADDRESS is used: no D-Bus autolaunch.
#include <QString>

namespace moe::ui {

class HistoryKey;

/// Whether a Secret Service answers on the session bus; when not, `why` says why.
bool keyring_reachable(QString* why);

/// Stores `key` in the default collection under the attribute history = `id`, labelled
/// `label` (what the keyring's own UI shows). False with `error`.
bool keyring_store(const QString& id, const QString& label, const HistoryKey& key, QString* error);

enum class KeyringLookup {
  kFound,    ///< the key is filled in
  kMissing,  ///< the keyring answered and holds no key for this id
  kFailed,   ///< the keyring could not be asked, or its item is not a key (`error` says which)
};
/// The key stored under `id`.
KeyringLookup keyring_lookup(const QString& id, HistoryKey* key, QString* error);

/// Deletes the key stored under `id` (true when there was none); false with `error`.
bool keyring_remove(const QString& id, QString* error);

}  // namespace moe::ui
