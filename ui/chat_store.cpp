#include "ui/chat_store.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

namespace moe::ui {

namespace {
QSqlDatabase db(const QString& connection) {
  return QSqlDatabase::database(connection, false);
}
qint64 now_ms() {
  return QDateTime::currentMSecsSinceEpoch();
}
// A null QString binds as SQL NULL; the text columns are NOT NULL.
QString text(const QString& s) {
  return s.isNull() ? QStringLiteral("") : s;
}
}  // namespace

ChatStore::~ChatStore() {
  if (connection_.isEmpty()) return;
  {
    QSqlDatabase d = db(connection_);
    d.close();
  }  // every QSqlDatabase handle must be gone before removeDatabase
  QSqlDatabase::removeDatabase(connection_);
}

bool ChatStore::exec(const QString& sql) {
  QSqlQuery q(db(connection_));
  if (!q.exec(sql)) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

bool ChatStore::open(const QString& path) {
  const QString name = "moe-chat-" + QUuid::createUuid().toString(QUuid::Id128);
  {
    QSqlDatabase d = QSqlDatabase::addDatabase("QSQLITE", name);
    d.setDatabaseName(path);
    if (!d.open()) {
      error_ = QString("%1: %2").arg(path, d.lastError().text());
      d = QSqlDatabase();
      QSqlDatabase::removeDatabase(name);
      return false;
    }
  }
  connection_ = name;
  // WAL: readers never block the writer, and a crash loses at most the last transaction.
  // synchronous=NORMAL keeps each commit to an append without an fsync on the UI thread.
  const bool ok = exec("PRAGMA journal_mode=WAL") && exec("PRAGMA synchronous=NORMAL") &&
                  exec("PRAGMA foreign_keys=ON") &&
                  exec(
                      "CREATE TABLE IF NOT EXISTS conversations (id INTEGER PRIMARY KEY, "
                      "title TEXT NOT NULL, system_prompt TEXT NOT NULL DEFAULT '', "
                      "created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)") &&
                  exec(
                      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, "
                      "conversation_id INTEGER NOT NULL REFERENCES conversations(id) "
                      "ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL, "
                      "tokens_per_s REAL NOT NULL DEFAULT 0, computed_on TEXT NOT NULL DEFAULT "
                      "'', stop_reason TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL)") &&
                  exec(
                      "CREATE INDEX IF NOT EXISTS messages_by_conversation ON "
                      "messages(conversation_id, id)") &&
                  exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT)");
  if (!ok) error_ = QString("%1: %2").arg(path, error_);
  return ok;
}

qint64 ChatStore::create_conversation(const QString& title, const QString& system_prompt) {
  QSqlQuery q(db(connection_));
  q.prepare(
      "INSERT INTO conversations(title, system_prompt, created_ms, updated_ms) "
      "VALUES(?, ?, ?, ?)");
  q.addBindValue(text(title));
  q.addBindValue(text(system_prompt));
  q.addBindValue(now_ms());
  q.addBindValue(now_ms());
  if (!q.exec()) {
    error_ = q.lastError().text();
    return 0;
  }
  return q.lastInsertId().toLongLong();
}

QVector<ConversationHeader> ChatStore::conversations() const {
  QVector<ConversationHeader> out;
  QSqlQuery q(db(connection_));
  q.exec("SELECT id, title, updated_ms FROM conversations ORDER BY updated_ms DESC, id DESC");
  while (q.next()) {
    out.push_back({q.value(0).toLongLong(), q.value(1).toString(),
                   QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong())});
  }
  return out;
}

QVector<StoredMessage> ChatStore::messages(qint64 conversation) const {
  QVector<StoredMessage> out;
  QSqlQuery q(db(connection_));
  q.prepare(
      "SELECT id, role, content, tokens_per_s, computed_on, stop_reason FROM messages "
      "WHERE conversation_id = ? ORDER BY id");
  q.addBindValue(conversation);
  q.exec();
  while (q.next()) {
    StoredMessage m;
    m.id = q.value(0).toLongLong();
    m.role = q.value(1).toString();
    m.content = q.value(2).toString();
    m.tokens_per_s = q.value(3).toDouble();
    m.computed_on = q.value(4).toString();
    m.stop_reason = q.value(5).toString();
    out.push_back(m);
  }
  return out;
}

bool ChatStore::touch(qint64 conversation) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET updated_ms = ? WHERE id = ?");
  q.addBindValue(now_ms());
  q.addBindValue(conversation);
  return q.exec();
}

qint64 ChatStore::add_message(qint64 conversation, const StoredMessage& m) {
  QSqlQuery q(db(connection_));
  q.prepare(
      "INSERT INTO messages(conversation_id, role, content, tokens_per_s, computed_on, "
      "stop_reason, created_ms) VALUES(?, ?, ?, ?, ?, ?, ?)");
  q.addBindValue(conversation);
  q.addBindValue(text(m.role));
  q.addBindValue(text(m.content));
  q.addBindValue(m.tokens_per_s);
  q.addBindValue(text(m.computed_on));
  q.addBindValue(text(m.stop_reason));
  q.addBindValue(now_ms());
  if (!q.exec()) {
    error_ = q.lastError().text();
    return 0;
  }
  touch(conversation);
  return q.lastInsertId().toLongLong();
}

bool ChatStore::remove_last_answer(qint64 conversation) {
  const auto all = messages(conversation);
  if (all.isEmpty() || all.back().role != "assistant") return false;
  QSqlQuery q(db(connection_));
  q.prepare("DELETE FROM messages WHERE id = ?");
  q.addBindValue(all.back().id);
  return q.exec();
}

bool ChatStore::rename_conversation(qint64 conversation, const QString& title) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET title = ? WHERE id = ?");
  q.addBindValue(text(title));
  q.addBindValue(conversation);
  return q.exec();
}

bool ChatStore::delete_conversation(qint64 conversation) {
  QSqlQuery q(db(connection_));
  q.prepare("DELETE FROM conversations WHERE id = ?");
  q.addBindValue(conversation);
  return q.exec();
}

QString ChatStore::system_prompt(qint64 conversation) const {
  QSqlQuery q(db(connection_));
  q.prepare("SELECT system_prompt FROM conversations WHERE id = ?");
  q.addBindValue(conversation);
  if (q.exec() && q.next()) return q.value(0).toString();
  return {};
}

bool ChatStore::set_system_prompt(qint64 conversation, const QString& prompt) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET system_prompt = ? WHERE id = ?");
  q.addBindValue(text(prompt));
  q.addBindValue(conversation);
  return q.exec();
}

bool ChatStore::put_value(const QString& key, const QString& value) {
  QSqlQuery q(db(connection_));
  q.prepare(
      "INSERT INTO kv(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  q.addBindValue(key);
  q.addBindValue(text(value));
  return q.exec();
}

QString ChatStore::value(const QString& key, const QString& fallback) const {
  QSqlQuery q(db(connection_));
  q.prepare("SELECT value FROM kv WHERE key = ?");
  q.addBindValue(key);
  if (q.exec() && q.next()) return q.value(0).toString();
  return fallback;
}

}  // namespace moe::ui
