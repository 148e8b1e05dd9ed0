#pragma once
// A conversation as Markdown (Copy and Export in the chat window).
#include <QString>
#include <QVector>

#include "ui/chat_store.h"

namespace moe::ui {

/// `about` (Markdown, may be empty): the model and settings that answered, after the notice.
QString conversation_markdown(const QString& title, const QString& system_prompt,
                              const QVector<StoredMessage>& messages, const QString& about = {});

/// "12.4 tokens/s · computed on local CPU · stopped" (empty parts left out).
QString answer_stats_line(const StoredMessage& m);

}  // namespace moe::ui
