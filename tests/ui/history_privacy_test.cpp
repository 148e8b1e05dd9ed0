// Private history (issue 17, point 3): encryption at rest of the patient text, unlocking with a
// passphrase, migration both ways (also when killed midway), retention, delete all, and the
// "don't save this conversation" mode. Every check on secrecy reads the raw bytes of the
// database and its -wal / -shm / -journal files and searches them for a known phrase.
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUuid>
#include <functional>

#include "studio_fixture.h"
#include "ui/chat_store.h"
#include "ui/chat_window.h"
#include "ui/history_crypto.h"
#include "ui/history_keyring.h"
#include "ui/history_unlock_dialog.h"
#include "ui/privacy_dialog.h"
#include "ui/transcript_view.h"

using namespace moe::ui;

class HistoryPrivacyTest : public QObject {
  Q_OBJECT
 private slots:
  void sealedValuesOpenOnlyWithTheirKey();
  void encryptedFileHoldsNoPlaintext();
  void reopenNeedsTheRightPassphrase();
  void migrationBothWaysKeepsEveryMessage();
  void killedDuringMigrationLeavesOneWholeHistory();
  void damagedCiphertextRowIsShownUnreadable();
  void retentionDeletesOldConversationsAndTheirText();
  void offTheRecordNeverReachesTheFile();
  // In the real window, by keyboard and mouse.
  void unlockDialogRetriesThenOpensHistory();
  void lostPassphraseStartsNewHistoryKeepingTheOld();
  void quitFromUnlockDialogChangesNothing();
  void privacySettingsEncryptAndDecrypt();
  void retentionSettingDeletesOldConversations();
  void dontSaveConversationNeverReachesDisk();
  // Run by ctest inside tests/ui/with_secret_service.sh (a private GNOME Keyring):
  void keyringKeepsTheKeyWithoutPassphrase();
  void keyMissingFromKeyringOffersANewHistory();
  // Run with an unreachable session bus:
  void withoutKeyringThePassphraseIsAsked();
};

namespace {

const QString kPhrase = "Patient Zebulon Quartermain, 47, chest pain radiating left";
const QString kPass = "correct horse battery staple";

// Every byte SQLite keeps for `db` on disk.
QByteArray file_bytes(const QString& db) {
  QByteArray all;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    QFile f(db + suffix);
    if (f.open(QIODevice::ReadOnly)) all += f.readAll();
  }
  return all;
}

// True when `phrase` appears in the files in UTF-8 or UTF-16 (either byte order).
bool on_disk(const QString& db, const QString& phrase) {
  const QByteArray bytes = file_bytes(db);
  const QByteArray utf16(reinterpret_cast<const char*>(phrase.utf16()), phrase.size() * 2);
  QByteArray utf16be = utf16;
  for (int i = 0; i + 1 < utf16be.size(); i += 2) std::swap(utf16be[i], utf16be[i + 1]);
  return bytes.contains(phrase.toUtf8()) || bytes.contains(utf16) || bytes.contains(utf16be);
}

StoredMessage message(const QString& role, const QString& content) {
  StoredMessage m;
  m.role = role;
  m.content = content;
  return m;
}

// A conversation titled `title` with `n` messages "<tag> <i>: <kPhrase>".
qint64 add_conversation(ChatStore& store, const QString& title, const QString& tag, int n) {
  const qint64 c = store.create_conversation(title, "system prompt: " + tag + " " + kPhrase);
  for (int i = 0; i < n; ++i)
    if (store.add_message(c, message(i % 2 ? "assistant" : "user",
                                     QString("%1 %2: %3").arg(tag).arg(i).arg(kPhrase))) == 0)
      return 0;
  return c;
}

// Every conversation as text (title, prompt, messages) for comparing histories.
QString dump(const ChatStore& store) {
  QString out;
  for (const ConversationHeader& h : store.conversations()) {
    out += "# " + h.title + "\n" + store.system_prompt(h.id) + "\n";
    for (const StoredMessage& m : store.messages(h.id)) out += m.role + ": " + m.content + "\n";
  }
  return out;
}

// Runs `sql` on `db` through a connection of its own (as another program would).
bool raw_sql(const QString& db, const QString& sql, const QVariantList& binds = {}) {
  const QString name = QUuid::createUuid().toString();
  bool ok = false;
  {
    QSqlDatabase d = QSqlDatabase::addDatabase("QSQLITE", name);
    d.setDatabaseName(db);
    if (d.open()) {
      QSqlQuery q(d);
      q.prepare(sql);
      for (const QVariant& b : binds) q.addBindValue(b);
      ok = q.exec();
    }
    d.close();
  }
  QSqlDatabase::removeDatabase(name);
  return ok;
}

