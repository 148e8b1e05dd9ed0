#pragma once
// The chat's conversation list and its management: New, a search box over titles and message
// text, pin (pinned on top), rename (inline, F2), delete (Delete key or context menu, with a
// confirmation and a timed Undo bar) and "Delete all history". A delete hides the conversations
// at once and purges them when the undo bar expires (ChatStore::set_hidden / purge_hidden).
#include <QTimer>
#include <QVector>
#include <QWidget>

class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QPushButton;

namespace moe::ui {

class ChatStore;

class ConversationPanel : public QWidget {
  Q_OBJECT
 public:
  /// How long a deleted conversation can be restored with Undo.
  static constexpr int kUndoMs = 10000;

  explicit ConversationPanel(ChatStore* store, QWidget* parent = nullptr);

  /// Re-reads the list (pinned first, the search applied) and selects `current`.
  void refresh(qint64 current);
  /// While an answer streams the list and New are disabled.
  void set_busy(bool busy);
  /// Deletes for good what is waiting in the undo bar, and whatever a crash left hidden
  /// (called at start, when the window closes and before the next delete).
  void purge_pending();

  /// Asks for confirmation, then deletes the selected conversation (Undo for kUndoMs).
  void delete_selected();
  /// Asks for confirmation, then deletes every conversation (Undo for kUndoMs).
  void delete_all();

  QListWidget* list() const { return list_; }
  QLineEdit* search_box() const { return search_; }
  QPushButton* new_button() const { return new_; }
  QWidget* undo_bar() const { return undo_bar_; }
  QPushButton* undo_button() const { return undo_; }
  /// The context menu of `item` (Rename, Pin/Unpin, Delete…, Delete all history…).
  QMenu* menu_for(QListWidgetItem* item);

 signals:
  void open_requested(qint64 conversation);
  void new_requested();
  /// Conversations just deleted (the chat leaves them when one is open).
  void deleted(const QVector<qint64>& conversations);
  /// Conversations brought back by Undo.
  void restored(const QVector<qint64>& conversations);
  void store_error(const QString& what);

 private:
  void build_ui();
  void hide_conversations(const QVector<qint64>& ids, const QString& what);
  void undo();
  qint64 selected() const;
  bool confirm(const QString& title, const QString& text);

  ChatStore* store_;
  qint64 current_ = 0;
  QVector<qint64> pending_;  ///< hidden, purged when the undo bar expires
  QTimer undo_timer_, search_timer_;
  QPushButton* new_ = nullptr;
  QLineEdit* search_ = nullptr;
  QListWidget* list_ = nullptr;
  QWidget* undo_bar_ = nullptr;
  QLabel* undo_label_ = nullptr;
  QPushButton* undo_ = nullptr;
  QMenu* menu_ = nullptr;
};

}  // namespace moe::ui
