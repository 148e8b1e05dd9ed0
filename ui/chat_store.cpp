#include "ui/chat_store.h"

#include "ui/history_crypto.h"

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
// The stop reason of an answer still being written (what a crash leaves behind).
const char* kInterrupted = "interrupted";
}  // namespace

ChatStore::~ChatStore() {
  set_off_the_record(false);
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

template <class Body>
bool ChatStore::transaction(Body&& body) {
  QSqlDatabase d = db(connection_);
  if (!d.transaction()) {
    error_ = d.lastError().text();
    return false;
  }
  if (!body()) {
    d.rollback();
    return false;
  }
  if (!d.commit()) {
    error_ = d.lastError().text();
    d.rollback();
    return false;
  }
  return true;
}

bool ChatStore::run_transaction(const std::function<bool()>& body) {
  return transaction(body);
}

bool ChatStore::open(const QString& path) {
  const QString name = "moe-chat-" + QUuid::createUuid().toString(QUuid::Id128);
  path_ = path;
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
  {
    QSqlQuery probe(db(connection_));
    if (!probe.exec("SELECT count(*) FROM sqlite_master") || !probe.next()) {
      error_ =
          QObject::tr("%1: the history cannot be read: %2").arg(path, probe.lastError().text());
      probe = QSqlQuery();
      db(connection_).close();
      QSqlDatabase::removeDatabase(connection_);
      connection_.clear();
      return false;
    }
  }
  // WAL: readers never block the writer, and a crash loses at most the last transaction.
  // synchronous=NORMAL keeps each commit to an append without an fsync on the UI thread.
  // On a read-only file these fail; it still opens for reading, with problem() saying so.
  const bool ok = exec("PRAGMA journal_mode=WAL") && exec("PRAGMA synchronous=NORMAL") &&
                  exec("PRAGMA foreign_keys=ON") &&
                  // Deleted text is overwritten with zeros, not left in free pages.
                  exec("PRAGMA secure_delete=ON") &&
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
                  exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT)") &&
                  (managed_ = upgrade_schema());
  const QString schema_error = error_;
  check_health();
  if (!ok && !read_only_) {
    error_ = QString("%1: %2").arg(path, problem_.isEmpty() ? schema_error : problem_);
    return false;
  }
  load_privacy_state();
  return true;
}

qint64 ChatStore::create_conversation(const QString& title, const QString& system_prompt) {
  QSqlQuery q(db(connection_));
  q.prepare(
      "INSERT INTO conversations(title, system_prompt, created_ms, updated_ms) "
      "VALUES(?, ?, ?, ?)");
  q.addBindValue(seal(title));
  q.addBindValue(seal(system_prompt));
  q.addBindValue(now_ms());
  q.addBindValue(now_ms());
  if (!q.exec()) {
    error_ = q.lastError().text();
    return 0;
  }
  return q.lastInsertId().toLongLong();
}

QVector<ConversationHeader> ChatStore::conversations(bool* complete) const {
  QVector<ConversationHeader> out;
  QSqlQuery q(db(connection_));
  // Pinned first; conversations hidden by a delete that can still be undone are left out.
  bool ok = q.exec(managed_ ? "SELECT id, title, updated_ms, pinned FROM conversations "
                              "WHERE hidden_ms = 0 ORDER BY pinned DESC, updated_ms DESC, id DESC"
                            : "SELECT id, title, updated_ms, 0 FROM conversations "
                              "ORDER BY updated_ms DESC, id DESC");
  int unreadable = 0;
  while (ok && q.next()) {
    out.push_back({q.value(0).toLongLong(), unseal(q.value(1), &unreadable),
                   QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong()), q.value(3).toBool()});
  }
  ok = ok && !q.lastError().isValid();  // a step that failed part-way ends the loop too
  if (!ok) error_ = q.lastError().text();
  if (ok && unreadable > 0) {
    ok = false;
    error_ = QObject::tr("%n title(s) could not be decrypted", nullptr, unreadable);
  }
  if (complete != nullptr) *complete = ok;
  return out;
}

QVector<StoredMessage> ChatStore::messages(qint64 conversation, bool* complete) const {
  QVector<StoredMessage> out;
  QSqlQuery q(db(connection_));
  // Earlier versions of a regenerated answer are kept but not part of the conversation.
  q.prepare(QString("SELECT id, role, content, tokens_per_s, computed_on, stop_reason FROM "
                    "messages WHERE conversation_id = ? %1 ORDER BY id")
                .arg(managed_ ? "AND inactive = 0" : ""));
  q.addBindValue(conversation);
  bool ok = q.exec();
  int unreadable = 0;
  while (ok && q.next()) {
    StoredMessage m;
    m.id = q.value(0).toLongLong();
    m.role = q.value(1).toString();
    m.content = unseal(q.value(2), &unreadable);
    m.tokens_per_s = q.value(3).toDouble();
    m.computed_on = q.value(4).toString();
    m.stop_reason = q.value(5).toString();
    out.push_back(m);
  }
  ok = ok && !q.lastError().isValid();
  if (!ok) error_ = q.lastError().text();
  undecryptable_ = unreadable;
  if (ok && unreadable > 0) {
    ok = false;
    error_ = QObject::tr("%n message(s) could not be decrypted (damaged)", nullptr, unreadable);
  }
  if (complete != nullptr) *complete = ok;
  return out;
}

