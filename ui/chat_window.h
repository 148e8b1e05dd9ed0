#pragma once
// The clinician's chat: conversation list (SQLite), transcript with streaming answers, input
// with Send (Ctrl+Enter) / Stop (Esc) / Regenerate / New, editable system prompt, the
// "decision support only" notice, copy and Markdown export. The unsent draft is autosaved.
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
class QPlainTextEdit;
class QPushButton;
class QToolButton;

namespace moe::ui {

class EngineController;
class TranscriptView;

class ChatWindow : public QWidget {
  Q_OBJECT
 public:
  ChatWindow(EngineController* controller, ChatStore* store, QWidget* parent = nullptr);

  /// Sends the input box as a question; false if there is nothing to send or no model.
  bool send();
  void stop();
  /// Drops the last answer and asks again.
  bool regenerate();
  void new_conversation();
  void open_conversation(qint64 id);
  /// Re-reads the history (after retention or "delete all"): the last open conversation, or a
  /// fresh one, and the saved draft.
  void reload_history();
  /// Saves the answer in progress (as "interrupted") and the draft: called when the window closes.
  void save_before_exit();

  QString conversation_as_markdown() const;
  void copy_conversation() const;
  bool export_conversation(const QString& path) const;
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
  QListWidget* conversation_list() const { return list_; }
  QLabel* demo_notice() const { return demo_notice_; }
  QWidget* history_notice() const { return history_notice_; }
  QLabel* history_problem() const { return history_label_; }
  QCheckBox* dont_save_toggle() const { return dont_save_; }
  QLabel* off_record_banner() const { return off_record_; }

 signals:
  void answer_completed(const moe::ui::AnswerStats& stats);
  void status_message(const QString& text);

 private:
  /// The demo banner's text for the random-weight demo and for the trained tiny demo.
  static QString random_demo_notice();
  static QString trained_demo_notice();
  void build_ui();
  void refresh_list();
  void update_buttons();
  /// "Don't save this conversation": the store goes off the record (in memory) with a fresh
  /// conversation; switching back discards it and reopens the saved history.
  void set_dont_save(bool on);
  void start_answer(qint64 conversation);
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
  AnswerRecorder recorder_;  ///< the answer streaming now, saved as it grows
  QString pending_;          ///< streamed text not yet shown
  bool answer_save_failed_ = false;
  AnswerStats last_stats_;
  QTimer flush_timer_, autosave_timer_, checkpoint_timer_;
  bool draft_dirty_ = false, prompt_dirty_ = false;

  QListWidget* list_ = nullptr;
  TranscriptView* transcript_ = nullptr;
  QPlainTextEdit* input_ = nullptr;
  QPlainTextEdit* system_prompt_ = nullptr;
  QToolButton* prompt_toggle_ = nullptr;
  QPushButton *send_ = nullptr, *stop_ = nullptr, *regenerate_ = nullptr, *new_ = nullptr;
  QPushButton *copy_ = nullptr, *export_ = nullptr;
  QLabel* demo_notice_ = nullptr;
  QWidget* history_notice_ = nullptr;
  QLabel* history_label_ = nullptr;
  QPushButton* export_history_ = nullptr;
  QCheckBox* dont_save_ = nullptr;
  QLabel* off_record_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace moe::ui
