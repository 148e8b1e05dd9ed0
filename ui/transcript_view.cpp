#include "ui/transcript_view.h"

#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocumentFragment>
#include <QTextFrame>
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

// A framed block per message: header (who, links), then the body the caller inserts at the
// returned frame's last position.
QTextFrame* TranscriptView::insert_bubble(bool user, AnswerVersion version) {
  QTextCursor c(document());
  c.movePosition(QTextCursor::End);
  QTextFrameFormat f;
  f.setBorder(1);
  f.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
  f.setBorderBrush(user ? QColor(157, 187, 224) : QColor(205, 211, 218));
  f.setBackground(user ? QColor(231, 240, 251) : QColor(246, 247, 249));
  f.setPadding(8);
  f.setTopMargin(4);
  f.setBottomMargin(8);
  if (user)
    f.setLeftMargin(80);
  else
    f.setRightMargin(80);
  QTextFrame* frame = c.insertFrame(f);
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
  ++count_;
  return frame;
}

void TranscriptView::set_messages(const QVector<StoredMessage>& messages,
                                  const QVector<AnswerVersion>& versions) {
  clear();
  count_ = 0;
  answer_ = nullptr;
  for (const StoredMessage& m : messages) {
    const bool user = m.role == "user";
    QTextFrame* frame = insert_bubble(user, versions.value(count_));
    QTextCursor c = frame->lastCursorPosition();
    if (user) {
      c.insertText(m.content, plain());
    } else {
      insert_markdown(c, m.content);
      const QString stats = answer_stats_line(m);
      if (!stats.isEmpty()) {
        c.insertBlock(QTextBlockFormat(), plain());
        c.insertText(stats, stats_format(document()));
      }
    }
  }
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::append_user(const QString& text) {
  const bool f = following();
  QTextCursor c = insert_bubble(true)->lastCursorPosition();
  c.insertText(text, plain());
  scroll_to_end_if_following(f);
}

void TranscriptView::begin_answer() {
  const bool f = following();
  answer_ = insert_bubble(false);
  answer_body_ = answer_->lastPosition();
  answer_text_.clear();
  scroll_to_end_if_following(f);
}

void TranscriptView::render_answer() {
  QTextCursor c(document());
  c.setPosition(answer_body_);
  c.setPosition(answer_->lastPosition(), QTextCursor::KeepAnchor);
  c.beginEditBlock();
  c.removeSelectedText();
  c.setCharFormat(plain());
  insert_markdown(c, answer_text_);
  c.endEditBlock();
}

void TranscriptView::append_answer_text(const QString& text) {
  if (text.isEmpty() || answer_ == nullptr) return;
  const bool f = following();
  answer_text_ += text;
  render_answer();
  scroll_to_end_if_following(f);
}

void TranscriptView::end_answer(const QString& stats_line) {
  if (answer_ == nullptr) return;
  QTextFrame* frame = std::exchange(answer_, nullptr);
  if (stats_line.isEmpty()) return;
  const bool f = following();
  QTextCursor c = frame->lastCursorPosition();
  c.insertBlock(QTextBlockFormat(), plain());
  c.insertText(stats_line, stats_format(document()));
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