// Answers the unlock dialog that the main window shows while it is being built: each time it
// appears, `step` runs on it (typing, clicking) from a timer, as the user would.
class UnlockDriver : public QObject {
 public:
  explicit UnlockDriver(std::function<void(HistoryUnlockDialog*)> step) : step_(std::move(step)) {
    connect(&timer_, &QTimer::timeout, this, [this] {
      auto* d = qobject_cast<HistoryUnlockDialog*>(QApplication::activeModalWidget());
      if (d == nullptr || busy_) return;
      busy_ = true;
      ++shown;
      step_(d);
      busy_ = false;
    });
    timer_.start(50);
  }
  int shown = 0;

 private:
  std::function<void(HistoryUnlockDialog*)> step_;
  QTimer timer_;
  bool busy_ = false;
};

// Types `passphrase` into the dialog's field and presses Enter (the Unlock button).
void type_passphrase(HistoryUnlockDialog* d, const QString& passphrase) {
  auto* field = d->findChild<QLineEdit*>("historyPassphrase");
  QTest::keyClicks(field, passphrase);
  QTest::keyClick(field, Qt::Key_Return);
}

// Settings ▸ Privacy… with the mouse.
PrivacyDialog* open_privacy_dialog(MainWindow& w) {
  QMenuBar* bar = w.menuBar();
  QAction* settings = nullptr;
  for (QAction* a : bar->actions())
    if (a->text() == "&Settings") settings = a;
  if (settings == nullptr) return nullptr;
  QTest::mouseClick(bar, Qt::LeftButton, {}, bar->actionGeometry(settings).center());
  QMenu* menu = settings->menu();
  if (!QTest::qWaitFor([&] { return menu->isVisible(); }, 3000)) return nullptr;
  QTest::mouseClick(menu, Qt::LeftButton, {},
                    menu->actionGeometry(menu->actions().front()).center());
  PrivacyDialog* d = nullptr;
  const bool shown =
      QTest::qWaitFor([&] { return (d = w.findChild<PrivacyDialog*>()) && d->isVisible(); }, 3000);
  return shown ? d : nullptr;
}

QStringList listed_titles(MainWindow& w) {
  QStringList out;
  for (int i = 0; i < w.chat()->conversation_list()->count(); ++i)
    out << w.chat()->conversation_list()->item(i)->text();
  return out;
}

// An encrypted history at `db` with one conversation titled "Title <kPhrase>".
QString make_encrypted_history(const QString& db) {
  ChatStore store;
  if (!store.open(db)) return {};
  add_conversation(store, "Title " + kPhrase, "m", 3);
  if (!store.enable_encryption(kPass)) return {};
  return dump(store);
}

QByteArray main_file(const QString& db) {
  QFile f(db);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

void HistoryPrivacyTest::sealedValuesOpenOnlyWithTheirKey() {
  QVERIFY(history_crypto_ready());
  const KeyDerivation kd = KeyDerivation::fresh();
  auto key = derive_history_key(kPass, kd);
  auto same = derive_history_key(kPass, kd);
  auto other = derive_history_key(kPass + "!", kd);
  QVERIFY(key && same && other);
  QVERIFY(key_matches(*same, key_check_value(*key)));
  QVERIFY(!key_matches(*other, key_check_value(*key)));
  // The same passphrase typed with a composed or a decomposed accent opens the same history.
  auto composed = derive_history_key(QString::fromUtf8("caf\u00e9 au lait"), kd);
  auto decomposed = derive_history_key(QString::fromUtf8("cafe\u0301 au lait"), kd);
  QVERIFY(composed && decomposed);
  QVERIFY(key_matches(*decomposed, key_check_value(*composed)));
  // A fresh salt gives another key for the same passphrase.
  auto salted = derive_history_key(kPass, KeyDerivation::fresh());
  QVERIFY(!key_matches(*salted, key_check_value(*key)));

  const QByteArray a = seal_text(*key, kPhrase), b = seal_text(*key, kPhrase);
  QVERIFY(a != b);  // a fresh nonce per write
  QCOMPARE(static_cast<unsigned char>(a[0]), kSealVersion);
  QVERIFY(!a.contains(kPhrase.toUtf8()));
  QCOMPARE(open_text(*same, a).value_or("<none>"), kPhrase);
  QVERIFY(!open_text(*other, a).has_value());
  for (int i : {0, 1, 30, static_cast<int>(a.size()) - 1}) {  // version, nonce, tag, text
    QByteArray bad = a;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    QVERIFY2(!open_text(*key, bad).has_value(), qPrintable(QString("byte %1").arg(i)));
  }
  QVERIFY(!open_text(*key, a.left(20)).has_value());
  QCOMPARE(open_text(*key, seal_text(*key, QString())).value_or("<none>"), QString());
  // Column values: plain text without a key; in an encrypted history plaintext is refused.
  QCOMPARE(open_value(nullptr, seal_value(nullptr, kPhrase)).value_or("<none>"), kPhrase);
  QVERIFY(!open_value(key.get(), QVariant(kPhrase)).has_value());
  QVERIFY(!open_value(nullptr, QVariant(a)).has_value());
}

void HistoryPrivacyTest::encryptedFileHoldsNoPlaintext() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  ChatStore store;
  QVERIFY(store.open(db));
  QVERIFY(add_conversation(store, "Title " + kPhrase, "before", 6) != 0);
  QVERIFY(store.put_value("draft", "draft " + kPhrase));
  QVERIFY(on_disk(db, kPhrase));  // the search finds plaintext when it is there
  QVERIFY2(store.enable_encryption(kPass), qPrintable(store.last_error()));
  QVERIFY(!on_disk(db, kPhrase));
  // New writes while encrypted: a conversation, a streamed answer, the draft.
  const qint64 c = add_conversation(store, "Second " + kPhrase, "after", 3);
  QVERIFY(c != 0);
  const qint64 answer = store.begin_answer(c);
  QVERIFY(store.update_answer(answer, "partial " + kPhrase));
  QVERIFY(store.finish_answer(answer, message("assistant", "final " + kPhrase)));
  QVERIFY(store.put_value("draft", "new draft " + kPhrase));
  QVERIFY(!on_disk(db, kPhrase));
  QVERIFY(!on_disk(db, "Zebulon"));
  QCOMPARE(store.value("draft"), "new draft " + kPhrase);
  QCOMPARE(store.conversations().size(), 2);
  QCOMPARE(store.messages(c).back().content, "final " + kPhrase);
}