bool ChatStore::touch(qint64 conversation) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET updated_ms = ? WHERE id = ?");
  q.addBindValue(now_ms());
  q.addBindValue(conversation);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

qint64 ChatStore::add_message(qint64 conversation, const StoredMessage& m) {
  qint64 id = 0;
  const bool ok = transaction([&] {
    QSqlQuery q(db(connection_));
    q.prepare(
        "INSERT INTO messages(conversation_id, role, content, tokens_per_s, computed_on, "
        "stop_reason, created_ms) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.addBindValue(conversation);
    q.addBindValue(text(m.role));
    q.addBindValue(seal(m.content));
    q.addBindValue(m.tokens_per_s);
    q.addBindValue(text(m.computed_on));
    q.addBindValue(text(m.stop_reason));
    q.addBindValue(now_ms());
    if (!q.exec()) {
      error_ = q.lastError().text();
      return false;
    }
    id = q.lastInsertId().toLongLong();
    return touch(conversation);
  });
  return ok ? id : 0;
}

qint64 ChatStore::begin_answer(qint64 conversation) {
  StoredMessage m;
  m.role = "assistant";
  m.stop_reason = kInterrupted;
  return add_message(conversation, m);
}

bool ChatStore::update_answer(qint64 message, const QString& content) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE messages SET content = ? WHERE id = ?");
  q.addBindValue(seal(content));
  q.addBindValue(message);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  if (q.numRowsAffected() != 1) {
    error_ = QObject::tr("the answer being saved is no longer in the history");
    return false;
  }
  return true;
}

bool ChatStore::finish_answer(qint64 message, const StoredMessage& m) {
  return transaction([&] {
    QSqlQuery q(db(connection_));
    q.prepare(
        "UPDATE messages SET content = ?, tokens_per_s = ?, computed_on = ?, stop_reason = ? "
        "WHERE id = ?");
    q.addBindValue(seal(m.content));
    q.addBindValue(m.tokens_per_s);
    q.addBindValue(text(m.computed_on));
    q.addBindValue(text(m.stop_reason));
    q.addBindValue(message);
    if (!q.exec()) {
      error_ = q.lastError().text();
      return false;
    }
    QSqlQuery c(db(connection_));
    c.prepare("SELECT conversation_id FROM messages WHERE id = ?");
    c.addBindValue(message);
    if (!c.exec() || !c.next()) {
      error_ = c.lastError().isValid() ? c.lastError().text()
                                       : QObject::tr("the answer is no longer in the history");
      return false;
    }
    return touch(c.value(0).toLongLong());
  });
}

bool ChatStore::rename_conversation(qint64 conversation, const QString& title) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET title = ? WHERE id = ?");
  q.addBindValue(seal(title));
  q.addBindValue(conversation);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

bool ChatStore::delete_conversation(qint64 conversation) {
  QSqlQuery q(db(connection_));
  q.prepare("DELETE FROM conversations WHERE id = ?");
  q.addBindValue(conversation);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

QString ChatStore::system_prompt(qint64 conversation) const {
  QSqlQuery q(db(connection_));
  q.prepare("SELECT system_prompt FROM conversations WHERE id = ?");
  q.addBindValue(conversation);
  int unreadable = 0;
  if (q.exec() && q.next()) return unseal(q.value(0), &unreadable);
  if (q.lastError().isValid()) error_ = q.lastError().text();
  return {};
}

bool ChatStore::set_system_prompt(qint64 conversation, const QString& prompt) {
  QSqlQuery q(db(connection_));
  q.prepare("UPDATE conversations SET system_prompt = ? WHERE id = ?");
  q.addBindValue(seal(prompt));
  q.addBindValue(conversation);
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

bool ChatStore::put_value(const QString& key, const QString& value) {
  QSqlQuery q(db(connection_));
  q.prepare(
      "INSERT INTO kv(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  q.addBindValue(key);
  q.addBindValue(key.startsWith(QLatin1String(kPlainKeyPrefix)) ? QVariant(text(value))
                                                                : seal(value));
  if (!q.exec()) {
    error_ = q.lastError().text();
    return false;
  }
  return true;
}

QString ChatStore::value(const QString& key, const QString& fallback) const {
  QSqlQuery q(db(connection_));
  q.prepare("SELECT value FROM kv WHERE key = ?");
  q.addBindValue(key);
  if (q.exec() && q.next()) {
    if (key.startsWith(QLatin1String(kPlainKeyPrefix))) return q.value(0).toString();
    const auto opened = open_value(key_.get(), q.value(0));
    return opened ? *opened : fallback;
  }
  if (q.lastError().isValid()) error_ = q.lastError().text();
  return fallback;
}

}  // namespace moe::ui
