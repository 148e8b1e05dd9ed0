#include "ui/transcript_view.h"

#include <QScrollBar>
#include <QTextBlockFormat>
#include <QTextCharFormat>
#include <QTextCursor>

#include "ui/markdown_export.h"

namespace moe::ui {

namespace {
enum class Part { kUserHeader, kAnswerHeader, kBody, kStats };

// Every block gets explicit block and character formats, so streamed text never inherits the
// look of the header before it.
void insert_block(QTextDocument* doc, Part part, const QString& text) {
  QTextCursor c(doc);
  c.movePosition(QTextCursor::End);
  QTextBlockFormat block;
  QTextCharFormat chars;
  switch (part) {
    case Part::kUserHeader:
    case Part::kAnswerHeader:
      block.setTopMargin(12);
      block.setBottomMargin(2);
      chars.setFontWeight(QFont::Bold);
      chars.setForeground(part == Part::kUserHeader ? QColor(31, 95, 168) : QColor(44, 122, 75));
      break;
    case Part::kBody:
      block.setBottomMargin(2);
      break;
    case Part::kStats:
      block.setBottomMargin(4);
      chars.setForeground(QColor(112, 122, 134));
      chars.setFontPointSize(doc->defaultFont().pointSizeF() * 0.85);
      break;
  }
  const bool first = doc->isEmpty();
  if (first) {
    c.setBlockFormat(block);
    c.setBlockCharFormat(chars);
    c.setCharFormat(chars);
  } else {
    c.insertBlock(block, chars);
  }
  if (!text.isEmpty()) c.insertText(text, chars);
}
}  // namespace

TranscriptView::TranscriptView(QWidget* parent) : QTextBrowser(parent) {
  setObjectName("transcript");
  setOpenExternalLinks(false);
  setUndoRedoEnabled(false);
  document()->setDocumentMargin(14);
  setPlaceholderText(tr("Ask a clinical question below. Answers stream here."));
}

bool TranscriptView::following() const {
  const QScrollBar* bar = verticalScrollBar();
  return bar->value() >= bar->maximum() - 24;
}

void TranscriptView::scroll_to_end_if_following(bool was_following) {
  if (was_following) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::set_messages(const QVector<StoredMessage>& messages) {
  clear();
  for (const StoredMessage& m : messages) {
    const bool user = m.role == "user";
    insert_block(document(), user ? Part::kUserHeader : Part::kAnswerHeader,
                 user ? tr("Clinician") : tr("Assistant"));
    insert_block(document(), Part::kBody, m.content);
    if (!user) {
      const QString stats = answer_stats_line(m);
      if (!stats.isEmpty()) insert_block(document(), Part::kStats, stats);
    }
  }
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::append_user(const QString& text) {
  const bool f = following();
  insert_block(document(), Part::kUserHeader, tr("Clinician"));
  insert_block(document(), Part::kBody, text);
  scroll_to_end_if_following(f);
}

void TranscriptView::begin_answer() {
  const bool f = following();
  insert_block(document(), Part::kAnswerHeader, tr("Assistant"));
  insert_block(document(), Part::kBody, QString());
  scroll_to_end_if_following(f);
}

void TranscriptView::append_answer_text(const QString& text) {
  if (text.isEmpty()) return;
  const bool f = following();
  QTextCursor c(document());
  c.movePosition(QTextCursor::End);
  c.insertText(text, QTextCharFormat());  // one insertion per batch: cheap for long answers
  scroll_to_end_if_following(f);
}

void TranscriptView::end_answer(const QString& stats_line) {
  if (stats_line.isEmpty()) return;
  const bool f = following();
  insert_block(document(), Part::kStats, stats_line);
  scroll_to_end_if_following(f);
}

}  // namespace moe::ui
