#include "ui/chat_window.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>

#include "ui/chat_settings_row.h"
#include "ui/conversation_panel.h"
#include "ui/engine_controller.h"
#include "ui/markdown_export.h"
#include "ui/transcript_view.h"

namespace moe::ui {

namespace {
constexpr int kFlushMs = 40;      // streamed text reaches the document at most 25 times/s
constexpr int kAutosaveMs = 500;  // a crash loses at most half a second of typing
constexpr int kToastMs = 6000;    // long enough to read a file path
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
  connect(export_, &QPushButton::clicked, this, &ChatWindow::export_with_dialog);
  connect(conversations_, &ConversationPanel::new_requested, this, &ChatWindow::new_conversation);
  connect(conversations_, &ConversationPanel::open_requested, this, &ChatWindow::open_conversation);
  connect(conversations_, &ConversationPanel::deleted, this, &ChatWindow::leave_deleted);
  connect(conversations_, &ConversationPanel::restored, this,
          [this](const QVector<qint64>& ids) { open_conversation(ids.front()); });
  connect(conversations_, &ConversationPanel::store_error, this, &ChatWindow::report_store_error);
  connect(transcript_, &TranscriptView::copy_requested, this, &ChatWindow::copy_message);
  connect(transcript_, &TranscriptView::edit_requested, this, &ChatWindow::edit_message);
  connect(transcript_, &TranscriptView::version_requested, this, &ChatWindow::show_version);
  connect(settings_, &ChatSettingsRow::open_model_requested, this,
          &ChatWindow::open_model_requested);
  connect(settings_, &ChatSettingsRow::open_dialog_requested, this,
          &ChatWindow::open_dialog_requested);
  connect(settings_, &ChatSettingsRow::demo_requested, this, &ChatWindow::demo_requested);
  connect(settings_, &ChatSettingsRow::preset_chosen, this,
          [this](const QString& text) { system_prompt_->setPlainText(text); });
  toast_timer_.setSingleShot(true);
  toast_timer_.setInterval(kToastMs);
  connect(&toast_timer_, &QTimer::timeout, toast_, &QWidget::hide);
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