void HistoryPrivacyTest::reopenNeedsTheRightPassphrase() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  QString before;
  {
    ChatStore store;
    QVERIFY(store.open(db));
    add_conversation(store, "Title " + kPhrase, "m", 4);
    QVERIFY(store.enable_encryption(kPass));
    before = dump(store);
  }
  const QByteArray bytes = file_bytes(db);
  {
    ChatStore store;
    QVERIFY(store.open(db));
    QVERIFY(store.encrypted());
    QVERIFY(store.locked());
    QVERIFY(!store.unlock("wrong passphrase"));
    QVERIFY2(store.last_error().contains("wrong"), qPrintable(store.last_error()));
    QVERIFY(store.locked());
    bool complete = true;
    store.conversations(&complete);
    QVERIFY(!complete);  // locked: nothing reads as text
    QCOMPARE(store.create_conversation("locked " + kPhrase, "p"), 0);  // nor is written
  }
  QCOMPARE(file_bytes(db), bytes);  // a wrong passphrase changes nothing on disk
  ChatStore store;
  QVERIFY(store.open(db));
  QVERIFY2(store.unlock(kPass), qPrintable(store.last_error()));
  QCOMPARE(dump(store), before);
  // Changing the passphrase: the old one no longer opens it, the new one does.
  QVERIFY(!store.change_passphrase("not it", "new passphrase"));
  QVERIFY2(store.change_passphrase(kPass, "new passphrase"), qPrintable(store.last_error()));
  ChatStore again;
  QVERIFY(again.open(db));
  QVERIFY(!again.unlock(kPass));
  QVERIFY(again.unlock("new passphrase"));
  QCOMPARE(dump(again), before);
}

void HistoryPrivacyTest::migrationBothWaysKeepsEveryMessage() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  ChatStore store;
  QVERIFY(store.open(db));
  for (int c = 0; c < 5; ++c)
    add_conversation(store, QString("c%1 %2").arg(c).arg(kPhrase), "m", 7);
  QVERIFY(store.put_value("draft", "draft " + kPhrase));
  const QString before = dump(store);
  QVERIFY(before.count(kPhrase) == 5 * (1 + 1 + 7));
  QVERIFY(store.enable_encryption(kPass));
  QVERIFY(!store.enable_encryption(kPass));  // once is enough: no double sealing
  QCOMPARE(dump(store), before);
  QVERIFY(!on_disk(db, kPhrase));
  QVERIFY2(store.disable_encryption(), qPrintable(store.last_error()));
  QVERIFY(!store.encrypted());
  QCOMPARE(dump(store), before);
  QCOMPARE(store.value("draft"), "draft " + kPhrase);
  QVERIFY(on_disk(db, kPhrase));  // really plain text again
  ChatStore reopened;
  QVERIFY(reopened.open(db));
  QVERIFY(!reopened.locked());
  QCOMPARE(dump(reopened), before);
}

