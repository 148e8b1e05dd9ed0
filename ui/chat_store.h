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
//
// Private history (chat_store_privacy.cpp): with encryption on, every patient-text value
// (titles, system prompts, message text, kv values such as the draft) is sealed at the boundary
// where it is written and opened where it is read (ui/history_crypto.h); kv keys starting with
// "privacy." (key derivation, key check, retention) stay in plain text.
#include <QDateTime>
#include <QString>
#include <QVariant>
#include <QVector>
#include <functional>
#include <memory>

namespace moe::ui {

class HistoryKey;
struct KeyDerivation;

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
  ChatStore();
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

  // --- Private history (chat_store_privacy.cpp) ---
  /// The history is encrypted (its kv table holds a key derivation).
  bool encrypted() const { return encrypted_; }
  /// Encrypted and not unlocked yet: its text cannot be read, and writing it fails.
  bool locked() const { return encrypted_ && !key_; }
  /// Derives the key from `passphrase` and checks it against the stored key check value before
  /// anything is decrypted. False (last_error() says why; nothing changed) when it is wrong.
  bool unlock(const QString& passphrase);
  /// Seals every stored text under a key derived from `passphrase`, in one transaction (a
  /// crash leaves the history wholly plaintext or wholly encrypted), then scrubs the file.
  bool enable_encryption(const QString& passphrase);
  /// Opens every sealed value back to plain text in one transaction (needs the unlocked key).
  bool disable_encryption();
  /// Re-seals everything under a new passphrase (new salt) after checking `current`.
  bool change_passphrase(const QString& current, const QString& next);
  /// The key is kept in the desktop keyring (history_keyring.h), not behind a passphrase.
  bool uses_keyring() const;
  /// As enable_encryption(), under a random key stored first in the desktop keyring.
  bool enable_keyring_encryption();
  /// Fetches the key from the desktop keyring and checks it before anything is decrypted.
  /// False (last_error() says why: no keyring, key missing, not this history's key) leaves the
  /// history locked, as a wrong passphrase does.
  bool unlock_from_keyring();
  /// Deletes conversations last updated before `cutoff` and scrubs the file; how many were
  /// deleted, -1 on failure.
  int delete_conversations_before(const QDateTime& cutoff);
  /// Keeps conversations for `days` (0: forever). Stored in the history itself.
  int retention_days() const;
  bool set_retention_days(int days);
  /// Applies retention_days() now: the number of conversations deleted, -1 on failure.
  int apply_retention();
  /// Deletes every conversation and the draft, then scrubs the file.
  bool delete_all_conversations();
  /// Makes deleted or re-encrypted text leave the files: checkpoints the WAL (truncating it),
  /// VACUUMs (secure_delete is on, so freed pages are zeroed too).
  bool scrub();
  /// Off the record: everything goes to an in-memory database until switched back (the disk
  /// history stays untouched); switching back discards it.
  bool set_off_the_record(bool on);
  bool off_the_record() const { return !disk_connection_.isEmpty(); }

 private:
  /// kv keys stored in plain text even when the history is encrypted (nothing patient-related).
  static constexpr const char* kPlainKeyPrefix = "privacy.";
  bool exec(const QString& sql);
  bool touch(qint64 conversation);
  /// Runs `body` in one transaction; rolled back when it returns false or the commit fails.
  template <class Body>
  bool transaction(Body&& body);
  bool run_transaction(const std::function<bool()>& body);
  void check_health();
  /// Adds the columns later versions need to a database made by an earlier one (idempotent:
  /// PRAGMA table_info says what is there). False on a read-only file; conversations() then
  /// reads without them.
  bool upgrade_schema();
  bool add_column_if_missing(const QString& table, const QString& column, const QString& decl);
  qint64 version_group(qint64 message) const;
  bool managed_ = false;  ///< upgrade_schema() succeeded: the columns below exist
  /// A text value as bound for its column: sealed when encryption is on.
  QVariant seal(const QString& text) const;
  /// A text column read back; a value that cannot be opened counts in `*unreadable` and reads
  /// as a marker saying so.
  QString unseal(const QVariant& value, int* unreadable) const;
  /// Reads every text value with `from` and writes it back with `to` (null: plain text).
  bool recode(const HistoryKey* from, const HistoryKey* to);
  bool write_key_derivation(const HistoryKey& key, const KeyDerivation& kd);
  bool load_key_derivation(KeyDerivation* kd) const;
  void load_privacy_state();
  QString connection_, path_;
  QString disk_connection_;  ///< the file's connection while off the record
  std::unique_ptr<HistoryKey> key_;
  bool encrypted_ = false;
  mutable int undecryptable_ = 0;  ///< values the last messages() could not open
  mutable QString error_;
  QString problem_;
  bool read_only_ = false;
};

}  // namespace moe::ui
