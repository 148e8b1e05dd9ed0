#pragma once
// Asked at start when the chat history is encrypted: the passphrase, checked against the key
// check value before anything is decrypted. A wrong one says so and can be retried; the user can
// also start a new empty history (the unreadable file is moved aside, never deleted) or quit.
// For a history whose key lives in the desktop keyring it is shown only when that key could not
// be had (no keyring, key missing or foreign): it says why and offers the same two ways out.
#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;

namespace moe::ui {

class ChatStore;

class HistoryUnlockDialog : public QDialog {
  Q_OBJECT
 public:
  enum class Outcome { kUnlocked, kNewHistory, kQuit };
  HistoryUnlockDialog(ChatStore* store, QWidget* parent = nullptr);
  Outcome outcome() const { return outcome_; }

 private:
  void try_unlock();
  ChatStore* store_;
  Outcome outcome_ = Outcome::kQuit;
  QLineEdit* passphrase_ = nullptr;
  QLabel* error_ = nullptr;
  QPushButton* unlock_ = nullptr;
};

/// Moves the database `path` and its -wal / -shm files aside to "<path>.unreadable-<time>";
/// returns the new name of the database, empty (with `error`) when it could not be moved.
QString move_history_aside(const QString& path, QString* error);

}  // namespace moe::ui