void HistoryPrivacyTest::killedDuringMigrationLeavesOneWholeHistory() {
  // A large history (20,000 messages) so the migration takes a while; one helper run is timed,
  // then helpers are killed (SIGKILL) at fractions of that time. Whatever the moment, the
  // history is then wholly plaintext or wholly encrypted, and every message is there.
  QTemporaryDir dir;
  const QString seed = dir.filePath("seed.sqlite");
  QString before;
  {
    ChatStore store;
    QVERIFY(store.open(seed));
    for (int c = 0; c < 40; ++c) QVERIFY(add_conversation(store, QString("c%1").arg(c), "m", 1));
  }
  QVERIFY(raw_sql(seed,
                  "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) "
                  "INSERT INTO messages(conversation_id, role, content, created_ms) "
                  "SELECT 1 + i % 40, 'user', 'bulk ' || i || ': ' || ?, 0 FROM n",
                  {kPhrase}));
  {
    ChatStore store;
    QVERIFY(store.open(seed));
    before = dump(store);
  }
  QVERIFY(before.count(kPhrase) > 20000);
  const auto run_helper = [&](const QString& db, int kill_after_ms, bool* finished) {
    QVERIFY(QFile::copy(seed, db));
    QProcess helper;
    helper.start(MOE_CHAT_STORE_HELPER, {"encrypt", db, kPass});
    QVERIFY(helper.waitForStarted());
    QVERIFY(helper.waitForReadyRead(10000));
    QVERIFY(helper.readLine().startsWith("migrating"));
    if (kill_after_ms >= 0) {
      QTest::qWait(kill_after_ms);
      helper.kill();
    }
    QVERIFY(helper.waitForFinished(60000) || helper.state() == QProcess::NotRunning);
    *finished = helper.readAll().contains("encrypted 1");
  };
  QElapsedTimer timer;
  timer.start();
  bool finished = false;
  run_helper(dir.filePath("full.sqlite"), -1, &finished);
  const int full_ms = static_cast<int>(timer.elapsed());
  QVERIFY(finished);
  int midway = 0, sealed = 0;
  for (double fraction : {0.2, 0.4, 0.6, 0.8, 0.9, 0.97}) {
    const QString db = dir.filePath(QString("h%1.sqlite").arg(fraction));
    run_helper(db, static_cast<int>(fraction * full_ms), &finished);
    midway += finished ? 0 : 1;
    ChatStore store;
    QVERIFY(store.open(db));
    if (store.encrypted()) {
      ++sealed;
      QVERIFY2(store.unlock(kPass), qPrintable(store.last_error()));
    }
    QCOMPARE(dump(store), before);  // a mix would show "[unreadable" rows and differ
  }
  qInfo() << "migration of 20000 messages:" << full_ms << "ms; killed midway" << midway
          << "of 6; encrypted afterwards:" << sealed;
  QVERIFY(midway > 0);  // at least one kill landed before the migration ended
}

void HistoryPrivacyTest::damagedCiphertextRowIsShownUnreadable() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  qint64 c = 0;
  {
    ChatStore store;
    QVERIFY(store.open(db));
    c = add_conversation(store, "t", "m", 5);
    QVERIFY(store.enable_encryption(kPass));
  }
  // Flip one byte of the third message's ciphertext (its tag no longer matches).
  QVERIFY(raw_sql(db,
                  "UPDATE messages SET content = substr(content, 1, 40) || "
                  "x'00' || substr(content, 42) WHERE id = (SELECT id FROM messages ORDER BY id "
                  "LIMIT 1 OFFSET 2)"));
  ChatStore store;
  QVERIFY(store.open(db));
  QVERIFY(store.unlock(kPass));
  bool complete = true;
  const auto msgs = store.messages(c, &complete);
  QVERIFY(!complete);
  QVERIFY2(store.last_error().contains("decrypted"), qPrintable(store.last_error()));
  QCOMPARE(msgs.size(), 5);
  for (int i = 0; i < 5; ++i) {
    if (i == 2)
      QVERIFY(msgs[i].content.startsWith("[unreadable"));
    else
      QCOMPARE(msgs[i].content, QString("m %1: %2").arg(i).arg(kPhrase));
  }
  int unreadable = 0;
  QCOMPARE(store.readable_messages(c, &unreadable).size(), 5);
  QCOMPARE(unreadable, 1);
  // Turning encryption off would lose that row's ciphertext: refused, nothing changed.
  QVERIFY(!store.disable_encryption());
  QVERIFY(store.encrypted());
}

void HistoryPrivacyTest::retentionDeletesOldConversationsAndTheirText() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  const QString old_phrase = "Old patient Ignatius Fothergill";
  ChatStore store;
  QVERIFY(store.open(db));
  QCOMPARE(store.retention_days(), 0);  // never, by default
  const qint64 old_c = store.create_conversation("old " + old_phrase, "");
  QVERIFY(store.add_message(old_c, message("user", old_phrase + " asked")) != 0);
  const qint64 new_c = add_conversation(store, "recent", "m", 2);
  QVERIFY(raw_sql(db, "UPDATE conversations SET updated_ms = ? WHERE id = ?",
                  {QDateTime::currentDateTime().addDays(-40).toMSecsSinceEpoch(), old_c}));
  QVERIFY(on_disk(db, old_phrase));
  QCOMPARE(store.apply_retention(), 0);  // "never" keeps it
  QCOMPARE(store.conversations().size(), 2);
  QVERIFY(store.set_retention_days(30));
  QCOMPARE(store.retention_days(), 30);
  QCOMPARE(store.apply_retention(), 1);
  const auto left = store.conversations();
  QCOMPARE(left.size(), 1);
  QCOMPARE(left.front().id, new_c);
  QVERIFY(!on_disk(db, old_phrase));  // secure_delete + VACUUM + WAL truncated
  QVERIFY(on_disk(db, kPhrase));      // the recent one is still there, in plain text
  QVERIFY(store.delete_all_conversations());
  QVERIFY(store.conversations().isEmpty());
  QVERIFY(!on_disk(db, kPhrase));
  QCOMPARE(store.retention_days(), 30);  // a setting, not history
}

