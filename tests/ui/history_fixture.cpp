#include "history_fixture.h"

#include <QFile>

#include "ui/chat_store.h"

namespace moe::ui::test {

QString damaged_history_message(int i) {
  return QString("message %1: ").arg(i) + QString(230, QChar('a' + i % 26));
}

qint64 make_damaged_history(const QString& path, int n_messages) {
  qint64 conversation = 0;
  {
    ChatStore store;
    if (!store.open(path)) return 0;
    conversation = store.create_conversation("long conversation", "system prompt");
    for (int i = 0; i < n_messages; ++i) {
      StoredMessage m;
      m.role = i % 2 == 0 ? "user" : "assistant";
      m.content = damaged_history_message(i);
      if (store.add_message(conversation, m) == 0) return 0;
    }
  }  // the last connection closes: the WAL is checkpointed into the main file and removed
  QFile f(path);
  if (!f.open(QIODevice::ReadWrite)) return 0;
  constexpr qint64 kPage = 4096;  // SQLite's default page size
  const qint64 pages = f.size() / kPage;
  if (pages < 8 || !f.seek(pages / 2 * kPage)) return 0;
  if (f.write(QByteArray(kPage, char(0xA5))) != kPage) return 0;
  return conversation;
}

}  // namespace moe::ui::test
