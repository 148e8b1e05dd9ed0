#pragma once
// The clinician's chat: conversation list (SQLite; ConversationPanel), transcript with streaming
// Markdown answers, input with Send (Ctrl+Enter) / Stop (Esc) / Regenerate / New (Ctrl+N), the
// model and answer settings (ChatSettingsRow), editable system prompt, the "decision support
// only" notice, copy and Markdown export (each confirmed by a transient message). With no model
// loaded the input row is replaced by buttons that load one. The unsent draft is autosaved.
#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <QWidget>

#include "ui/answer_recorder.h"
#include "ui/chat_store.h"
#include "ui/studio_types.h"

class QCheckBox;
class QLabel;
class QListWidget;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QToolButton;

namespace moe::ui {

class ChatSettingsRow;
class ConversationPanel;
class EngineController;
class TranscriptView;

class ChatWindow : public QWidget {
  Q_OBJECT
 public:
  ChatWindow(EngineController* controller, ChatStore* store, QWidget* parent = nullptr);

  /// Sends the input box as a question; false if there is nothing to send or no model.
  bool send();
  void stop();
  /// Asks the last question again with a fresh seed (unless the seed is pinned); the answer
  /// it replaces is kept as an earlier version ("‹ 1/2 ›").
  bool regenerate();
  void new_conversation();
  void open_conversation(qint64 id);
  /// Re-reads the history (after retention or "delete all"): the last open conversation, or a
  /// fresh one, and the saved draft.
  void reload_history();
  /// Saves the answer in progress (as "interrupted") and the draft: called when the window closes.
  void save_before_exit();

  QString conversation_as_markdown() const;
  /// Copies the conversation as Markdown and says so in the transient message.
  void copy_conversation();
  /// Copies message `index` (display order) and says so.
  void copy_message(int index);
  bool export_conversation(const QString& path) const;
  /// Export…: asks where (suggested_export_name()), writes, says where the file went.
  void export_with_dialog();
  /// "conversation-2026-12-03-<model>.md": the Export dialog's suggested file name.
  QString suggested_export_name() const;
  /// The model and settings that answered, for the export's header.
  QString export_about() const;
  /// Writes every readable conversation of the history to `path` (Markdown); false with a
  /// message in the status line when the file cannot be written.
  bool export_readable_history(const QString& path);

  qint64 current_conversation() const { return conversation_; }
  const AnswerStats& last_stats() const { return last_stats_; }
  QString streaming_text() const { return recorder_.text(); }

  // For tests and the main window.
  QPlainTextEdit* input() const { return input_; }
  QPushButton* send_button() const { return send_; }
  QPushButton* stop_button() const { return stop_; }
  QPushButton* regenerate_button() const { return regenerate_; }
  TranscriptView* transcript() const { return transcript_; }
  QListWidget* conversation_list() const;
  ConversationPanel* conversations() const { return conversations_; }
  ChatSettingsRow* settings_row() const { return settings_; }
  QPushButton* copy_button() const { return copy_; }
  QPushButton* export_button() const { return export_; }
  /// The transient "Copied …" / "Exported …" message.
  QLabel* toast() const { return toast_; }
  /// Shown instead of the input row while no model is loaded.
  QWidget* no_model_panel() const { return no_model_; }
  /// "Editing message 3: Send replaces it and the 2 messages after it" with Cancel.
  QWidget* edit_bar() const { return edit_bar_; }
  /// "Messages 1-4 no longer fit in the 256-token context …" (hidden while everything fits).
  QLabel* context_banner() const { return context_banner_; }
  /// Tokens the last answer's prompt and answer took, out of the context.
  QProgressBar* context_meter() const { return context_meter_; }
  QLabel* demo_notice() const { return demo_notice_; }
  QWidget* history_notice() const { return history_notice_; }
  QLabel* history_problem() const { return history_label_; }
  QCheckBox* dont_save_toggle() const { return dont_save_; }
  QLabel* off_record_banner() const { return off_record_; }

 signals:
  void answer_completed(const moe::ui::AnswerStats& stats);
  void status_message(const QString& text);
  // The chat's model picker and no-model buttons (the main window loads).
  void open_model_requested(const QString& path);
  void open_dialog_requested();
  void demo_requested();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  /// The demo banner's text for the random-weight demo and for the trained tiny demo.
  static QString random_demo_notice();
  static QString trained_demo_notice();
  void build_ui();
  void refresh_list();
  void update_buttons();
  void show_toast(const QString& text);
  /// Shows the conversation from the store (active answer versions, with their "k/n").
  void show_messages();
  void show_version(int index, int step);
  /// Edit-and-resend: message `index` goes back to the input; Send replaces it and what
  /// followed (the editing bar says so and can cancel).
  void edit_message(int index);
  void cancel_edit();
  /// The context banner and meter after an answer (dropped: oldest messages not seen).
  void show_context_use(const AnswerStats& stats);
  void leave_deleted(const QVector<qint64>& ids);

  /// fresh_seed: sample with a new seed (Regenerate) unless the settings pin it.
  void start_answer(qint64 conversation, bool fresh_seed = false);
  /// "Don't save this conversation": the store goes off the record (in memory) with a fresh
  /// conversation; switching back discards it and reopens the saved history.
  void set_dont_save(bool on);
  void flush_pending();
  void save_draft_if_dirty();
  void on_text(quint64 id, const QString& piece);
  void on_finished(quint64 id, const AnswerStats& stats);
  void on_failed(quint64 id, const QString& message);
  void on_model_loaded(const ModelInfo& info);
  void finish_answer(const AnswerStats& stats);
  void checkpoint_answer();
  /// Tells the user that the history could not be read or written ("<what>: <store error>").
  void report_store_error(const QString& what);

  EngineController* controller_;
  ChatStore* store_;
  qint64 conversation_ = 0;
  quint64 answer_id_ = 0;  ///< the answer streaming now (0: none)
  qint64 answer_conversation_ = 0;
  qint64 version_group_ = 0;          ///< the answer being regenerated joins this group (0: none)
  qint64 editing_ = 0;                ///< the message being edited (0: none)
  bool answer_has_versions_ = false;  ///< the answer streaming now replaced an earlier one
  AnswerRecorder recorder_;           ///< the answer streaming now, saved as it grows
  QString pending_;                   ///< streamed text not yet shown
  bool answer_save_failed_ = false;
  AnswerStats last_stats_;
  QTimer flush_timer_, autosave_timer_, checkpoint_timer_, toast_timer_;
  bool draft_dirty_ = false, prompt_dirty_ = false;

  ConversationPanel* conversations_ = nullptr;
  ChatSettingsRow* settings_ = nullptr;
  TranscriptView* transcript_ = nullptr;
  QPlainTextEdit* input_ = nullptr;
  QPlainTextEdit* system_prompt_ = nullptr;
  QToolButton* prompt_toggle_ = nullptr;
  QPushButton *send_ = nullptr, *stop_ = nullptr, *regenerate_ = nullptr;
  QPushButton *copy_ = nullptr, *export_ = nullptr;
  QWidget* input_row_ = nullptr;
  QWidget* no_model_ = nullptr;
  QLabel* toast_ = nullptr;
  QWidget* edit_bar_ = nullptr;
  QLabel* edit_label_ = nullptr;
  QLabel* context_banner_ = nullptr;
  QProgressBar* context_meter_ = nullptr;
  QLabel* demo_notice_ = nullptr;
  QWidget* history_notice_ = nullptr;
  QLabel* history_label_ = nullptr;
  QPushButton* export_history_ = nullptr;
  QCheckBox* dont_save_ = nullptr;
  QLabel* off_record_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace moe::ui
