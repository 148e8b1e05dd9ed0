#pragma once
// Conversation history in SQLite (Qt SQL, WAL journal): conversations, their messages, the
// per-conversation system prompt and the unsent draft (autosaved so it survives a crash).
// One store per database connection; the connection name is unique per instance, so a test
// can close a store and open a fresh one on the same file.
#include <QDateTime>
#include <QString>
#include <QVector>

namespace moe::ui {

struct StoredMessage {
  qint64 id = 0;
  QString role;  ///< "user" or "assistant"
  QString content;
  double tokens_per_s = 0;
  QString computed_on, stop_reason;
};

struct ConversationHeader {
  qint64 id = 0;
  QString title;
  QDateTime updated;
};

class ChatStore {
 public:
  ChatStore() = default;
  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  /// Opens (creating) the database; false with last_error() set on failure.
  bool open(const QString& path);
  bool is_open() const { return !connection_.isEmpty(); }
  QString last_error() const { return error_; }

  qint64 create_conversation(const QString& title, const QString& system_prompt);
  QVector<ConversationHeader> conversations() const;  ///< most recently updated first
  QVector<StoredMessage> messages(qint64 conversation) const;
  qint64 add_message(qint64 conversation, const StoredMessage& m);
  /// Removes the last message when it is an assistant answer (Regenerate).
  bool remove_last_answer(qint64 conversation);
  bool rename_conversation(qint64 conversation, const QString& title);
  bool delete_conversation(qint64 conversation);
  QString system_prompt(qint64 conversation) const;
  bool set_system_prompt(qint64 conversation, const QString& prompt);

  /// Small key/value table (draft text, last open conversation).
  bool put_value(const QString& key, const QString& value);
  QString value(const QString& key, const QString& fallback = {}) const;

 private:
  bool exec(const QString& sql);
  bool touch(qint64 conversation);
  QString connection_;
  QString error_;
};

}  // namespace moe::ui