void HistoryPrivacyTest::offTheRecordNeverReachesTheFile() {
  QTemporaryDir dir;
  const QString db = dir.filePath("history.sqlite");
  ChatStore store;
  QVERIFY(store.open(db));
  const qint64 kept = add_conversation(store, "kept", "k", 2);
  QVERIFY(store.set_off_the_record(true));
  QVERIFY(store.conversations().isEmpty());
  const qint64 c = add_conversation(store, "Secret " + kPhrase, "secret", 4);
  QVERIFY(c != 0);
  QVERIFY(store.put_value("draft", "draft " + kPhrase));
  QCOMPARE(store.messages(c).size(), 4);
  QVERIFY(!on_disk(db, "secret 0"));
  QVERIFY(!on_disk(db, "Secret " + kPhrase));
  QVERIFY(store.set_off_the_record(false));
  const auto all = store.conversations();
  QCOMPARE(all.size(), 1);
  QCOMPARE(all.front().id, kept);
  QVERIFY(store.value("draft").isEmpty());
  QVERIFY(!on_disk(db, "secret 0"));
}

void HistoryPrivacyTest::unlockDialogRetriesThenOpensHistory() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  const QString before = make_encrypted_history(db);
  QVERIFY(!before.isEmpty());
  const QByteArray bytes = main_file(db);
  QString error_text;
  bool unchanged = false;
  UnlockDriver driver([&](HistoryUnlockDialog* d) {
    type_passphrase(d, "wrong passphrase");
    auto* error = d->findChild<QLabel*>("historyUnlockError");
    error_text = error->isVisible() ? error->text() : QString();
    unchanged = main_file(db) == bytes && QFileInfo(db + "-wal").size() == 0;
    moe::ui::test::save_screenshot(d, "history-unlock-wrong.png");
    type_passphrase(d, kPass);  // the field is selected after a failure: typing replaces it
  });
  moe::ui::test::Studio studio(dir.path());
  QCOMPARE(driver.shown, 1);
  QVERIFY2(error_text.contains("wrong") && error_text.contains("try again"),
           qPrintable(error_text));
  QVERIFY(unchanged);
  QVERIFY(!studio.window().quit_requested());
  QVERIFY(listed_titles(studio.window()).contains("Title " + kPhrase));
  QVERIFY(!on_disk(db, kPhrase));
}

void HistoryPrivacyTest::lostPassphraseStartsNewHistoryKeepingTheOld() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  const QString before = make_encrypted_history(db);
  const QByteArray bytes = main_file(db);
  UnlockDriver driver([&](HistoryUnlockDialog* d) {
    type_passphrase(d, "forgotten");
    QTest::mouseClick(d->findChild<QPushButton*>("newEmptyHistory"), Qt::LeftButton);
  });
  moe::ui::test::Studio studio(dir.path());
  QCOMPARE(driver.shown, 1);
  QVERIFY(!listed_titles(studio.window()).contains("Title " + kPhrase));
  QVERIFY(studio.window().statusBar()->currentMessage().contains("kept as"));
  const QStringList aside =
      QDir(dir.path()).entryList({"history.sqlite.unreadable-*"}, QDir::Files);
  QCOMPARE(aside.size(), 1);  // moved aside, not deleted
  const QString old = dir.filePath(aside.front());
  QCOMPARE(main_file(old), bytes);
  ChatStore kept;  // still whole: the right passphrase opens it
  QVERIFY(kept.open(old));
  QVERIFY(kept.unlock(kPass));
  QCOMPARE(dump(kept), before);
}

void HistoryPrivacyTest::quitFromUnlockDialogChangesNothing() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  make_encrypted_history(db);
  const QByteArray bytes = main_file(db);
  UnlockDriver driver([&](HistoryUnlockDialog* d) {
    QTest::mouseClick(d->findChild<QPushButton*>("quitApp"), Qt::LeftButton);
  });
  {
    moe::ui::test::Studio studio(dir.path());
    QVERIFY(studio.window().quit_requested());
  }
  QCOMPARE(main_file(db), bytes);
  QCOMPARE(QDir(dir.path()).entryList({"history.sqlite.*"}, QDir::Files).size(), 0);
}

