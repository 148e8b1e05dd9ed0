#pragma once
// Conversation history in SQLite (Qt SQL, WAL journal): conversations, their messages, the
// per-conversation system prompt and the unsent draft (autosaved so it survives a crash).
// One store per database connection; the connection name is unique per instance, so a test
// can close a store and open a fresh one on the same file.
//
// Faults are never silent: open() runs PRAGMA quick_check and a write probe, and problem()
// says when the file is damaged or read-only (what is readable stays available, e.g. for
// export_readable_history()); every query's error is checked, a read that stops part-way
// reports it (`complete`), and a failed write returns false with last_error() set. Every
// logical change (a message with its conversation's timestamp, an answer's checkpoint) is one
// transaction.
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

  /// Opens (creating) the database; false with last_error() set when it cannot be opened at
  /// all. A damaged or read-only file opens (its readable part is useful) with problem() set.
  bool open(const QString& path);
  bool is_open() const { return !connection_.isEmpty(); }
  QString last_error() const { return error_; }
  /// Empty for a healthy database; otherwise what is wrong with it, for the user.
  QString problem() const { return problem_; }
  bool read_only() const { return read_only_; }
  const QString& path() const { return path_; }

  qint64 create_conversation(const QString& title, const QString& system_prompt);
  /// Most recently updated first. `complete` (optional) is false when the read failed part-way
  /// (last_error() says why); what was read is returned.
  QVector<ConversationHeader> conversations(bool* complete = nullptr) const;
  QVector<StoredMessage> messages(qint64 conversation, bool* complete = nullptr) const;
  /// As much of a conversation as can be read from a damaged file: when the ordered read fails
  /// part-way, the message ids are taken from the index and each row is read on its own.
  /// `unreadable` receives the number of rows that could not be read.
  QVector<StoredMessage> readable_messages(qint64 conversation, int* unreadable) const;
  /// Inserts a message and updates the conversation's time (one transaction); its id, 0 on
  /// failure.
  qint64 add_message(qint64 conversation, const StoredMessage& m);

  /// An answer being streamed: begin_answer() inserts the assistant row at once (stop_reason
  /// "interrupted" until finish_answer(), so a process killed mid-answer leaves an honest
  /// record), update_answer() saves the text so far, finish_answer() the final text and stats.
  qint64 begin_answer(qint64 conversation);
  bool update_answer(qint64 message, const QString& content);
  bool finish_answer(qint64 message, const StoredMessage& m);
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
  /// Runs `body` in one transaction; rolled back when it returns false or the commit fails.
  template <class Body>
  bool transaction(Body&& body);
  void check_health();
  QString connection_, path_;
  mutable QString error_;
  QString problem_;
  bool read_only_ = false;
};

}  // namespace moe::ui
