#include "ui/conversation_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>

#include "ui/chat_store.h"

namespace moe::ui {

namespace {
constexpr int kSearchDebounceMs = 150;  // one re-read per pause in typing, not per key

// A small drawn pin (fonts on a clinic PC may have no emoji).
QIcon pin_icon() {
  QPixmap px(16, 16);
  px.fill(Qt::transparent);
  QPainter p(&px);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(QPen(QColor(120, 60, 20), 1.6));
  p.drawLine(QPointF(8, 8), QPointF(8, 15));
  p.setBrush(QColor(205, 80, 40));
  p.drawEllipse(QPointF(8, 5.5), 4.2, 4.2);
  return QIcon(px);
}
}  // namespace

ConversationPanel::ConversationPanel(ChatStore* store, QWidget* parent)
    : QWidget(parent), store_(store) {
  build_ui();
  undo_timer_.setSingleShot(true);
  undo_timer_.setInterval(kUndoMs);
  connect(&undo_timer_, &QTimer::timeout, this, &ConversationPanel::purge_pending);
  search_timer_.setSingleShot(true);
  search_timer_.setInterval(kSearchDebounceMs);
  connect(&search_timer_, &QTimer::timeout, this, [this] { refresh(current_); });
}

void ConversationPanel::build_ui() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 6, 0);
  new_ = new QPushButton(tr("New conversation"));
  new_->setObjectName("newConversation");
  new_->setToolTip(tr("Ctrl+N"));
  search_ = new QLineEdit;
  search_->setObjectName("conversationSearch");
  search_->setPlaceholderText(tr("Search titles and messages"));
  search_->setClearButtonEnabled(true);
  list_ = new QListWidget;
  list_->setObjectName("conversationList");
  list_->setTextElideMode(Qt::ElideRight);
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  list_->setUniformItemSizes(true);
  list_->setEditTriggers(QAbstractItemView::EditKeyPressed);  // F2 renames
  list_->setContextMenuPolicy(Qt::CustomContextMenu);
  auto* label = new QLabel(tr("Conversations"));
  label->setStyleSheet("font-weight:600;color:#44505c;");

  undo_bar_ = new QWidget;
  undo_bar_->setObjectName("undoBar");
  undo_bar_->setStyleSheet(
      "#undoBar{background:#33414f;border-radius:4px;} #undoBar QLabel{color:white;}");
  auto* undo_layout = new QHBoxLayout(undo_bar_);
  undo_layout->setContentsMargins(8, 4, 4, 4);
  undo_label_ = new QLabel;
  undo_label_->setWordWrap(true);
  undo_ = new QPushButton(tr("Undo"));
  undo_->setObjectName("undoDelete");
  undo_layout->addWidget(undo_label_, 1);
  undo_layout->addWidget(undo_);
  undo_bar_->setVisible(false);

  layout->addWidget(new_);
  layout->addWidget(search_);
  layout->addWidget(label);
  layout->addWidget(list_, 1);
  layout->addWidget(undo_bar_);

  auto* del = new QShortcut(QKeySequence::Delete, list_, nullptr, nullptr, Qt::WidgetShortcut);
  connect(del, &QShortcut::activated, this, &ConversationPanel::delete_selected);
  connect(new_, &QPushButton::clicked, this, &ConversationPanel::new_requested);
  connect(undo_, &QPushButton::clicked, this, &ConversationPanel::undo);
  connect(search_, &QLineEdit::textChanged, this, [this] { search_timer_.start(); });
  // Arrows and clicks open the row that becomes current. Queued: opening rebuilds the list,
  // which must not happen inside the view's own selection change.
  connect(list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* it) {
    if (it == nullptr) return;
    const qint64 id = it->data(Qt::UserRole).toLongLong();
    QMetaObject::invokeMethod(
        this, [this, id] { emit open_requested(id); }, Qt::QueuedConnection);
  });
  connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* it) {
    const qint64 id = it->data(Qt::UserRole).toLongLong();
    if (!store_->rename_conversation(id, it->text().simplified()))
      emit store_error(tr("Conversation not renamed"));
    // Not now: the view is still closing the editor that made this change.
    QMetaObject::invokeMethod(
        this, [this] { refresh(current_); }, Qt::QueuedConnection);
  });
  connect(list_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    if (QMenu* m = menu_for(list_->itemAt(pos))) m->popup(list_->viewport()->mapToGlobal(pos));
  });
}

