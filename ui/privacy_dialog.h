#pragma once
// Settings ▸ Privacy: encrypt the chat history (on/off) under a key kept in the desktop keyring
// when one is reachable, else under a passphrase (which can be changed); keep conversations for
// N days; delete all history. Each change is applied to the store at
// once (one transaction each) and reported in the dialog.
#include <QDialog>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace moe::ui {

class ChatStore;

class PrivacyDialog : public QDialog {
  Q_OBJECT
 public:
  PrivacyDialog(ChatStore* store, QWidget* parent = nullptr);

 signals:
  /// Conversations were deleted (retention or delete all): the chat should re-read them.
  void history_changed();

 private:
  void apply_encryption();
  void apply_retention();
  void delete_all();
  void refresh();
  /// The key's home for the history as it is (or would be, once encrypted): the keyring or a
  /// passphrase; shows the passphrase fields only for the latter.
  bool by_keyring() const;
  /// False (with a message) while the chat is off the record: the settings are for the file.
  bool saved_history_open();
  void report(bool ok, const QString& done);

  ChatStore* store_;
  bool keyring_ = false;  ///< a Secret Service answered when the dialog opened
  QString no_keyring_;    ///< why not, when it did not
  QFormLayout* crypt_form_ = nullptr;
  QCheckBox* encrypt_ = nullptr;
  QLabel* crypt_note_ = nullptr;
  QLineEdit *current_ = nullptr, *next_ = nullptr, *repeat_ = nullptr;
  QSpinBox* retention_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace moe::ui
