#include "ui/history_unlock_dialog.h"

#include <QApplication>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/chat_store.h"

namespace moe::ui {

HistoryUnlockDialog::HistoryUnlockDialog(ChatStore* store, QWidget* parent)
    : QDialog(parent), store_(store) {
  setObjectName("historyUnlock");
  setWindowTitle(tr("Unlock the chat history"));
  setMinimumWidth(520);
  auto* layout = new QVBoxLayout(this);
  // A key kept in the desktop keyring that could not be had (MainWindow tried): nothing to type,
  // the same way out as a lost passphrase.
  const bool keyring = store->uses_keyring();
  auto* intro = new QLabel(
      keyring ? tr("The chat history is encrypted with a key kept in the desktop keyring, and "
                   "that key cannot be used: %1.\nWithout it the history cannot be read. Start a "
                   "new empty history (this one is kept, renamed, next to it) or quit.\n%2")
                    .arg(store->last_error(), store->path())
              : tr("The chat history is encrypted. Enter its passphrase to open it.\n%1")
                    .arg(store->path()));
  intro->setObjectName("historyUnlockIntro");
  intro->setWordWrap(true);
  layout->addWidget(intro);
  passphrase_ = new QLineEdit;
  passphrase_->setObjectName("historyPassphrase");
  passphrase_->setEchoMode(QLineEdit::Password);
  passphrase_->setPlaceholderText(tr("Passphrase"));
  passphrase_->setVisible(!keyring);
  layout->addWidget(passphrase_);
  error_ = new QLabel;
  error_->setObjectName("historyUnlockError");
  error_->setWordWrap(true);
  error_->setStyleSheet("color:#8b1a1a;font-weight:600;");
  error_->setMinimumHeight(3 * error_->fontMetrics().lineSpacing());  // room for the message
  error_->setVisible(false);
  layout->addWidget(error_);

  auto* buttons = new QDialogButtonBox;
  unlock_ = buttons->addButton(tr("Unlock"), QDialogButtonBox::AcceptRole);
  unlock_->setObjectName("unlockHistory");
  unlock_->setDefault(!keyring);
  unlock_->setVisible(!keyring);
  QPushButton* fresh =
      buttons->addButton(tr("Start a new empty history…"), QDialogButtonBox::DestructiveRole);
  fresh->setObjectName("newEmptyHistory");
  fresh->setToolTip(tr("The encrypted history is kept, renamed, next to the new one."));
  QPushButton* quit = buttons->addButton(tr("Quit"), QDialogButtonBox::RejectRole);
  quit->setObjectName("quitApp");
  layout->addWidget(buttons);
  // Enter in the field unlocks (the default button); Escape is Quit (reject).
  connect(unlock_, &QPushButton::clicked, this, &HistoryUnlockDialog::try_unlock);
  connect(fresh, &QPushButton::clicked, this, [this] {
    outcome_ = Outcome::kNewHistory;
    accept();
  });
  connect(quit, &QPushButton::clicked, this, &QDialog::reject);
  passphrase_->setFocus();
}

void HistoryUnlockDialog::try_unlock() {
  QApplication::setOverrideCursor(Qt::WaitCursor);  // Argon2id takes a fraction of a second
  const bool ok = store_->unlock(passphrase_->text());
  QApplication::restoreOverrideCursor();
  if (ok) {
    outcome_ = Outcome::kUnlocked;
    accept();
    return;
  }
  error_->setText(tr("Could not unlock: %1. Nothing was changed — try again, start a new "
                     "empty history, or quit.")
                      .arg(store_->last_error()));
  error_->setVisible(true);
  passphrase_->selectAll();
  passphrase_->setFocus();
}

QString move_history_aside(const QString& path, QString* error) {
  const QString aside =
      path + ".unreadable-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const QString from = path + suffix;
    if (QFile::exists(from) && !QFile::rename(from, aside + suffix)) {
      *error = QObject::tr("could not rename %1 to %2").arg(from, aside + suffix);
      return {};
    }
  }
  return aside;
}

}  // namespace moe::ui
