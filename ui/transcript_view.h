#pragma once
// The conversation transcript. Streaming text is appended at the end of the document in
// batches (the chat window flushes its buffer on a timer), never re-rendering what is there.
#include <QTextBrowser>
#include <QVector>

#include "ui/chat_store.h"

namespace moe::ui {

class TranscriptView : public QTextBrowser {
  Q_OBJECT
 public:
  explicit TranscriptView(QWidget* parent = nullptr);
  /// Replaces the document with the stored conversation.
  void set_messages(const QVector<StoredMessage>& messages);
  /// Starts an assistant block that streaming text goes into.
  void begin_answer();
  void append_answer_text(const QString& text);
  /// Ends the block with its stats line (tokens/s, where it ran).
  void end_answer(const QString& stats_line);
  /// Adds a user message without re-rendering.
  void append_user(const QString& text);

 private:
  void scroll_to_end_if_following(bool following);
  bool following() const;
};

}  // namespace moe::ui
