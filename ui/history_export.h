#pragma once
// "Export readable history": every conversation of a (possibly damaged) history database that
// can still be read, as one Markdown file, so a clinician loses as little as possible.
#include <QString>

#include "ui/chat_store.h"

namespace moe::ui {

struct HistoryExport {
  int conversations = 0, messages = 0;
  int unreadable = 0;  ///< messages (or parts of the list) that could not be read
};

/// Writes each conversation as far as it can be read (ChatStore::readable_messages), with a
/// note where messages were lost. `error` is set when the file cannot be written.
HistoryExport export_history(const ChatStore& store, const QString& path, QString* error);

}  // namespace moe::ui
