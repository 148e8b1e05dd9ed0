#include "ui/transcript_view.h"

#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocumentFragment>
#include <QUrl>

#include "ui/markdown_export.h"

namespace moe::ui {

namespace {
QString href(const QString& action, int index) {
  return QString("%1:%2").arg(action).arg(index);
}

QTextCharFormat plain() {
  return QTextCharFormat();
}

// Inserts Markdown at `c`. The first block of a fragment merges into the cursor's block and
// would take its format: it gets the fragment's own (a heading stays a heading).
void insert_markdown(QTextCursor& c, const QString& markdown) {
  QTextDocument doc;
  doc.setMarkdown(markdown);
  c.setBlockFormat(doc.begin().blockFormat());
  c.insertFragment(QTextDocumentFragment(&doc));
}

// Where the finished lines of streaming Markdown end: after the last newline outside a ```
// code block. They render now; a construct that spans lines (a paragraph's soft breaks, a list's
// numbering) is put right by the final render of the whole answer.
int settled_end(const QString& md) {
  int end = 0;
  bool in_fence = false;
  for (int line = 0; line < md.size();) {
    const int next = md.indexOf('\n', line);
    if (next < 0) break;
    if (QStringView(md).mid(line, next - line).trimmed().startsWith(u"```")) in_fence = !in_fence;
    if (!in_fence) end = next + 1;
    line = next + 1;
  }
  return end;
}

QTextCharFormat stats_format(const QTextDocument* doc) {
  QTextCharFormat f;
  f.setForeground(QColor(112, 122, 134));
  f.setFontPointSize(doc->defaultFont().pointSizeF() * 0.85);
  return f;
}
}  // namespace

TranscriptView::TranscriptView(QWidget* parent) : QTextBrowser(parent) {
  setObjectName("transcript");
  setOpenLinks(false);  // links are the Copy actions, handled here; nothing navigates away
  setUndoRedoEnabled(false);
  document()->setDocumentMargin(14);
  setPlaceholderText(tr("Ask a clinical question below. Answers stream here."));
  connect(this, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    const int index = url.path().toInt();
    if (url.scheme() == "copy") emit copy_requested(index);
    if (url.scheme() == "edit") emit edit_requested(index);
    if (url.scheme() == "older") emit version_requested(index, -1);
    if (url.scheme() == "newer") emit version_requested(index, +1);
  });
}

bool TranscriptView::following() const {
  const QScrollBar* bar = verticalScrollBar();
  return bar->value() >= bar->maximum() - 24;
}

