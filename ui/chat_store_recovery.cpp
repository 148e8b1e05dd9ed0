// ChatStore's fault handling: the health check at open and reading what a damaged file still
// holds (the rest of the store is in chat_store.cpp).
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>
#include <algorithm>

#include "ui/chat_store.h"

namespace moe::ui {

namespace {
QSqlDatabase db(const QString& connection) {
  return QSqlDatabase::database(connection, false);
}
}  // namespace

// quick_check reads every page (a few ms for a year of chats); the write probe is rolled back.
void ChatStore::check_health() {
  problem_.clear();
  read_only_ = false;
  QStringList problems;
  {
    QSqlQuery q(db(connection_));
    QStringList findings;
    QString failure;
    if (!q.exec("PRAGMA quick_check")) {
      failure = q.lastError().text();
    } else {
      while (q.next() && findings.size() < 5) {
        const QString row = q.value(0).toString();
        if (row != "ok") findings << row;
      }
      if (q.lastError().isValid()) failure = q.lastError().text();
    }
    if (!findings.isEmpty()) {
      problems << QObject::tr("the history database is damaged (%1)").arg(findings.join("; "));
    } else if (!failure.isEmpty()) {
      problems << QObject::tr("the history database could not be checked (%1)").arg(failure);
    }
  }
  QSqlDatabase d = db(connection_);
  QSqlQuery probe(d);
  const bool began = d.transaction();
  const bool wrote =
      began && probe.exec("INSERT OR REPLACE INTO kv(key, value) VALUES('.write_probe', '')");
  if (began) d.rollback();
  if (!wrote) {
    read_only_ = true;
    const QString why = began ? probe.lastError().text() : d.lastError().text();
    problems << QObject::tr(
                    "the history database cannot be written (%1): new messages will not be saved")
                    .arg(why);
  }
  problem_ = problems.join("; ");
}

QVector<StoredMessage> ChatStore::readable_messages(qint64 conversation, int* unreadable) const {
  *unreadable = 0;
  bool complete = false;
  QVector<StoredMessage> out = messages(conversation, &complete);
  *unreadable = undecryptable_;  // shown with a marker, counted as unreadable
  if (complete) return out;
  QSet<qint64> have;
  for (const StoredMessage& m : out) have.insert(m.id);
  QSqlQuery ids(db(connection_));
  ids.prepare("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id");
  ids.addBindValue(conversation);
  QVector<qint64> missing;
  if (ids.exec()) {
    while (ids.next()) {
      if (!have.contains(ids.value(0).toLongLong())) missing.push_back(ids.value(0).toLongLong());
    }
  }
  for (qint64 id : missing) {
    QSqlQuery q(db(connection_));
    q.prepare(
        "SELECT role, content, tokens_per_s, computed_on, stop_reason FROM messages WHERE id = ?");
    q.addBindValue(id);
    if (!q.exec() || !q.next()) {
      ++*unreadable;
      continue;
    }
    StoredMessage m;
    m.id = id;
    m.role = q.value(0).toString();
    m.content = unseal(q.value(1), unreadable);
    m.tokens_per_s = q.value(2).toDouble();
    m.computed_on = q.value(3).toString();
    m.stop_reason = q.value(4).toString();
    out.push_back(m);
  }
  if (ids.lastError().isValid() && *unreadable == 0) *unreadable = 1;  // the index is damaged too
  std::sort(out.begin(), out.end(),
            [](const StoredMessage& a, const StoredMessage& b) { return a.id < b.id; });
  return out;
}

}  // namespace moe::ui
