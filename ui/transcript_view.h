#pragma once
// The conversation transcript: one framed "bubble" per message (the clinician's on the right in
// blue, the assistant's on the left in grey), answers rendered as Markdown (headings, lists,
// bold, code blocks) while they stream too. Header links: Copy on every message, Edit on the
// clinician's, and "‹ 2/3 ›" on an answer that was regenerated (its versions).
//
// Streaming: the chat window hands over text in batches (its flush timer); the answer's body —
// and only it — is re-rendered from the answer's Markdown so far, so the cost per batch is the
// length of the current answer, never of the whole transcript.
#include <QTextBrowser>
#include <QVector>

#include "ui/chat_store.h"

class QTextFrame;

namespace moe::ui {

/// Which version of an answer is shown (1-based) and how many there are.
struct AnswerVersion {
  int index = 1, count = 1;
};

class TranscriptView : public QTextBrowser {
  Q_OBJECT
 public:
  explicit TranscriptView(QWidget* parent = nullptr);
  /// Replaces the document with the stored conversation; `versions` (empty: none) has one
  /// entry per message.
  void set_messages(const QVector<StoredMessage>& messages,
                    const QVector<AnswerVersion>& versions = {});
  /// Starts an assistant bubble that streaming text goes into.
  void begin_answer();
  void append_answer_text(const QString& text);
  /// Ends the answer with its stats line (tokens/s, where it ran).
  void end_answer(const QString& stats_line);
  /// Adds a user message without re-rendering.
  void append_user(const QString& text);
  /// Messages shown (the index a copy link carries).
  int message_count() const { return count_; }
  /// Where message `index`'s link `action` ("copy", "edit", "older", "newer") is, in viewport
  /// coordinates (tests click it); empty when there is none.
  QRect link_rect(const QString& action, int index) const;

 signals:
  // Links of message `index` (0-based, in display order).
  void copy_requested(int index);
  void edit_requested(int index);
  /// "‹" (step -1) or "›" (+1) on an answer with versions.
  void version_requested(int index, int step);

 private:
  QTextFrame* insert_bubble(bool user, AnswerVersion version = {});
  void render_answer();
  void scroll_to_end_if_following(bool following);
  bool following() const;

  int count_ = 0;
  QTextFrame* answer_ = nullptr;  ///< the bubble streaming now (null: none)
  int answer_body_ = 0;           ///< where its body starts
  QString answer_text_;           ///< its Markdown so far
};

}  // namespace moe::ui
