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
  bool pinned = false;
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
  bool rename_conversation(qint64 conversation, const QString& title);
  bool delete_conversation(qint64 conversation);
  QString system_prompt(qint64 conversation) const;
  bool set_system_prompt(qint64 conversation, const QString& prompt);

  // Conversation management (chat_store_manage.cpp). A delete is two steps so that it can be
  // undone: set_hidden() takes a conversation out of conversations() at once, purge_hidden()
  // deletes the hidden ones for good (the chat does it when its undo bar expires, and at start for
  // whatever a crash left hidden); set_hidden(.., false) is the undo.
  bool set_pinned(qint64 conversation, bool pinned);
  bool set_hidden(const QVector<qint64>& conversations, bool hidden);
  bool purge_hidden();
  // Answer versions: Regenerate retires the shown answer (kept, inactive) and the new one joins
  // its group (version_of = the group's first answer); messages() returns the active version.
  /// Retires answer `message`; returns its version group (0 on failure).
  qint64 retire_answer(qint64 message);
  bool add_to_versions(qint64 message, qint64 group);
  /// The versions of `message`'s group, oldest first (just `message` when it has none).
  QVector<qint64> answer_versions(qint64 message) const;
  /// Makes `message` the active version of its group.
  bool show_version(qint64 message);
  /// Edit-and-resend: deletes message `message` and everything after it in its conversation.
  bool truncate_from(qint64 conversation, qint64 message);
  /// The newest conversation without messages, 0 when there is none (New reuses it).
  qint64 empty_conversation() const;
  /// True when the title or any message's text contains `needle` (case-insensitive). Reads the
  /// messages through messages(), so it sees the same text as the transcript.
  bool conversation_contains(const ConversationHeader& c, const QString& needle) const;

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
  /// Adds the columns later versions need to a database made by an earlier one (idempotent:
  /// PRAGMA table_info says what is there). False on a read-only file; conversations() then
  /// reads without them.
  bool upgrade_schema();
  bool add_column_if_missing(const QString& table, const QString& column, const QString& decl);
  qint64 version_group(qint64 message) const;
  bool managed_ = false;  ///< upgrade_schema() succeeded: the columns below exist
  QString connection_, path_;
  mutable QString error_;
  QString problem_;
  bool read_only_ = false;
};

}  // namespace moe::ui
