#include "ui/markdown_export.h"

#include <QObject>
#include <QStringList>

namespace moe::ui {

QString answer_stats_line(const StoredMessage& m) {
  QStringList parts;
  if (m.tokens_per_s > 0) parts << QString("%1 tokens/s").arg(m.tokens_per_s, 0, 'f', 1);
  if (!m.computed_on.isEmpty()) parts << QString("computed on %1").arg(m.computed_on);
  if (m.stop_reason == "max_tokens")
    parts << QObject::tr("length limit reached");
  else if (m.stop_reason == "context_full")
    parts << QObject::tr("context full");
  else if (m.stop_reason == "interrupted")
    parts << QObject::tr("interrupted (window closed)");
  else if (!m.stop_reason.isEmpty() && m.stop_reason != "eos")
    parts << m.stop_reason;
  return parts.join(QStringLiteral(" · "));
}

QString conversation_markdown(const QString& title, const QString& system_prompt,
                              const QVector<StoredMessage>& messages, const QString& about) {
  QString md;
  md += "# " + (title.isEmpty() ? QStringLiteral("Conversation") : title) + "\n\n";
  md += "> Decision support only — not a diagnosis.\n\n";
  if (!about.isEmpty()) md += about + "\n\n";
  if (!system_prompt.trimmed().isEmpty()) md += "**System prompt:** " + system_prompt + "\n\n";
  for (const StoredMessage& m : messages) {
    md += (m.role == "user" ? QStringLiteral("## Clinician\n\n")
                            : QStringLiteral("## Assistant\n\n"));
    md += m.content.trimmed() + "\n\n";
    if (m.role == "assistant") {
      const QString stats = answer_stats_line(m);
      if (!stats.isEmpty()) md += "*" + stats + "*\n\n";
    }
  }
  return md;
}

}  // namespace moe::ui
