#include "ui/chat_window.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>

#include "ui/engine_controller.h"
#include "ui/history_export.h"
#include "ui/markdown_export.h"
#include "ui/transcript_view.h"

namespace moe::ui {

namespace {
constexpr int kFlushMs = 40;      // streamed text reaches the document at most 25 times/s
constexpr int kAutosaveMs = 500;  // a crash loses at most half a second of typing
const char* kDraftKey = "draft";
const char* kLastConversationKey = "last_conversation";
const char* kDefaultSystemPrompt =
    "You are a careful clinical decision-support assistant. Answer concisely, state "
    "uncertainty, and recommend confirming with current guidelines.";

QString title_from(const QString& question) {
  QString t = question.simplified();
  return t.size() > 48 ? t.left(47) + "…" : t;
}
}  // namespace

ChatWindow::ChatWindow(EngineController* controller, ChatStore* store, QWidget* parent)
    : QWidget(parent), controller_(controller), store_(store), recorder_(store) {
  build_ui();
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export conversation"),
                                                      "conversation.md", tr("Markdown (*.md)"));
    if (!path.isEmpty() && !export_conversation(path))
      QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1.").arg(path));
  });
  connect(controller_, &EngineController::answer_text, this, &ChatWindow::on_text);
  connect(controller_, &EngineController::answer_finished, this, &ChatWindow::on_finished);
  connect(controller_, &EngineController::answer_failed, this, &ChatWindow::on_failed);
  connect(controller_, &EngineController::model_loaded, this, &ChatWindow::on_model_loaded);
  connect(controller_, &EngineController::generating_changed, this, [this] { update_buttons(); });
  connect(controller_, &EngineController::load_started, this, [this] { update_buttons(); });
  connect(controller_, &EngineController::load_failed, this, [this] { update_buttons(); });

  flush_timer_.setInterval(kFlushMs);
  connect(&flush_timer_, &QTimer::timeout, this, &ChatWindow::flush_pending);
  autosave_timer_.setInterval(kAutosaveMs);
  connect(&autosave_timer_, &QTimer::timeout, this, &ChatWindow::save_draft_if_dirty);
  autosave_timer_.start();
  checkpoint_timer_.setInterval(AnswerRecorder::kCheckpointMs);
  connect(&checkpoint_timer_, &QTimer::timeout, this, &ChatWindow::checkpoint_answer);

  if (!store_->problem().isEmpty()) {
    history_label_->setText(
        tr("<b>Chat history problem:</b> %1.").arg(store_->problem().toHtmlEscaped()));
    history_notice_->setVisible(true);
  }
  connect(export_history_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export readable history"),
                                                      "chat-history.md", tr("Markdown (*.md)"));
    if (!path.isEmpty()) export_readable_history(path);
  });

  reload_history();
}

void ChatWindow::reload_history() {
  // Restore: the last open conversation (or a fresh one) and the unsent draft.
  const qint64 last = store_->value(kLastConversationKey, "0").toLongLong();
  bool found = false;
  for (const auto& c : store_->conversations()) found |= (c.id == last);
  if (found) {
    open_conversation(last);
  } else {
    const auto all = store_->conversations();
    if (all.isEmpty())
      new_conversation();
    else
      open_conversation(all.front().id);
  }
  input_->setPlainText(store_->value(kDraftKey));
  draft_dirty_ = false;
  update_buttons();
}

void ChatWindow::report_store_error(const QString& what) {
  emit status_message(tr("%1: %2").arg(what, store_->last_error()));
}

void ChatWindow::refresh_list() {
  const QSignalBlocker block(list_);
  list_->clear();
  bool complete = true;
  const auto headers = store_->conversations(&complete);
  if (!complete) report_store_error(tr("Some conversations could not be read"));
  for (const ConversationHeader& c : headers) {
    auto* item = new QListWidgetItem(c.title.isEmpty() ? tr("New conversation") : c.title);
    item->setData(Qt::UserRole, c.id);
    item->setToolTip(c.updated.toString("yyyy-MM-dd hh:mm"));
    list_->addItem(item);
    if (c.id == conversation_) list_->setCurrentItem(item);
  }
}

