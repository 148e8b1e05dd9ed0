#pragma once
// The conversation transcript: each message a styled block (the clinician's indented from the
// left in blue, the assistant's from the right in grey, a gap between turns), answers rendered as
// Markdown (headings, lists, bold, code blocks) while they stream too. Header links: Copy on every
// message, Edit on the clinician's, and "‹ 2/3 ›" on an answer that was regenerated (its versions).
//
// Streaming: the chat window hands over text in batches (its flush timer); each finished line
// of the answer is rendered as Markdown once, the unfinished last line shows as plain text
// until its newline, and the whole answer is rendered once more when it ends.
#include <QTextBrowser>
#include <QVector>

#include "ui/chat_store.h"

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
  /// Adds a message's header block at the end; returns where its body starts.
  int insert_header(bool user, AnswerVersion version);
  /// Gives the blocks from `from` to the end the look of a user / assistant message.
  void style_blocks(int from, bool user);
  void insert_stats(const QString& stats_line);
  void scroll_to_end_if_following(bool following);
  bool following() const;

  int count_ = 0;
  bool streaming_ = false;  ///< an answer is streaming (it is the end of the document)
  int answer_body_ = 0;     ///< where its body starts
  int tail_ = 0;            ///< where its unfinished last line starts (plain text)
  int settled_chars_ = 0;   ///< characters of answer_text_ rendered as Markdown
  QString answer_text_;     ///< its Markdown so far
};

}  // namespace moe::ui