namespace {
// The Privacy dialog's encryption controls.
struct EncryptionControls {
  QCheckBox* encrypt;
  QLineEdit *next, *repeat;
  QPushButton* apply;
  QLabel *note, *status;
};
EncryptionControls encryption_controls(PrivacyDialog* d) {
  return {
      d->findChild<QCheckBox*>("encryptHistory"),   d->findChild<QLineEdit*>("newPassphrase"),
      d->findChild<QLineEdit*>("repeatPassphrase"), d->findChild<QPushButton*>("applyEncryption"),
      d->findChild<QLabel*>("encryptionNote"),      d->findChild<QLabel*>("privacyStatus")};
}
void click_checkbox(QCheckBox* box) {
  QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2));
}
// A plain history at `db`: one conversation "Title <kPhrase>" of three messages. Returns its
// dump() ("" when the file cannot be opened).
QString seed_history(const QString& db) {
  ChatStore store;
  if (!store.open(db)) return {};
  add_conversation(store, "Title " + kPhrase, "m", 3);
  return dump(store);
}
QString keyring_id(const QString& db) {
  ChatStore store;
  return store.open(db) ? store.value("privacy.keyring_id") : QString();
}
}  // namespace

void HistoryPrivacyTest::privacySettingsEncryptAndDecrypt() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  const QString before = seed_history(db);
  QVERIFY(!before.isEmpty());
  {
    moe::ui::test::Studio studio(dir.path());
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    const EncryptionControls c = encryption_controls(d);
    QVERIFY(!c.encrypt->isChecked());
    click_checkbox(c.encrypt);
    QVERIFY(c.encrypt->isChecked());
    QTest::keyClicks(c.next, kPass);
    QTest::keyClicks(c.repeat, kPass + "x");
    QTest::mouseClick(c.apply, Qt::LeftButton);
    QVERIFY2(c.status->text().contains("differ"), qPrintable(c.status->text()));
    QVERIFY(on_disk(db, kPhrase));  // nothing changed
    c.repeat->clear();
    QTest::keyClicks(c.repeat, kPass);
    QTest::mouseClick(c.apply, Qt::LeftButton);
    QVERIFY2(c.status->text().contains("now encrypted"), qPrintable(c.status->text()));
    moe::ui::test::save_screenshot(d, "privacy-settings.png");
    QVERIFY(!on_disk(db, kPhrase));
    QVERIFY(listed_titles(studio.window()).contains("Title " + kPhrase));
    QTest::keyClick(d, Qt::Key_Escape);
  }
  {
    UnlockDriver driver([&](HistoryUnlockDialog* d) { type_passphrase(d, kPass); });
    moe::ui::test::Studio studio(dir.path());
    QCOMPARE(driver.shown, 1);
    QVERIFY(listed_titles(studio.window()).contains("Title " + kPhrase));
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    const EncryptionControls c = encryption_controls(d);
    QVERIFY(c.encrypt->isChecked());
    click_checkbox(c.encrypt);
    QTest::mouseClick(c.apply, Qt::LeftButton);
    QVERIFY2(c.status->text().contains("no longer encrypted"), qPrintable(c.status->text()));
    QVERIFY(on_disk(db, kPhrase));
  }
  ChatStore store;  // plain again, every message kept; no passphrase asked
  QVERIFY(store.open(db));
  QVERIFY(!store.encrypted());
  QCOMPARE(dump(store), before);
}

void HistoryPrivacyTest::retentionSettingDeletesOldConversations() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  const auto add_old = [&](const QString& phrase) {
    ChatStore store;
    QVERIFY(store.open(db));
    const qint64 c = store.create_conversation("old " + phrase, "");
    QVERIFY(store.add_message(c, message("user", phrase)) != 0);
    QVERIFY(raw_sql(db, "UPDATE conversations SET updated_ms = ? WHERE id = ?",
                    {QDateTime::currentDateTime().addDays(-40).toMSecsSinceEpoch(), c}));
  };
  add_old("Old patient Ignatius Fothergill");
  {
    ChatStore store;
    QVERIFY(store.open(db));
    add_conversation(store, "recent", "m", 2);  // must survive retention
  }
  {
    moe::ui::test::Studio studio(dir.path());
    QVERIFY(listed_titles(studio.window()).contains("old Old patient Ignatius Fothergill"));
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    auto* days = d->findChild<QSpinBox*>("retentionDays");
    QCOMPARE(days->text(), QString("never"));
    days->setFocus();
    QTest::keyClick(days, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(days, "30");
    QCOMPARE(days->value(), 30);
    QTest::mouseClick(d->findChild<QPushButton*>("applyRetention"), Qt::LeftButton);
    QVERIFY2(d->findChild<QLabel*>("privacyStatus")->text().contains("1 deleted now"),
             qPrintable(d->findChild<QLabel*>("privacyStatus")->text()));
    QVERIFY(!listed_titles(studio.window()).join("|").contains("Ignatius"));
    QVERIFY(!on_disk(db, "Ignatius Fothergill"));
  }
  add_old("Older patient Perpetua Huddleston");  // aged while the app was closed
  QVERIFY(on_disk(db, "Perpetua Huddleston"));
  moe::ui::test::Studio studio(dir.path());  // applied at start
  QVERIFY(!listed_titles(studio.window()).join("|").contains("Perpetua"));
  QVERIFY(!on_disk(db, "Perpetua Huddleston"));
  QVERIFY(listed_titles(studio.window()).contains("recent"));
  QVERIFY(on_disk(db, kPhrase));
  // Delete all history…, confirmed with Yes in the warning box.
  PrivacyDialog* d = open_privacy_dialog(studio.window());
  QVERIFY(d != nullptr);
  QString confirmation;
  QTimer::singleShot(300, [&] {
    if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
      confirmation = box->text();
      QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
    }
  });
  QTest::mouseClick(d->findChild<QPushButton*>("deleteAllHistory"), Qt::LeftButton);
  QVERIFY2(confirmation.contains("cannot be undone"), qPrintable(confirmation));
  QVERIFY(!listed_titles(studio.window()).contains("recent"));
  QVERIFY(!on_disk(db, kPhrase));
}

