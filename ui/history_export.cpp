#include "ui/history_export.h"

#include <QFile>

#include "ui/markdown_export.h"

namespace moe::ui {

HistoryExport export_history(const ChatStore& store, const QString& path, QString* error) {
  HistoryExport e;
  QString md;
  bool listed = true;
  const auto headers = store.conversations(&listed);
  if (!listed) {
    ++e.unreadable;
    md += QObject::tr("> Some conversations could not be listed: %1\n\n").arg(store.last_error());
  }
  for (const ConversationHeader& c : headers) {
    int lost = 0;
    const auto msgs = store.readable_messages(c.id, &lost);
    md += conversation_markdown(c.title, store.system_prompt(c.id), msgs);
    if (lost > 0) {
      md += QObject::tr("\n> %1 messages of this conversation could not be read.\n").arg(lost);
    }
    md += "\n---\n\n";
    ++e.conversations;
    e.messages += static_cast<int>(msgs.size());
    e.unreadable += lost;
  }
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text) ||
      f.write(md.toUtf8()) < 0 || !f.flush()) {
    *error = QString("%1: %2").arg(path, f.errorString());
  }
  return e;
}

}  // namespace moe::ui
