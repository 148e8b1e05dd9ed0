#pragma once
// The assistant answer being streamed, kept in the history as it grows. The row is inserted
// when the answer starts (ChatStore::begin_answer: "interrupted" until it ends), the text is
// saved at checkpoints (the chat window calls checkpoint() every kCheckpointMs) and when the
// answer stops. A process killed mid-answer (kill -9, power cut) keeps every character streamed
// up to the last checkpoint; before, the whole answer was written only at the end.
#include <QString>

#include "ui/chat_store.h"

namespace moe::ui {

class AnswerRecorder {
 public:
  /// How often the chat window saves the answer in progress.
  static constexpr int kCheckpointMs = 2000;

  explicit AnswerRecorder(ChatStore* store) : store_(store) {}

  /// Inserts the assistant row; false (store_->last_error()) when the history cannot be
  /// written. The text is still collected so the window shows it.
  bool start(qint64 conversation);
  void append(const QString& piece) { text_ += piece; }
  /// Saves the text if it grew since the last save; true when nothing needed saving.
  bool checkpoint();
  /// Saves the final text and stats (m.content is ignored: the collected text is stored) and
  /// ends the answer. True when there was nothing to save or the save succeeded.
  bool finish(StoredMessage m);

  bool active() const { return active_; }
  const QString& text() const { return text_; }
  qint64 message_id() const { return id_; }
  int saved_chars() const { return saved_; }

 private:
  ChatStore* store_;
  qint64 id_ = 0;  ///< 0: the row could not be inserted
  QString text_;
  int saved_ = 0;
  bool active_ = false;
};

}  // namespace moe::ui