void HistoryPrivacyTest::dontSaveConversationNeverReachesDisk() {
  moe::ui::test::Studio studio;
  QVERIFY(studio.load_demo());
  const QString db = studio.paths().database_path();
  ChatWindow* chat = studio.window().chat();
  const QString question = "What is a fever? Patient Wilhelmina Oddbody";
  auto* dont_save = chat->dont_save_toggle();
  QVERIFY(dont_save->isEnabled());
  QVERIFY(!chat->off_record_banner()->isVisible());
  QTest::mouseClick(dont_save, Qt::LeftButton, {}, QPoint(8, dont_save->height() / 2));
  QVERIFY(dont_save->isChecked());
  QVERIFY(chat->off_record_banner()->isVisible());        // clearly indicated in the chat
  QVERIFY(studio.ask(question, 6).generated_tokens > 0);  // answered, not just shown
  QVERIFY(chat->transcript()->toPlainText().contains("Wilhelmina Oddbody"));
  QTest::keyClicks(chat->input(), "draft about Wilhelmina");
  QTest::qWait(700);  // past the draft autosave
  moe::ui::test::save_screenshot(&studio.window(), "chat-dont-save.png");
  QVERIFY(!on_disk(db, "Wilhelmina"));
  QTest::mouseClick(dont_save, Qt::LeftButton, {}, QPoint(8, dont_save->height() / 2));
  QVERIFY(!chat->off_record_banner()->isVisible());
  QVERIFY(!listed_titles(studio.window()).join("|").contains("Wilhelmina"));
  QVERIFY(!chat->input()->toPlainText().contains("Wilhelmina"));
  studio.close_window();
  QVERIFY(!on_disk(db, "Wilhelmina"));
  studio.reopen_window();
  QVERIFY(!listed_titles(studio.window()).join("|").contains("Wilhelmina"));
}

// A Secret Service answers: the Privacy dialog encrypts without asking for a passphrase, the key
// sits in the keyring (not in the file), the next start opens the history without a dialog, and
// turning encryption off deletes the key from the keyring.
void HistoryPrivacyTest::keyringKeepsTheKeyWithoutPassphrase() {
  QString why;
  QVERIFY2(keyring_reachable(&why), qPrintable(why));
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  const QString before = seed_history(db);
  QVERIFY(!before.isEmpty());
  {
    moe::ui::test::Studio studio(dir.path());
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    const EncryptionControls c = encryption_controls(d);
    QVERIFY2(c.encrypt->text().contains("keyring"), qPrintable(c.encrypt->text()));
    QVERIFY(!c.next->isVisible());  // nothing to type
    click_checkbox(c.encrypt);
    QTest::mouseClick(c.apply, Qt::LeftButton);
    QVERIFY2(c.status->text().contains("now encrypted"), qPrintable(c.status->text()));
    moe::ui::test::save_screenshot(d, "privacy-settings-keyring.png");
    QVERIFY(!on_disk(db, kPhrase));
    QTest::keyClick(d, Qt::Key_Escape);
  }
  const QString id = keyring_id(db);
  QVERIFY(!id.isEmpty());
  HistoryKey key;
  QString error;
  QCOMPARE(keyring_lookup(id, &key, &error), KeyringLookup::kFound);
  {
    ChatStore store;  // the file alone (no keyring) holds no passphrase path to the text
    QVERIFY(store.open(db));
    QVERIFY(store.locked() && store.uses_keyring());
    QVERIFY(!store.unlock(kPass));
    QVERIFY2(store.last_error().contains("keyring"), qPrintable(store.last_error()));
  }
  {
    UnlockDriver driver([](HistoryUnlockDialog*) {});
    moe::ui::test::Studio studio(dir.path());
    QCOMPARE(driver.shown, 0);
    QVERIFY(listed_titles(studio.window()).contains("Title " + kPhrase));
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    const EncryptionControls c = encryption_controls(d);
    QVERIFY(c.encrypt->isChecked());
    click_checkbox(c.encrypt);
    QTest::mouseClick(c.apply, Qt::LeftButton);
    QVERIFY2(c.status->text().contains("no longer encrypted"), qPrintable(c.status->text()));
    QTest::keyClick(d, Qt::Key_Escape);
  }
  QCOMPARE(keyring_lookup(id, &key, &error), KeyringLookup::kMissing);  // deleted with it
  ChatStore store;
  QVERIFY(store.open(db));
  QVERIFY(!store.encrypted());
  QCOMPARE(dump(store), before);
}