  conversations_->purge_pending();  // what a crash left in the undo window
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

QListWidget* ChatWindow::conversation_list() const {
  return conversations_->list();
}

void ChatWindow::refresh_list() {
  conversations_->refresh(conversation_);
}

void ChatWindow::update_buttons() {
  const bool busy = answer_id_ != 0;
  const bool ready = controller_->has_model() && !controller_->is_loading();
  send_->setEnabled(ready && !busy);
  stop_->setEnabled(busy);
  const auto msgs = conversation_ ? store_->messages(conversation_) : QVector<StoredMessage>{};
  regenerate_->setEnabled(ready && !busy && !msgs.isEmpty());
  conversations_->set_busy(busy);
  dont_save_->setEnabled(!busy && (store_->off_the_record() || msgs.isEmpty()));
  // No model: say how to get one instead of a greyed-out Send.
  const bool no_model = !controller_->has_model() && !controller_->is_loading();
  no_model_->setVisible(no_model);
  input_row_->setVisible(!no_model);
}

void ChatWindow::new_conversation() {
  if (answer_id_ != 0) return;
  save_draft_if_dirty();
  // An empty conversation is reused, never duplicated (New pressed twice, or on an empty one).
  qint64 id = store_->messages(conversation_).isEmpty() ? conversation_ : 0;
  if (id == 0) id = store_->empty_conversation();
  if (id == 0) id = store_->create_conversation(QString(), kDefaultSystemPrompt);
  if (id == 0) {
    emit status_message(tr("Could not create a conversation: %1").arg(store_->last_error()));
    return;
  }
  open_conversation(id);
  input_->setFocus(Qt::OtherFocusReason);  // typing goes to the question, not to the button
}

void ChatWindow::leave_deleted(const QVector<qint64>& ids) {
  if (!ids.contains(conversation_)) return;
  const auto rest = store_->conversations();
  if (rest.isEmpty()) {
    conversation_ = 0;
    new_conversation();
  } else {
    open_conversation(rest.front().id);
  }
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
  conversation_ = 0;  // an id of the other database: never reused as "the empty one"
  reload_history();  // off: a fresh in-memory conversation; back: the saved one and its draft
}

void ChatWindow::open_conversation(qint64 id) {
  if (answer_id_ != 0) return;
  save_draft_if_dirty();
  conversation_ = id;
  store_->put_value(kLastConversationKey, QString::number(id));
  cancel_edit();
  show_messages();
  {
    const QSignalBlocker block(system_prompt_);
    system_prompt_->setPlainText(store_->system_prompt(id));
  }
  prompt_dirty_ = false;
  context_banner_->setVisible(false);  // measured again by this conversation's next answer
  context_meter_->setRange(0, 1);
  context_meter_->setValue(0);
  context_meter_->setFormat(tr("Context: —"));
  refresh_list();
  update_buttons();
}

bool ChatWindow::send() {
  const QString question = input_->toPlainText().trimmed();
  if (question.isEmpty() || answer_id_ != 0 || !controller_->has_model() ||
      controller_->is_loading())
    return false;
  save_draft_if_dirty();
  if (editing_ != 0) {
    if (!store_->truncate_from(conversation_, editing_)) {
      report_store_error(tr("The edited question was not replaced"));
      return false;
    }
    cancel_edit();
    show_messages();
  }
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
  auto msgs = store_->messages(conversation_);
  qint64 group = 0;
  if (!msgs.isEmpty() && msgs.back().role == "assistant") {
    group = store_->retire_answer(msgs.back().id);
    if (group == 0) report_store_error(tr("The previous answer was not kept"));
    msgs.removeLast();
  }
  if (msgs.isEmpty() || msgs.back().role != "user") return false;
  cancel_edit();
  show_messages();
  version_group_ = group;
  start_answer(conversation_, /*fresh_seed=*/true);
  return answer_id_ != 0;
}

void ChatWindow::show_messages() {
  bool complete = true;
  const auto msgs = store_->messages(conversation_, &complete);
  if (!complete) report_store_error(tr("Part of this conversation could not be read"));
  QVector<AnswerVersion> versions;
  for (const StoredMessage& m : msgs) {
    const auto ids = m.role == "assistant" ? store_->answer_versions(m.id) : QVector<qint64>{m.id};
    versions.push_back({static_cast<int>(ids.indexOf(m.id)) + 1, static_cast<int>(ids.size())});
  }
  transcript_->set_messages(msgs, versions);
}

void ChatWindow::show_version(int index, int step) {
  if (answer_id_ != 0) return;
  const auto msgs = store_->messages(conversation_);
  if (index < 0 || index >= msgs.size()) return;
  const auto ids = store_->answer_versions(msgs[index].id);
  const auto at = ids.indexOf(msgs[index].id) + step;
  if (at < 0 || at >= ids.size()) return;
  if (!store_->show_version(ids[at])) report_store_error(tr("Version not shown"));
  show_messages();
}

void ChatWindow::edit_message(int index) {
  if (answer_id_ != 0) return;
  const auto msgs = store_->messages(conversation_);
  if (index < 0 || index >= msgs.size() || msgs[index].role != "user") return;
  editing_ = msgs[index].id;
  const auto after = msgs.size() - index - 1;
  edit_label_->setText(
      after > 0 ? tr("<b>Editing question %1.</b> Send replaces it and deletes the %2 messages "
                     "after it.")
                      .arg(index + 1)
                      .arg(after)
                : tr("<b>Editing question %1.</b> Send replaces it.").arg(index + 1));
  edit_bar_->setVisible(true);
  input_->setPlainText(msgs[index].content);
  input_->setFocus();
  input_->moveCursor(QTextCursor::End);
}

void ChatWindow::cancel_edit() {
  editing_ = 0;
  edit_bar_->setVisible(false);
}

void ChatWindow::start_answer(qint64 conversation, bool fresh_seed) {
  const qint64 group = std::exchange(version_group_, 0);
  std::vector<ChatMessage> messages;
  const QString prompt = system_prompt_->toPlainText().trimmed();
  if (!prompt.isEmpty()) messages.push_back({"system", prompt.toStdString()});
  bool complete = true;
  for (const StoredMessage& m : store_->messages(conversation, &complete))
    messages.push_back({m.role.toStdString(), m.content.toStdString()});
  if (!complete) report_store_error(tr("Part of this conversation could not be read"));
  pending_.clear();
  answer_conversation_ = conversation;
  answer_id_ = controller_->generate(std::move(messages), fresh_seed);
  if (answer_id_ == 0) {
    status_->setText(tr("The engine is busy or no model is loaded."));
    return;
  }
  // The answer's row exists from now on and is saved every few seconds: a crash keeps it.
  answer_save_failed_ = !recorder_.start(conversation);
  if (answer_save_failed_) report_store_error(tr("The answer will not be saved"));
  answer_has_versions_ =
      !answer_save_failed_ && group != 0 && store_->add_to_versions(recorder_.message_id(), group);
  if (!answer_save_failed_ && group != 0 && !answer_has_versions_)
    report_store_error(tr("The earlier versions of this answer are not linked"));
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
  if (std::exchange(answer_has_versions_, false)) show_messages();  // its "‹ k/n ›" pager
  update_buttons();
}

void ChatWindow::on_finished(quint64 id, const AnswerStats& stats) {
  if (id != answer_id_) return;
  finish_answer(stats);
  QString status = tr("%1 tokens · %2 tokens/s · computed on %3")
                       .arg(stats.generated_tokens)
                       .arg(stats.decode_tok_per_s, 0, 'f', 1)
                       .arg(stats.computed_on.isEmpty() ? tr("local CPU") : stats.computed_on);
  status_->setText(status);
  show_context_use(stats);
  emit answer_completed(stats);
}

void ChatWindow::show_context_use(const AnswerStats& stats) {
  const int n_ctx = controller_->model().n_ctx;
  const int used = stats.prompt_tokens + stats.generated_tokens;
  context_meter_->setRange(0, std::max(1, n_ctx));
  context_meter_->setValue(std::min(used, std::max(1, n_ctx)));
  context_meter_->setFormat(tr("Context: %1 / %2 tokens").arg(used).arg(n_ctx));
  // The engine leaves out the oldest turns (never the system prompt): messages 1..dropped.
  const int dropped = stats.dropped_messages;
  context_banner_->setVisible(dropped > 0);
  if (dropped > 0) {
    context_banner_->setText(
        (dropped == 1 ? tr("<b>Message 1 no longer fits</b> in the %1-token context and is not "
                           "seen by the model.")
                            .arg(n_ctx)
                      : tr("<b>Messages 1–%1 no longer fit</b> in the %2-token context and are "
                           "not seen by the model.")
                            .arg(dropped)
                            .arg(n_ctx)) +
        tr(" Start a new conversation to ask about them again."));
  }
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
  conversations_->purge_pending();  // a delete waiting for Undo becomes final
  if (answer_id_ != 0 && recorder_.active()) {
    controller_->stop();
    AnswerStats stats;
    stats.stop_reason = "interrupted";
    stats.computed_on = last_stats_.computed_on;
    finish_answer(stats);  // the answer so far is kept; the late finished signal is ignored
  }
}

}  // namespace moe::ui