QMenu* ConversationPanel::menu_for(QListWidgetItem* item) {
  delete menu_;
  menu_ = new QMenu(this);
  menu_->setObjectName("conversationMenu");
  if (item != nullptr) {
    list_->setCurrentItem(item);
    const qint64 id = item->data(Qt::UserRole).toLongLong();
    const bool pinned = item->data(Qt::UserRole + 1).toBool();
    menu_->addAction(tr("Rename"), QKeySequence(Qt::Key_F2), this,
                     [this, item] { list_->editItem(item); });
    menu_->addAction(pinned ? tr("Unpin") : tr("Pin to top"), this, [this, id, pinned] {
      if (!store_->set_pinned(id, !pinned)) emit store_error(tr("Pin not saved"));
      refresh(current_);
    });
    menu_->addAction(tr("Delete…"), QKeySequence::Delete, this,
                     &ConversationPanel::delete_selected);
    menu_->addSeparator();
  }
  menu_->addAction(tr("Delete all history…"), this, &ConversationPanel::delete_all);
  return menu_;
}

void ConversationPanel::refresh(qint64 current) {
  current_ = current;
  const QSignalBlocker block(list_);
  list_->clear();
  bool complete = true;
  const auto headers = store_->conversations(&complete);
  if (!complete) emit store_error(tr("Some conversations could not be read"));
  const QString needle = search_->text().trimmed();
  for (const ConversationHeader& c : headers) {
    if (!needle.isEmpty() && !store_->conversation_contains(c, needle)) continue;
    auto* item = new QListWidgetItem(c.title.isEmpty() ? tr("New conversation") : c.title);
    item->setData(Qt::UserRole, c.id);
    item->setData(Qt::UserRole + 1, c.pinned);
    item->setFlags(item->flags() | Qt::ItemIsEditable);
    item->setToolTip((c.pinned ? tr("Pinned · ") : QString()) +
                     c.updated.toString("yyyy-MM-dd hh:mm"));
    if (c.pinned) item->setIcon(pin_icon());
    list_->addItem(item);
    if (c.id == current) list_->setCurrentItem(item);
  }
}

void ConversationPanel::set_busy(bool busy) {
  new_->setEnabled(!busy);
  list_->setEnabled(!busy);
}

qint64 ConversationPanel::selected() const {
  const QListWidgetItem* it = list_->currentItem();
  return it != nullptr ? it->data(Qt::UserRole).toLongLong() : 0;
}

bool ConversationPanel::confirm(const QString& title, const QString& text) {
  QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Cancel, this);
  QPushButton* yes = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
  box.setDefaultButton(QMessageBox::Cancel);  // Enter by reflex deletes nothing
  box.exec();
  return box.clickedButton() == yes;
}

void ConversationPanel::delete_selected() {
  const QListWidgetItem* it = list_->currentItem();
  if (it == nullptr || !list_->isEnabled()) return;
  const QString title = it->text();
  if (!confirm(tr("Delete conversation"),
               tr("Delete \"%1\" and all its messages?\nYou can undo this for %2 seconds.")
                   .arg(title)
                   .arg(kUndoMs / 1000)))
    return;
  hide_conversations({selected()}, tr("Deleted \"%1\".").arg(title));
}

void ConversationPanel::delete_all() {
  if (!list_->isEnabled()) return;
  QVector<qint64> ids;
  for (const ConversationHeader& c : store_->conversations()) ids << c.id;
  if (ids.isEmpty()) return;
  if (!confirm(tr("Delete all history"),
               tr("Delete all %1 conversations and their messages?\nYou can undo this for %2 "
                  "seconds.")
                   .arg(ids.size())
                   .arg(kUndoMs / 1000)))
    return;
  hide_conversations(ids, tr("Deleted all %1 conversations.").arg(ids.size()));
}

void ConversationPanel::hide_conversations(const QVector<qint64>& ids, const QString& what) {
  purge_pending();  // one undo at a time: the previous delete becomes final
  if (!store_->set_hidden(ids, true)) {
    emit store_error(tr("Not deleted"));
    return;
  }
  pending_ = ids;
  undo_label_->setText(what);
  undo_bar_->setVisible(true);
  undo_timer_.start();
  refresh(current_);
  emit deleted(ids);
}

void ConversationPanel::undo() {
  if (pending_.isEmpty()) return;
  undo_timer_.stop();
  const QVector<qint64> ids = std::exchange(pending_, {});
  undo_bar_->setVisible(false);
  if (!store_->set_hidden(ids, false)) {
    emit store_error(tr("Not restored"));
    return;
  }
  refresh(current_);
  emit restored(ids);
}

void ConversationPanel::purge_pending() {
  undo_timer_.stop();
  undo_bar_->setVisible(false);
  pending_.clear();
  if (!store_->purge_hidden()) emit store_error(tr("Deleted conversations not purged"));
}

}  // namespace moe::ui