// The key in the keyring is replaced, then deleted, behind the app's back: each next start says
// the history is locked and why, asks for no passphrase; Quit changes nothing, and "Start a new
// empty history" keeps the old file whole beside the new one. No crash, nothing half-read.
void HistoryPrivacyTest::keyMissingFromKeyringOffersANewHistory() {
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  {
    ChatStore store;
    QVERIFY(store.open(db));
    add_conversation(store, "Title " + kPhrase, "m", 3);
    QVERIFY2(store.enable_keyring_encryption(), qPrintable(store.last_error()));
  }
  const QByteArray bytes = main_file(db);
  // First another key under the history's id (a keyring item overwritten): refused by the key
  // check, nothing decrypted, Quit leaves the file as it was.
  QString error;
  auto foreign = random_history_key();
  QVERIFY(keyring_store(keyring_id(db), "foreign", *foreign, &error));
  QString intro;
  {
    UnlockDriver quit([&](HistoryUnlockDialog* d) {
      intro = d->findChild<QLabel*>("historyUnlockIntro")->text();
      QTest::mouseClick(d->findChild<QPushButton*>("quitApp"), Qt::LeftButton);
    });
    moe::ui::test::Studio studio(dir.path());
    QCOMPARE(quit.shown, 1);
    QVERIFY(studio.window().quit_requested());
  }
  QVERIFY2(intro.contains("does not belong to this history"), qPrintable(intro));
  QCOMPARE(main_file(db), bytes);
  // Then no key at all.
  QVERIFY2(keyring_remove(keyring_id(db), &error), qPrintable(error));
  bool asked_passphrase = true;
  UnlockDriver driver([&](HistoryUnlockDialog* d) {
    intro = d->findChild<QLabel*>("historyUnlockIntro")->text();
    asked_passphrase = d->findChild<QLineEdit*>("historyPassphrase")->isVisible();
    moe::ui::test::save_screenshot(d, "history-key-missing.png");
    QTest::mouseClick(d->findChild<QPushButton*>("newEmptyHistory"), Qt::LeftButton);
  });
  moe::ui::test::Studio studio(dir.path());
  QCOMPARE(driver.shown, 1);
  QVERIFY2(intro.contains("not in the desktop keyring"), qPrintable(intro));
  QVERIFY(!asked_passphrase);
  QVERIFY(!listed_titles(studio.window()).contains("Title " + kPhrase));
  QVERIFY(studio.window().statusBar()->currentMessage().contains("kept as"));
  const QStringList aside =
      QDir(dir.path()).entryList({"history.sqlite.unreadable-*"}, QDir::Files);
  QCOMPARE(aside.size(), 1);
  QCOMPARE(main_file(dir.filePath(aside.front())), bytes);
}

// No Secret Service (ctest points the session bus at a socket that does not exist): the
// Privacy dialog offers the passphrase and says why; a history whose key lives in a keyring
// (as one copied from another machine) gets the locked dialog, and Quit changes nothing.
void HistoryPrivacyTest::withoutKeyringThePassphraseIsAsked() {
  QString why;
  QVERIFY(!keyring_reachable(&why));
  QTemporaryDir dir;
  const QString db = StudioPaths::resolve(dir.path()).database_path();
  {
    moe::ui::test::Studio studio(dir.path());
    PrivacyDialog* d = open_privacy_dialog(studio.window());
    QVERIFY(d != nullptr);
    const EncryptionControls c = encryption_controls(d);
    QVERIFY2(c.encrypt->text().contains("passphrase"), qPrintable(c.encrypt->text()));
    QVERIFY(c.next->isVisible());
    QVERIFY2(c.note->text().contains("No desktop keyring: " + why), qPrintable(c.note->text()));
    QTest::keyClick(d, Qt::Key_Escape);
  }
  {
    ChatStore store;  // what a keyring-encrypted history holds in plain text
    QVERIFY(store.open(db));
    QVERIFY(store.put_value("privacy.scheme", "secretbox-keyring-v1"));
    QVERIFY(store.put_value("privacy.keyring_id", QUuid::createUuid().toString()));
    QVERIFY(store.put_value("privacy.key_check", QByteArray(32, 'x').toBase64()));
  }
  const QByteArray bytes = main_file(db);
  QString intro;
  UnlockDriver driver([&](HistoryUnlockDialog* d) {
    intro = d->findChild<QLabel*>("historyUnlockIntro")->text();
    QTest::mouseClick(d->findChild<QPushButton*>("quitApp"), Qt::LeftButton);
  });
  {
    moe::ui::test::Studio studio(dir.path());
    QCOMPARE(driver.shown, 1);
    QVERIFY(studio.window().quit_requested());
  }
  QVERIFY2(intro.contains("cannot be reached") && intro.contains(why), qPrintable(intro));
  QCOMPARE(main_file(db), bytes);
}

QTEST_MAIN(HistoryPrivacyTest)
#include "history_privacy_test.moc"