void ChatWindow::update_buttons() {
  const bool busy = answer_id_ != 0;
  const bool ready = controller_->has_model() && !controller_->is_loading();
  send_->setEnabled(ready && !busy);
  stop_->setEnabled(busy);
  const auto msgs = conversation_ ? store_->messages(conversation_) : QVector<StoredMessage>{};
  regenerate_->setEnabled(ready && !busy && !msgs.isEmpty());
  new_->setEnabled(!busy);
  dont_save_->setEnabled(!busy && (store_->off_the_record() || msgs.isEmpty()));
  list_->setEnabled(!busy);
}

void ChatWindow::new_conversation() {
  if (answer_id_ != 0) return;
  save_draft_if_dirty();
  const qint64 id = store_->create_conversation(QString(), kDefaultSystemPrompt);
  if (id == 0) {
    emit status_message(tr("Could not create a conversation: %1").arg(store_->last_error()));
    return;
  }
  open_conversation(id);
}

void ChatWindow::set_dont_save(bool on) {
  if (answer_id_ != 0 || on == store_->off_the_record()) return;
  save_draft_if_dirty();  // the saved history's draft, before the store switches
  if (!store_->set_off_the_record(on)) {
    const QSignalBlocker block(dont_save_);
    dont_save_->setChecked(!on);
    report_store_error(tr("Could not start a conversation that is not saved"));
    return;
  }
  off_record_->setVisible(on);
  reload_history();  // off: a fresh in-memory conversation; back: the saved one and its draft
}

void ChatWindow::open_conversation(qint64 id) {
  if (answer_id_ != 0) return;
  save_draft_if_dirty();
  conversation_ = id;
  store_->put_value(kLastConversationKey, QString::number(id));
  bool complete = true;
  transcript_->set_messages(store_->messages(id, &complete));
  if (!complete) report_store_error(tr("Part of this conversation could not be read"));
  {
    const QSignalBlocker block(system_prompt_);
    system_prompt_->setPlainText(store_->system_prompt(id));
  }
  prompt_dirty_ = false;
  refresh_list();
  update_buttons();
}

bool ChatWindow::send() {
  const QString question = input_->toPlainText().trimmed();
  if (question.isEmpty() || answer_id_ != 0 || !controller_->has_model() ||
      controller_->is_loading())
    return false;
  save_draft_if_dirty();
  if (store_->messages(conversation_).isEmpty() &&
      !store_->rename_conversation(conversation_, title_from(question)))
    report_store_error(tr("Conversation title not saved"));
  StoredMessage m;
  m.role = "user";
  m.content = question;
  if (store_->add_message(conversation_, m) == 0) report_store_error(tr("History not saved"));
  transcript_->append_user(question);
  input_->clear();
  store_->put_value(kDraftKey, QString());
  draft_dirty_ = false;
  refresh_list();
  start_answer(conversation_);
  return answer_id_ != 0;
}

bool ChatWindow::regenerate() {
  if (answer_id_ != 0 || !controller_->has_model()) return false;
  store_->remove_last_answer(conversation_);
  const auto msgs = store_->messages(conversation_);
  if (msgs.isEmpty() || msgs.back().role != "user") return false;
  transcript_->set_messages(msgs);
  start_answer(conversation_);
  return answer_id_ != 0;
}

void ChatWindow::start_answer(qint64 conversation) {
  std::vector<ChatMessage> messages;
  const QString prompt = system_prompt_->toPlainText().trimmed();
  if (!prompt.isEmpty()) messages.push_back({"system", prompt.toStdString()});
  bool complete = true;
  for (const StoredMessage& m : store_->messages(conversation, &complete))
    messages.push_back({m.role.toStdString(), m.content.toStdString()});
  if (!complete) report_store_error(tr("Part of this conversation could not be read"));
  pending_.clear();
  answer_conversation_ = conversation;
  answer_id_ = controller_->generate(std::move(messages));
  if (answer_id_ == 0) {
    status_->setText(tr("The engine is busy or no model is loaded."));
    return;
  }
  // The answer's row exists from now on and is saved every few seconds: a crash keeps it.
  answer_save_failed_ = !recorder_.start(conversation);
  if (answer_save_failed_) report_store_error(tr("The answer will not be saved"));
  transcript_->begin_answer();
  status_->setText(tr("Answering…"));
  flush_timer_.start();
  checkpoint_timer_.start();
  update_buttons();
}

