#pragma once
// Settings ▸ Privacy: encrypt the chat history with a passphrase (on/off, change passphrase),
// keep conversations for N days, delete all history. Each change is applied to the store at
// once (one transaction each) and reported in the dialog.
#include <QDialog>

class QCheckBox;
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
  /// False (with a message) while the chat is off the record: the settings are for the file.
  bool saved_history_open();
  void report(bool ok, const QString& done);

  ChatStore* store_;
  QCheckBox* encrypt_ = nullptr;
  QLineEdit *current_ = nullptr, *next_ = nullptr, *repeat_ = nullptr;
  QSpinBox* retention_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace moe::ui
