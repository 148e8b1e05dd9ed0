// ChatStore's conversation management: schema upgrade, pin, delete with undo (hide, then
// purge), answer versions, edit-and-resend, reuse of an empty conversation, search (the rest
// of the store is in chat_store.cpp).
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

#include "ui/chat_store.h"

namespace moe::ui {

namespace {
QSqlDatabase db(const QString& connection) {
  return QSqlDatabase::database(connection, false);
}
}  // namespace

bool ChatStore::add_column_if_missing(const QString& table, const QString& column,
                                      const QString& decl) {
  QSqlQuery q(db(connection_));
  if (!q.exec(QString("PRAGMA table_info(%1)").arg(table))) {
    error_ = q.lastError().text();
    return false;
  }
  while (q.next())
    if (q.value(1).toString() == column) return true;  // row: cid, name, type, ...
  return exec(QString("ALTER TABLE %1 ADD COLUMN %2 %3").arg(table, column, decl));
}

// A database written before conversation management has neither column: ALTER TABLE ... ADD
// COLUMN with a default keeps every row as it was (not pinned, not hidden).
bool ChatStore::upgrade_schema() {
  return add_column_if_missing("conversations", "pinned", "INTEGER NOT NULL DEFAULT 0") &&
         add_column_if_missing("conversations", "hidden_ms", "INTEGER NOT NULL DEFAULT 0") &&
         add_column_if_missing("messages", "version_of", "INTEGER NOT NULL DEFAULT 0") &&
         add_column_if_missing("messages", "inactive", "INTEGER NOT NULL DEFAULT 0");
}

bool ChatStore::set_pinned(qint64 conversation, bool pinned) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET pinned = ? WHERE id = ?");
  q.addBindValue(pinned ? 1 : 0);
  q.addBindValue(conversation);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

bool ChatStore::set_hidden(const QVector<qint64>& conversations, bool hidden) {
  if (conversations.isEmpty()) return true;
  QStringList ids;  // integers: safe to put in the statement, and one UPDATE is atomic
  for (qint64 id : conversations) ids << QString::number(id);
  return exec(QString("UPDATE conversations SET hidden_ms = %1 WHERE id IN (%2)")
                  .arg(hidden ? QDateTime::currentMSecsSinceEpoch() : 0)
                  .arg(ids.join(',')));
}

bool ChatStore::purge_hidden() {
  // The messages go with their conversation (ON DELETE CASCADE).
  // A read-only file keeps them hidden (SQLite refuses even a DELETE that matches nothing).
  return !managed_ || read_only_ || exec("DELETE FROM conversations WHERE hidden_ms != 0");
}

// A group is named by its first answer: version_of = 0 for it, its id for the later ones.
qint64 ChatStore::version_group(qint64 message) const {
  QSqlQuery q(db(connection_));
  q.prepare("SELECT version_of FROM messages WHERE id = ?");
  q.addBindValue(message);
  if (!q.exec() || !q.next()) {
    error_ = q.lastError().isValid() ? q.lastError().text()
                                     : QObject::tr("the answer is no longer in the history");
    return 0;
  }
  const qint64 of = q.value(0).toLongLong();
  return of != 0 ? of : message;
}

qint64 ChatStore::retire_answer(qint64 message) {
  const qint64 group = version_group(message);
  if (group == 0) return 0;
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE messages SET inactive = 1 WHERE id = ?");
  q.addBindValue(message);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return 0;
  }
  return group;
}

bool ChatStore::add_to_versions(qint64 message, qint64 group) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE messages SET version_of = ? WHERE id = ?");
  q.addBindValue(group);
  q.addBindValue(message);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

QVector<qint64> ChatStore::answer_versions(qint64 message) const {
  if (!managed_) return {message};
  const qint64 group = version_group(message);
  QVector<qint64> out;
  QSqlQuery q(db(connection_));
  q.prepare("SELECT id FROM messages WHERE id = ? OR version_of = ? ORDER BY id");
  q.addBindValue(group);
  q.addBindValue(group);
  if (q.exec())
    while (q.next()) out << q.value(0).toLongLong();
  if (q.lastError().isValid()) error_ = q.lastError().text();
  return out.isEmpty() ? QVector<qint64>{message} : out;
}

bool ChatStore::show_version(qint64 message) {
  const qint64 group = version_group(message);
  if (group == 0) return false;
  // One statement: the group's rows all change together.
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE messages SET inactive = (id != ?) WHERE id = ? OR version_of = ?");
  q.addBindValue(message);
  q.addBindValue(group);
  q.addBindValue(group);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

bool ChatStore::truncate_from(qint64 conversation, qint64 message) {
  QSqlQuery q(db(connection_));
  q.prepare("DELETE FROM messages WHERE conversation_id = ? AND id >= ?");
  q.addBindValue(conversation);
  q.addBindValue(message);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

qint64 ChatStore::empty_conversation() const {
  QSqlQuery q(db(connection_));
  if (q.exec(QString("SELECT c.id FROM conversations c WHERE %1 NOT EXISTS (SELECT 1 FROM "
                     "messages m WHERE m.conversation_id = c.id) ORDER BY c.updated_ms DESC, "
                     "c.id DESC LIMIT 1")
                 .arg(managed_ ? "c.hidden_ms = 0 AND" : "")) &&
      q.next())
    return q.value(0).toLongLong();
  if (q.lastError().isValid()) error_ = q.lastError().text();
  return 0;
}

bool ChatStore::conversation_contains(const ConversationHeader& c, const QString& needle) const {
  if (c.title.contains(needle, Qt::CaseInsensitive)) return true;
  for (const StoredMessage& m : messages(c.id))
    if (m.content.contains(needle, Qt::CaseInsensitive)) return true;
  return false;
}

}  // namespace moe::ui