void ChatWindow::stop() {
  if (answer_id_ != 0) {
    controller_->stop();
    status_->setText(tr("Stopping…"));
  }
}

void ChatWindow::on_text(quint64 id, const QString& piece) {
  if (id != answer_id_) return;
  recorder_.append(piece);
  pending_ += piece;  // shown by flush_pending() on the next tick
}

void ChatWindow::flush_pending() {
  if (pending_.isEmpty()) return;
  transcript_->append_answer_text(pending_);
  pending_.clear();
}

void ChatWindow::checkpoint_answer() {
  if (!recorder_.checkpoint() && !answer_save_failed_) {
    answer_save_failed_ = true;  // said once per answer, not every checkpoint
    report_store_error(tr("The answer is not being saved"));
  }
}

void ChatWindow::finish_answer(const AnswerStats& stats) {
  flush_pending();
  flush_timer_.stop();
  checkpoint_timer_.stop();
  StoredMessage m;
  m.role = "assistant";
  m.content = recorder_.text();
  m.tokens_per_s = stats.decode_tok_per_s;
  m.computed_on = stats.computed_on;
  m.stop_reason = stats.stop_reason;
  if (!recorder_.finish(m) && !answer_save_failed_) report_store_error(tr("Answer not saved"));
  transcript_->end_answer(answer_stats_line(m));
  last_stats_ = stats;
  answer_id_ = 0;
  update_buttons();
}

void ChatWindow::on_finished(quint64 id, const AnswerStats& stats) {
  if (id != answer_id_) return;
  finish_answer(stats);
  QString status = tr("%1 tokens · %2 tokens/s · computed on %3")
                       .arg(stats.generated_tokens)
                       .arg(stats.decode_tok_per_s, 0, 'f', 1)
                       .arg(stats.computed_on.isEmpty() ? tr("local CPU") : stats.computed_on);
  if (stats.dropped_messages > 0) {
    status += tr(" · %1 oldest messages not seen by the model (context full)")
                  .arg(stats.dropped_messages);
  }
  status_->setText(status);
  emit answer_completed(stats);
}

void ChatWindow::on_failed(quint64 id, const QString& message) {
  if (id != answer_id_) return;
  AnswerStats stats;
  stats.stop_reason = "error";
  finish_answer(stats);
  status_->setText(tr("The answer failed: %1").arg(message));
  emit status_message(tr("Generation failed: %1").arg(message));
}

void ChatWindow::on_model_loaded(const ModelInfo& info) {
  // The demo banner says which demo this is: random weights, or the tiny trained model.
  if (info.random_weights)
    demo_notice_->setText(random_demo_notice());
  else if (info.demo)
    demo_notice_->setText(trained_demo_notice());
  demo_notice_->setVisible(info.random_weights || info.demo);
  status_->setText(tr("Model ready: %1").arg(info.name));
  update_buttons();
}

void ChatWindow::save_draft_if_dirty() {
  if (draft_dirty_) {
    if (!store_->put_value(kDraftKey, input_->toPlainText()))
      report_store_error(tr("Draft not saved"));
    draft_dirty_ = false;
  }
  if (prompt_dirty_ && conversation_ != 0) {
    if (!store_->set_system_prompt(conversation_, system_prompt_->toPlainText()))
      report_store_error(tr("System prompt not saved"));
    prompt_dirty_ = false;
  }
}

void ChatWindow::save_before_exit() {
  save_draft_if_dirty();
  if (answer_id_ != 0 && recorder_.active()) {
    controller_->stop();
    AnswerStats stats;
    stats.stop_reason = "interrupted";
    stats.computed_on = last_stats_.computed_on;
    finish_answer(stats);  // the answer so far is kept; the late finished signal is ignored
  }
}

QString ChatWindow::conversation_as_markdown() const {
  QString title;
  for (const auto& c : store_->conversations())
    if (c.id == conversation_) title = c.title;
  return conversation_markdown(title, store_->system_prompt(conversation_),
                               store_->messages(conversation_));
}

void ChatWindow::copy_conversation() const {
  QApplication::clipboard()->setText(conversation_as_markdown());
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