void TranscriptView::scroll_to_end_if_following(bool was_following) {
  if (was_following) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

// Styled blocks per message rather than QTextFrames: a change inside a frame re-lays out the
// whole frame, which made each streamed batch ~4x dearer (measured, docs/benchmarks.md).
void TranscriptView::style_blocks(int from, bool user) {
  QTextBlockFormat f;
  f.setBackground(user ? QColor(231, 240, 251) : QColor(244, 246, 248));
  f.setLeftMargin(user ? 80 : 0);
  f.setRightMargin(user ? 0 : 80);
  QTextCursor c(document());
  c.setPosition(from);
  c.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
  c.mergeBlockFormat(f);
}

// The header block of a message (who, links); the caller inserts the body at the end.
int TranscriptView::insert_header(bool user, AnswerVersion version) {
  QTextCursor c(document());
  c.movePosition(QTextCursor::End);
  QTextBlockFormat header;
  header.setTopMargin(14);  // the gap between turns
  if (!document()->isEmpty()) c.insertBlock(header, plain());
  c.setBlockFormat(header);
  const int start = c.block().position();
  QTextCharFormat who;
  who.setFontWeight(QFont::Bold);
  who.setForeground(user ? QColor(31, 95, 168) : QColor(44, 122, 75));
  c.insertText(user ? tr("Clinician") : tr("Assistant"), who);
  auto link = [&](const QString& action, const QString& text, const QString& tip) {
    QTextCharFormat l;
    l.setAnchor(true);
    l.setAnchorHref(href(action, count_));
    l.setForeground(QColor(31, 95, 168));
    l.setFontPointSize(document()->defaultFont().pointSizeF() * 0.85);
    l.setToolTip(tip);
    c.insertText(QStringLiteral("    "), plain());
    c.insertText(text, l);
  };
  if (version.count > 1) {
    link("older", QStringLiteral("‹"), tr("Previous version of this answer"));
    c.insertText(QString(" %1/%2 ").arg(version.index).arg(version.count),
                 stats_format(document()));
    link("newer", QStringLiteral("›"), tr("Next version of this answer"));
  }
  link("copy", tr("Copy"), tr("Copy this message"));
  if (user) link("edit", tr("Edit"), tr("Edit this question and ask again"));
  c.insertBlock(QTextBlockFormat(), plain());
  style_blocks(start, user);
  ++count_;
  return c.position();
}

void TranscriptView::insert_stats(const QString& stats_line) {
  QTextCursor c(document());
  c.movePosition(QTextCursor::End);
  c.insertBlock(QTextBlockFormat(), plain());  // not the last block's (it may be a list item)
  const int start = c.position();
  c.insertText(stats_line, stats_format(document()));
  style_blocks(start, false);
}

void TranscriptView::set_messages(const QVector<StoredMessage>& messages,
                                  const QVector<AnswerVersion>& versions) {
  clear();
  count_ = 0;
  streaming_ = false;
  for (const StoredMessage& m : messages) {
    const bool user = m.role == "user";
    const int body = insert_header(user, versions.value(count_));
    QTextCursor c(document());
    c.movePosition(QTextCursor::End);
    if (user) {
      c.insertText(m.content, plain());
    } else {
      insert_markdown(c, m.content);
    }
    style_blocks(body, user);
    if (!user) {
      const QString stats = answer_stats_line(m);
      if (!stats.isEmpty()) insert_stats(stats);
    }
  }
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::append_user(const QString& text) {
  const bool f = following();
  const int body = insert_header(true, {});
  QTextCursor c(document());
  c.movePosition(QTextCursor::End);
  c.insertText(text, plain());
  style_blocks(body, true);
  scroll_to_end_if_following(f);
}

void TranscriptView::begin_answer() {
  const bool f = following();
  answer_body_ = tail_ = insert_header(false, {});
  settled_chars_ = 0;
  answer_text_.clear();
  streaming_ = true;
  scroll_to_end_if_following(f);
}

// Streaming: finished lines are rendered as Markdown once, when their newline arrives; the
// unfinished last line is appended as plain text (a batch costs its own length). The answer is
// the end of the document while it streams.
void TranscriptView::append_answer_text(const QString& text) {
  if (text.isEmpty() || !streaming_) return;
  const bool f = following();
  answer_text_ += text;
  const int settled = settled_end(answer_text_);
  QTextCursor c(document());
  c.beginEditBlock();
  if (settled > settled_chars_) {
    c.setPosition(tail_);
    c.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
    c.removeSelectedText();
    insert_markdown(c, answer_text_.mid(settled_chars_, settled - settled_chars_));
    c.insertBlock(QTextBlockFormat(), plain());
    const int rendered = std::exchange(tail_, c.position());
    settled_chars_ = settled;
    c.insertText(answer_text_.mid(settled), plain());
    style_blocks(rendered, false);
  } else {
    c.movePosition(QTextCursor::End);
    c.insertText(text, plain());
  }
  c.endEditBlock();
  scroll_to_end_if_following(f);
}

void TranscriptView::end_answer(const QString& stats_line) {
  if (!streaming_) return;
  streaming_ = false;
  const bool f = following();
  // The whole answer once more, exactly (constructs across lines), in place of the streamed one.
  QTextCursor c(document());
  c.beginEditBlock();
  c.setPosition(answer_body_);
  c.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
  c.removeSelectedText();
  c.setCharFormat(plain());
  insert_markdown(c, answer_text_);
  style_blocks(answer_body_, false);
  c.endEditBlock();
  if (!stats_line.isEmpty()) insert_stats(stats_line);
  scroll_to_end_if_following(f);
}

QRect TranscriptView::link_rect(const QString& action, int index) const {
  const QString target = href(action, index);
  for (QTextBlock b = document()->begin(); b.isValid(); b = b.next()) {
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextFragment frag = it.fragment();
      if (frag.charFormat().anchorHref() != target) continue;
      QTextCursor c(document());
      c.setPosition(frag.position());
      const QRect start = cursorRect(c);
      c.setPosition(frag.position() + frag.length());
      return start.united(cursorRect(c));
    }
  }
  return {};
}

}  // namespace moe::ui
