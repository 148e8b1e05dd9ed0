// The chat history under faults (issue 12, items 10 and 11), with a real process and a real
// database: an answer survives kill -9 up to its last checkpoint; a damaged or read-only
// database is reported instead of opening silently; what is readable can be exported.
#include <unistd.h>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "history_fixture.h"
#include "ui/chat_store.h"
#include "ui/history_export.h"

using namespace moe::ui;

class ChatStoreTest : public QObject {
  Q_OBJECT
 private slots:
  void killMidAnswerKeepsCheckpointedText();
  void finishedAnswerReplacesTheCheckpoint();
  void damagedMiddlePageIsReported();
  void readOnlyDatabaseIsReported();
};

namespace {

// The text chat_store_helper streams: "w0 w1 w2 ...".
QString streamed_prefix(int chars) {
  QString s;
  for (int i = 0; s.size() < chars; ++i) s += QString("w%1 ").arg(i);
  return s.left(chars);
}

}  // namespace

void ChatStoreTest::killMidAnswerKeepsCheckpointedText() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  QProcess helper;
  helper.start(MOE_CHAT_STORE_HELPER, {"stream", db, "150"});
  QVERIFY(helper.waitForStarted());
  int checkpoints = 0, saved = 0;
  qint64 conversation = 0;
  while (checkpoints < 4 && helper.waitForReadyRead(10000)) {
    while (helper.canReadLine()) {
      const QStringList parts = QString::fromUtf8(helper.readLine()).trimmed().split(' ');
      if (parts.size() == 3 && parts[0] == "checkpoint") {
        ++checkpoints;
        conversation = parts[1].toLongLong();
        saved = parts[2].toInt();
      }
    }
  }
  QCOMPARE(checkpoints, 4);
  QTest::qWait(60);  // mid-stream: more text than the last checkpoint exists in the process
  helper.kill();     // SIGKILL: no destructor, no finish_answer
  QVERIFY(helper.waitForFinished(5000));
  QCOMPARE(helper.exitStatus(), QProcess::CrashExit);
  QVERIFY(saved > 0);

  ChatStore store;
  QVERIFY(store.open(db));
  QCOMPARE(store.problem(), QString());
  bool complete = false;
  const auto msgs = store.messages(conversation, &complete);
  QVERIFY(complete);
  QCOMPARE(msgs.size(), 2);
  QCOMPARE(msgs[0].content, QString("A question before the crash"));
  QCOMPARE(msgs[1].role, QString("assistant"));
  QCOMPARE(msgs[1].stop_reason, QString("interrupted"));
  // Everything streamed up to the last checkpoint reported (a later one may have landed).
  QVERIFY2(msgs[1].content.size() >= saved,
           qPrintable(QString("%1 < %2 chars").arg(msgs[1].content.size()).arg(saved)));
  QCOMPARE(msgs[1].content, streamed_prefix(static_cast<int>(msgs[1].content.size())));
}

void ChatStoreTest::finishedAnswerReplacesTheCheckpoint() {
  QTemporaryDir dir;
  ChatStore store;
  QVERIFY(store.open(dir.filePath("h.sqlite")));
  const qint64 c = store.create_conversation("t", {});
  const qint64 id = store.begin_answer(c);
  QVERIFY(id != 0);
  QVERIFY(store.update_answer(id, "partial"));
  QCOMPARE(store.messages(c).back().content, QString("partial"));
  QCOMPARE(store.messages(c).back().stop_reason, QString("interrupted"));
  StoredMessage done;
  done.content = "partial and complete";
  done.stop_reason = "eos";
  done.tokens_per_s = 12.5;
  QVERIFY(store.finish_answer(id, done));
  const auto msgs = store.messages(c);
  QCOMPARE(msgs.size(), 1);
  QCOMPARE(msgs[0].content, done.content);
  QCOMPARE(msgs[0].stop_reason, QString("eos"));
  QVERIFY(!store.update_answer(id + 100, "x"));  // a vanished row is an error, not a no-op
  QVERIFY(!store.last_error().isEmpty());
}

void ChatStoreTest::damagedMiddlePageIsReported() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  constexpr int kMessages = 400;
  const qint64 conversation = test::make_damaged_history(db, kMessages);
  QVERIFY(conversation != 0);
  ChatStore store;
  QVERIFY2(store.open(db), qPrintable(store.last_error()));  // readable parts stay available
  QVERIFY2(store.problem().contains("damaged"), qPrintable(store.problem()));
  bool complete = true;
  const auto msgs = store.messages(conversation, &complete);
  // Never a silently shortened conversation: fewer messages come with an error.
  if (msgs.size() < kMessages) {
    QVERIFY(!complete);
    QVERIFY(!store.last_error().isEmpty());
  }
  int unreadable = 0;
  const auto readable = store.readable_messages(conversation, &unreadable);
  qInfo(
      "problem: %s\nordered read: %d of %d messages (complete: %d); row by row: %d readable, "
      "%d unreadable",
      qPrintable(store.problem()), static_cast<int>(msgs.size()), kMessages, complete,
      static_cast<int>(readable.size()), unreadable);
  QVERIFY(readable.size() >= msgs.size());
  QCOMPARE(readable.size() + unreadable, kMessages);
  QVERIFY(!readable.isEmpty());
  QCOMPARE(readable.front().content, test::damaged_history_message(0));

  const QString md_path = dir.filePath("export.md");
  QString error;
  const HistoryExport e = export_history(store, md_path, &error);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  QCOMPARE(e.conversations, 1);
  QCOMPARE(e.messages, static_cast<int>(readable.size()));
  QFile f(md_path);
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QString md = QString::fromUtf8(f.readAll());
  QVERIFY(md.contains(test::damaged_history_message(0)));
  QVERIFY(md.contains(readable.back().content));
  if (unreadable > 0) QVERIFY(md.contains("could not be read"));
}

void ChatStoreTest::readOnlyDatabaseIsReported() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  {
    ChatStore store;
    QVERIFY(store.open(db));
    QVERIFY(store.create_conversation("existing", {}) != 0);
  }
  // A read-only file in a writable directory (SQLite can still make its -shm there): it opens
  // for reading. root writes through any mode bits, so then the probe runs as "nobody".
  const auto all = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                   QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
                   QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
  QVERIFY(QFile::setPermissions(
      db, QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
  QString program = MOE_CHAT_STORE_HELPER;
  QStringList args = {"probe", db};
  if (::geteuid() == 0) {
    QVERIFY(QFile::setPermissions(dir.path(), all));
    args = QStringList{"--reuid=65534", "--regid=65534", "--clear-groups", program} + args;
    program = "setpriv";
  }
  QProcess helper;
  helper.start(program, args);
  QVERIFY(helper.waitForFinished(20000));
  const QString out = QString::fromUtf8(helper.readAllStandardOutput());
  QVERIFY2(helper.exitCode() == 0, qPrintable(out + helper.readAllStandardError()));
  const QStringList lines = out.split('\n');
  QVERIFY2(lines.size() >= 3, qPrintable(out));
  // It opens (the history stays readable), says at once that nothing will be saved, and the
  // write then fails with its own error (before: it opened silently and only the first failed
  // write of the user's message was ever shown).
  QCOMPARE(lines[0], QString("open 1"));
  QVERIFY2(lines[1].contains("cannot be written"), qPrintable(out));
  QVERIFY2(lines[2].startsWith("write 0 ") && lines[2].size() > 8, qPrintable(out));
}

QTEST_GUILESS_MAIN(ChatStoreTest)
#include "chat_store_test.moc"
