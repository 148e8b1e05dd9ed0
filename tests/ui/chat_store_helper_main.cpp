// A separate process that writes the history through ChatStore + AnswerRecorder as the chat
// window does, for tests that need a real process and a real database:
//   chat_store_helper stream DB CHECKPOINT_MS
//     creates a conversation with a question, starts an answer and streams "w<i> " every 10 ms,
//     checkpointing every CHECKPOINT_MS; after each checkpoint prints
//     "checkpoint <conversation> <saved chars>" (flushed). Runs until killed (60 s at most).
//   chat_store_helper probe DB
//     opens DB and tries to save a message; prints "open <0|1>", "problem <text>",
//     "write <0|1> <error>" and exits 0.
//   chat_store_helper encrypt DB PASSPHRASE
//     prints "migrating" and turns encryption on (one transaction); prints "encrypted <0|1>".
#include <QCoreApplication>
#include <QTimer>
#include <cstdio>

#include "ui/answer_recorder.h"
#include "ui/chat_store.h"

using moe::ui::AnswerRecorder;
using moe::ui::ChatStore;
using moe::ui::StoredMessage;

namespace {

void say(const QString& line) {
  std::printf("%s\n", line.toUtf8().constData());
  std::fflush(stdout);
}

int probe(const QString& path) {
  ChatStore store;
  const bool opened = store.open(path);
  say(QString("open %1").arg(opened ? 1 : 0));
  say("problem " + (opened ? store.problem() : store.last_error()));
  if (!opened) return 0;
  StoredMessage m;
  m.role = "user";
  m.content = "probe";
  const qint64 conversation = store.create_conversation("probe", {});
  const bool wrote = conversation != 0 && store.add_message(conversation, m) != 0;
  say(QString("write %1 %2").arg(wrote ? 1 : 0).arg(wrote ? QString() : store.last_error()));
  return 0;
}

int encrypt(const QString& path, const QString& passphrase) {
  ChatStore store;
  if (!store.open(path)) return 1;
  say("migrating");
  const bool ok = store.enable_encryption(passphrase);
  say(QString("encrypted %1 %2").arg(ok ? 1 : 0).arg(ok ? QString() : store.last_error()));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const QStringList args = app.arguments();
  if (args.size() >= 3 && args[1] == "probe") return probe(args[2]);
  if (args.size() >= 4 && args[1] == "encrypt") return encrypt(args[2], args[3]);
  if (args.size() < 4 || args[1] != "stream") {
    std::fprintf(
        stderr,
        "usage: chat_store_helper stream DB CHECKPOINT_MS | probe DB | encrypt DB PASSPHRASE\n");
    return 2;
  }
  ChatStore store;
  if (!store.open(args[2])) {
    std::fprintf(stderr, "%s\n", store.last_error().toUtf8().constData());
    return 1;
  }
  const qint64 conversation = store.create_conversation("kill test", "system");
  StoredMessage q;
  q.role = "user";
  q.content = "A question before the crash";
  if (conversation == 0 || store.add_message(conversation, q) == 0) return 1;
  AnswerRecorder recorder(&store);
  if (!recorder.start(conversation)) return 1;
  int n = 0;
  QTimer stream, checkpoint;
  QObject::connect(&stream, &QTimer::timeout, [&] { recorder.append(QString("w%1 ").arg(n++)); });
  QObject::connect(&checkpoint, &QTimer::timeout, [&] {
    if (!recorder.checkpoint()) {
      std::fprintf(stderr, "checkpoint failed: %s\n", store.last_error().toUtf8().constData());
      QCoreApplication::exit(1);
      return;
    }
    say(QString("checkpoint %1 %2").arg(conversation).arg(recorder.saved_chars()));
  });
  stream.start(10);
  checkpoint.start(args[3].toInt());
  QTimer::singleShot(60000, [] { QCoreApplication::exit(3); });
  return app.exec();
}
