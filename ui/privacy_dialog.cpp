#include "ui/privacy_dialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/chat_store.h"
#include "ui/history_keyring.h"

namespace moe::ui {

namespace {
QLineEdit* password_field(const char* name, const QString& placeholder) {
  auto* e = new QLineEdit;
  e->setObjectName(name);
  e->setEchoMode(QLineEdit::Password);
  e->setPlaceholderText(placeholder);
  return e;
}
}  // namespace

PrivacyDialog::PrivacyDialog(ChatStore* store, QWidget* parent) : QDialog(parent), store_(store) {
  setObjectName("privacyDialog");
  setWindowTitle(tr("Privacy"));
  setMinimumWidth(560);
  auto* layout = new QVBoxLayout(this);

  keyring_ = keyring_reachable(&no_keyring_);
  auto* crypt = new QGroupBox(tr("Encryption at rest"));
  auto* crypt_form = crypt_form_ = new QFormLayout(crypt);
  encrypt_ = new QCheckBox;
  encrypt_->setObjectName("encryptHistory");
  current_ = password_field("currentPassphrase", tr("needed to change the passphrase"));
  next_ = password_field("newPassphrase", tr("new passphrase"));
  repeat_ = password_field("repeatPassphrase", tr("the same again"));
  auto* apply = new QPushButton(tr("Apply"));
  apply->setObjectName("applyEncryption");
  crypt_form->addRow(encrypt_);
  crypt_form->addRow(tr("Current passphrase:"), current_);
  crypt_form->addRow(tr("New passphrase:"), next_);
  crypt_form->addRow(tr("Repeat:"), repeat_);
  crypt_note_ = new QLabel;
  crypt_note_->setObjectName("encryptionNote");
  crypt_note_->setWordWrap(true);
  crypt_form->addRow(crypt_note_);
  crypt_form->addRow(apply);
  layout->addWidget(crypt);

  auto* keep = new QGroupBox(tr("Retention"));
  auto* keep_form = new QFormLayout(keep);
  retention_ = new QSpinBox;
  retention_->setObjectName("retentionDays");
  retention_->setRange(0, 3650);
  retention_->setSpecialValueText(tr("never"));
  retention_->setSuffix(tr(" days"));
  auto* apply_keep = new QPushButton(tr("Apply retention"));
  apply_keep->setObjectName("applyRetention");
  keep_form->addRow(tr("Delete conversations older than:"), retention_);
  keep_form->addRow(apply_keep);
  auto* wipe = new QPushButton(tr("Delete all history…"));
  wipe->setObjectName("deleteAllHistory");
  keep_form->addRow(wipe);
  layout->addWidget(keep);

  status_ = new QLabel;
  status_->setObjectName("privacyStatus");
  status_->setWordWrap(true);
  status_->setMinimumHeight(3 * status_->fontMetrics().lineSpacing());
  layout->addWidget(status_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  layout->addWidget(buttons);

  connect(apply, &QPushButton::clicked, this, &PrivacyDialog::apply_encryption);
  connect(apply_keep, &QPushButton::clicked, this, &PrivacyDialog::apply_retention);
  connect(wipe, &QPushButton::clicked, this, &PrivacyDialog::delete_all);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(encrypt_, &QCheckBox::toggled, this, [this](bool on) {
    next_->setEnabled(on);
    repeat_->setEnabled(on);
  });
  refresh();
}

bool PrivacyDialog::by_keyring() const {
  return store_->encrypted() ? store_->uses_keyring() : keyring_;
}

void PrivacyDialog::refresh() {
  const bool keyring = by_keyring();
  encrypt_->setText(keyring ? tr("Encrypt the chat history (key kept in the desktop keyring)")
                            : tr("Encrypt the chat history with a passphrase"));
  for (QLineEdit* e : {current_, next_, repeat_}) crypt_form_->setRowVisible(e, !keyring);
  const QString sealed =
      tr("Messages, titles, system prompts and the draft are sealed with "
         "XSalsa20-Poly1305 ");
  crypt_note_->setText(
      keyring ? sealed + tr("under a random key kept in the desktop keyring: nothing to type. "
                            "Where that keyring is not (another user or machine, the key "
                            "deleted from it), the history cannot be read.")
              : sealed +
                    tr("under a key derived from the passphrase (Argon2id). A lost "
                       "passphrase cannot be recovered.") +
                    (keyring_ ? QString() : tr("\nNo desktop keyring: %1.").arg(no_keyring_)));
  encrypt_->setChecked(store_->encrypted());
  current_->setEnabled(store_->encrypted());
  next_->setEnabled(encrypt_->isChecked());
  repeat_->setEnabled(encrypt_->isChecked());
  for (QLineEdit* e : {current_, next_, repeat_}) e->clear();
  retention_->setValue(store_->retention_days());
}

void PrivacyDialog::report(bool ok, const QString& done) {
  status_->setStyleSheet(ok ? "color:#1d5c2a;" : "color:#8b1a1a;font-weight:600;");
  status_->setText(ok ? done : tr("Not done: %1.").arg(store_->last_error()));
}

bool PrivacyDialog::saved_history_open() {
  if (!store_->off_the_record()) return true;
  status_->setStyleSheet("color:#8b1a1a;font-weight:600;");
  status_->setText(
      tr("The chat is in \"Don't save this conversation\" mode: untick it first, "
         "so these settings apply to the saved history."));
  return false;
}

void PrivacyDialog::apply_encryption() {
  if (!saved_history_open()) return;
  const bool want = encrypt_->isChecked();
  if (want && store_->uses_keyring()) {
    status_->setText(tr("Already encrypted; the key is in the desktop keyring."));
    return;
  }
  if (want && !by_keyring() && (next_->text() != repeat_->text())) {
    status_->setStyleSheet("color:#8b1a1a;font-weight:600;");
    status_->setText(tr("The two new passphrases differ. Nothing was changed."));
    return;
  }
  if (want && store_->encrypted() && next_->text().isEmpty()) {
    status_->setText(tr("Already encrypted. Type a new passphrase to change it."));
    return;
  }
  QApplication::setOverrideCursor(Qt::WaitCursor);
  bool ok = true;
  QString done;
  if (want && !store_->encrypted() && keyring_) {
    ok = store_->enable_keyring_encryption();
    done =
        tr("The history is now encrypted; its key is in the desktop keyring, so there is no "
           "passphrase to type at start.");
  } else if (want && !store_->encrypted()) {
    ok = store_->enable_encryption(next_->text());
    done = tr("The history is now encrypted. You will be asked for the passphrase at start.");
  } else if (want) {
    ok = store_->change_passphrase(current_->text(), next_->text());
    done = tr("The passphrase was changed; the history is re-encrypted under it.");
  } else if (store_->encrypted()) {
    ok = store_->disable_encryption();
    done = tr("The history is no longer encrypted.");
  }
  QApplication::restoreOverrideCursor();
  report(ok, done.isEmpty() ? tr("Nothing to change.") : done);
  if (ok) refresh();
}

void PrivacyDialog::apply_retention() {
  if (!saved_history_open()) return;
  const int days = retention_->value();
  const bool saved = store_->set_retention_days(days);
  const int deleted = saved ? store_->apply_retention() : -1;
  report(deleted >= 0, days == 0 ? tr("Conversations are kept until you delete them.")
                                 : tr("Conversations older than %n day(s) are deleted at start "
                                      "and daily; %1 deleted now.",
                                      nullptr, days)
                                       .arg(deleted));
  if (deleted > 0) emit history_changed();
}

void PrivacyDialog::delete_all() {
  if (!saved_history_open()) return;
  const auto answer =
      QMessageBox::warning(this, tr("Delete all history"),
                           tr("Delete every conversation and the draft? This cannot be undone."),
                           QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
  if (answer != QMessageBox::Yes) return;
  const bool ok = store_->delete_all_conversations();
  report(ok, tr("All conversations were deleted and scrubbed from the file."));
  if (ok) emit history_changed();
}

}  // namespace moe::ui
