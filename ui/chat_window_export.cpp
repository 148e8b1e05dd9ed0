// ChatWindow's copy and export: the conversation as Markdown with the model and settings that
// answered, per-message copy, and the transient message that says what was done (the rest of
// the chat is in chat_window.cpp).
#include <QApplication>
#include <QClipboard>
#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QRegularExpression>

#include "ui/chat_window.h"
#include "ui/engine_controller.h"
#include "ui/history_export.h"
#include "ui/markdown_export.h"

namespace moe::ui {

void ChatWindow::show_toast(const QString& text) {
  toast_->setText(text);
  toast_->show();
  toast_timer_.start();
  emit status_message(text);
}

QString ChatWindow::conversation_as_markdown() const {
  QString title;
  for (const auto& c : store_->conversations())
    if (c.id == conversation_) title = c.title;
  return conversation_markdown(title, store_->system_prompt(conversation_),
                               store_->messages(conversation_), export_about());
}

QString ChatWindow::export_about() const {
  if (!controller_->has_model()) return tr("**Model:** none loaded");
  const ModelInfo& m = controller_->model();
  const GenerationSettings& g = controller_->generation_settings();
  return tr("**Model:** %1 (%2)  \n**Quantization:** %3  \n**Settings:** temperature %4, "
            "top-k %5, top-p %6, max answer tokens %7, θ %8, experts per token %9, seed %10")
             .arg(m.name, QFileInfo(m.path).fileName(), m.file_type)
             .arg(g.sampler.temperature, 0, 'f', 2)
             .arg(g.sampler.top_k)
             .arg(g.sampler.top_p, 0, 'f', 2)
             .arg(g.max_new_tokens)
             .arg(controller_->theta(), 0, 'f', 2)
             .arg(controller_->experts_per_token())
             .arg(g.sampler.seed) +
         (g.pin_seed ? QString() : tr(" (not pinned: regenerated answers used fresh seeds)"));
}

QString ChatWindow::suggested_export_name() const {
  QString model = controller_->has_model() ? controller_->model().name : tr("no-model");
  model = model.replace(QRegularExpression("[^A-Za-z0-9._-]+"), "-")
              .remove(QRegularExpression("^-+|-+$"));
  return QString("conversation-%1-%2.md").arg(QDate::currentDate().toString("yyyy-MM-dd"), model);
}

void ChatWindow::export_with_dialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export conversation"),
                                                    QDir::home().filePath(suggested_export_name()),
                                                    tr("Markdown (*.md)"));
  if (path.isEmpty()) return;
  if (!export_conversation(path)) {
    QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1.").arg(path));
    return;
  }
  show_toast(tr("Exported the conversation to %1").arg(QDir::toNativeSeparators(path)));
}

void ChatWindow::copy_conversation() {
  const auto n = store_->messages(conversation_).size();
  QApplication::clipboard()->setText(conversation_as_markdown());
  show_toast(tr("Copied the conversation (%1 messages) as Markdown").arg(n));
}

void ChatWindow::copy_message(int index) {
  const auto msgs = store_->messages(conversation_);
  if (index < 0 || index >= msgs.size()) return;
  const StoredMessage& m = msgs[index];
  // The answer streaming now is in the store only as far as its last checkpoint.
  const QString text = (answer_id_ != 0 && index == msgs.size() - 1) ? recorder_.text() : m.content;
  QApplication::clipboard()->setText(text);
  show_toast(m.role == "user" ? tr("Copied the question (%1 characters)").arg(text.size())
                              : tr("Copied the answer (%1 characters)").arg(text.size()));
}

bool ChatWindow::export_readable_history(const QString& path) {
  QString error;
  const HistoryExport e = export_history(*store_, path, &error);
  if (!error.isEmpty()) {
    status_->setText(tr("Export failed: %1").arg(error));
    return false;
  }
  status_->setText(tr("Exported %1 conversations, %2 messages to %3%4")
                       .arg(e.conversations)
                       .arg(e.messages)
                       .arg(path)
                       .arg(e.unreadable > 0 ? tr(" (%1 unreadable)").arg(e.unreadable) : ""));
  return true;
}

bool ChatWindow::export_conversation(const QString& path) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
  return f.write(conversation_as_markdown().toUtf8()) >= 0;
}

}  // namespace moe::ui
