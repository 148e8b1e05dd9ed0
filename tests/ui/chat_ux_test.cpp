// The clinician chat as its users drive it (issue 17): focus after New, conversation management
// (delete with confirmation and undo, rename, pin, search, delete all, old databases), Markdown
// answers in bubbles with per-message copy, confirmed Copy / Export with the model and settings,
// the model and answer settings in the chat, and the keyboard. Real window under Xvfb, real
// engine and demo model, real SQLite; one process per test function (one ctest each).
#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QDate>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTabBar>
#include <QTabWidget>
#include <QTest>
#include <QTextBlock>
#include <QTextList>
#include <QTimer>
#include <QToolButton>

#include "scroll_into_view.h"
#include "studio_fixture.h"
#include "ui/chat_settings_row.h"
#include "ui/chat_store.h"
#include "ui/chat_window.h"
#include "ui/control_panel.h"
#include "ui/conversation_panel.h"
#include "ui/dashboard_widget.h"
#include "ui/engine_controller.h"
#include "ui/transcript_view.h"

using namespace moe::ui;
using moe::ui::test::Studio;

namespace {

/// Answers the next modal dialogs from a timer as a user would: clicks the QMessageBox button
/// labelled `button`, or types `file` into a QFileDialog's name box and presses Enter.
class DialogDriver : public QObject {
 public:
  explicit DialogDriver(QString button = {}, QString file = {})
      : button_(std::move(button)), file_(std::move(file)) {
    connect(&timer_, &QTimer::timeout, this, [this] {
      QWidget* modal = QApplication::activeModalWidget();
      if (auto* box = qobject_cast<QMessageBox*>(modal)) {
        text = box->text();
        for (QAbstractButton* b : box->buttons()) {
          if (b->text().remove('&') == button_) {
            ++answered;
            QTest::mouseClick(b, Qt::LeftButton);
            return;
          }
        }
      } else if (auto* dialog = qobject_cast<QFileDialog*>(modal)) {
        auto* name = dialog->findChild<QLineEdit*>("fileNameEdit");
        if (name == nullptr || !name->isVisible()) return;
        if (answered == 0) {
          suggested = name->text();
          ++answered;
          name->selectAll();
          QTest::keyClicks(name, file_);
        }
        // Again on a later tick when the path completer took the first Return.
        QTest::keyClick(name, Qt::Key_Return);
      }
    });
    timer_.start(50);
  }
  QString text, suggested;
  int answered = 0;

 private:
  QString button_, file_;
  QTimer timer_;
};

/// Clicks `button` (an instant-popup menu button) and then the menu entry `entry`.
void choose_from_menu(QToolButton* button, const QString& entry) {
  bool chosen = false;
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, [&] {
    auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
    if (menu == nullptr || chosen) return;
    for (QAction* a : menu->actions()) {
      if (a->text() == entry) {
        chosen = true;
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(a).center());
        return;
      }
    }
  });
  poll.start(50);
  QTest::mouseClick(button, Qt::LeftButton);  // returns when the menu has closed
  QTRY_VERIFY(chosen);
}

int row_of(QListWidget* list, qint64 conversation) {
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->data(Qt::UserRole).toLongLong() == conversation) return i;
  return -1;
}

/// Clicks a row and lets the chat open it (the list opens rows on the next event-loop turn).
void click_row(QListWidget* list, int row) {
  const QRect r = list->visualItemRect(list->item(row));
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, r.center());
  QTest::qWait(20);
}

/// Shows the main window's tab `index` by clicking its tab, as a user switches tabs.
void click_tab(Studio& s, int index) {
  QTabBar* bar = s.window().tabs()->tabBar();
  QTest::mouseClick(bar, Qt::LeftButton, {}, bar->tabRect(index).center());
  QTRY_COMPARE(s.window().tabs()->currentIndex(), index);
}

/// Right-clicks a row (the context menu event the window system sends for it) and clicks the
/// menu entry `entry` with the mouse.
void context_menu_entry(ConversationPanel* panel, int row, const QString& entry) {
  QListWidget* list = panel->list();
  const QPoint at = list->visualItemRect(list->item(row)).center();
  QTest::mouseClick(list->viewport(), Qt::RightButton, {}, at);
  QContextMenuEvent e(QContextMenuEvent::Mouse, at, list->viewport()->mapToGlobal(at));
  QApplication::sendEvent(list->viewport(), &e);
  auto* menu = panel->findChild<QMenu*>("conversationMenu");
  QVERIFY(menu != nullptr);
  QTRY_VERIFY(menu->isVisible());
  for (QAction* a : menu->actions()) {
    if (a->text().remove('&') == entry) {
      QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(a).center());
      return;
    }
  }
  QFAIL(qPrintable("no menu entry " + entry));
}

QVector<StoredMessage> stored(const Studio& s, qint64 conversation) {
  ChatStore store;
  if (!store.open(s.paths().database_path())) return {};
  return store.messages(conversation);
}

int messages_in_file(const QString& db_path, qint64 conversation) {
  int n = -1;
  {
    QSqlDatabase d = QSqlDatabase::addDatabase("QSQLITE", "count");
    d.setDatabaseName(db_path);
    if (d.open()) {
      QSqlQuery q(d);
      q.prepare("SELECT count(*) FROM messages WHERE conversation_id = ?");
      q.addBindValue(conversation);
      if (q.exec() && q.next()) n = q.value(0).toInt();
    }
  }
  QSqlDatabase::removeDatabase("count");
  return n;
}

}  // namespace

class ChatUxTest : public QObject {
  Q_OBJECT
 private slots:
  void newConversationFocusesQuestion();
  void deleteConfirmsAndUndoRestores();
  void renamePinSearch();
  void oldDatabaseIsUpgraded();
  void markdownBubblesAndCopy();
  void exportNamesModelAndSettings();
  void settingsAndModelInChat();
  void keyboardTabOrderAndFocus();
  void contextLimitsAreShown();
  void regenerateKeepsVersionsAndEditResends();
};

// Clicking New used to leave the focus on the button: every space pressed it again.
void ChatUxTest::newConversationFocusesQuestion() {
  Studio s;
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  QListWidget* list = chat->conversation_list();
  s.ask("Causes of syncope?", 4);
  const qint64 first = chat->current_conversation();
  QCOMPARE(list->count(), 1);
  auto* new_button = chat->findChild<QPushButton*>("newConversation");
  QTest::mouseClick(new_button, Qt::LeftButton);
  const qint64 fresh = chat->current_conversation();
  QVERIFY(fresh != first);
  QCOMPARE(list->count(), 2);
  // The window's focus widget (QApplication's is null while Xvfb has no active window).
  QCOMPARE(s.window().focusWidget(), chat->input());
  QTest::keyClicks(s.window().focusWidget(), "dose of amoxicillin in a child");
  QCOMPARE(list->count(), 2);  // no conversation per space
  QCOMPARE(chat->current_conversation(), fresh);
  QCOMPARE(chat->input()->toPlainText(), QString("dose of amoxicillin in a child"));
  // New on an empty conversation selects it instead of making another; Ctrl+N too.
  QTest::mouseClick(new_button, Qt::LeftButton);
  QTest::keyClick(chat->input(), Qt::Key_N, Qt::ControlModifier);
  QCOMPARE(list->count(), 2);
  QCOMPARE(chat->current_conversation(), fresh);
  // From a full conversation, New goes back to the empty one rather than adding a third.
  click_row(list, row_of(list, first));
  QCOMPARE(chat->current_conversation(), first);
  QTest::mouseClick(new_button, Qt::LeftButton);
  QCOMPARE(chat->current_conversation(), fresh);
  QCOMPARE(list->count(), 2);
}

void ChatUxTest::deleteConfirmsAndUndoRestores() {
  Studio s;
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  ConversationPanel* panel = chat->conversations();
  QListWidget* list = chat->conversation_list();
  s.ask("Red flags for back pain?", 6);
  const qint64 keep = chat->current_conversation();
  QTest::keyClick(chat->input(), Qt::Key_N, Qt::ControlModifier);
  s.ask("Management of hyperkalaemia?", 6);
  const qint64 doomed = chat->current_conversation();
  const QVector<StoredMessage> before = stored(s, doomed);
  QCOMPARE(before.size(), 2);
  QCOMPARE(list->count(), 2);

  // Delete key on the row, then Cancel: nothing happens.
  click_row(list, row_of(list, doomed));
  {
    DialogDriver cancel("Cancel");
    QTest::keyClick(list, Qt::Key_Delete);
    QCOMPARE(cancel.answered, 1);
    QVERIFY(cancel.text.contains("Management of hyperkalaemia?"));
  }
  s.activate();
  QCOMPARE(list->count(), 2);
  // Delete key, confirmed: gone from the list and from the chat, an Undo bar offers it back.
  {
    DialogDriver confirm("Delete");
    QTest::keyClick(list, Qt::Key_Delete);
    QCOMPARE(confirm.answered, 1);
  }
  s.activate();
  QCOMPARE(list->count(), 1);
  QCOMPARE(row_of(list, doomed), -1);
  QCOMPARE(chat->current_conversation(), keep);
  QVERIFY(panel->undo_bar()->isVisible());
  QTest::mouseClick(panel->undo_button(), Qt::LeftButton);
  QVERIFY(!panel->undo_bar()->isVisible());
  QCOMPARE(list->count(), 2);
  QCOMPARE(chat->current_conversation(), doomed);
  const QVector<StoredMessage> after = stored(s, doomed);
  QCOMPARE(after.size(), before.size());
  for (int i = 0; i < after.size(); ++i) {
    QCOMPARE(after[i].id, before[i].id);
    QCOMPARE(after[i].content, before[i].content);
  }
  QVERIFY(chat->transcript()->toPlainText().contains("Management of hyperkalaemia?"));

  // Context menu ▸ Delete…, confirmed, not undone: purged for good when the window closes.
  {
    DialogDriver confirm("Delete");
    context_menu_entry(panel, row_of(list, doomed), "Delete…");
    QCOMPARE(confirm.answered, 1);
  }
  s.activate();
  QCOMPARE(list->count(), 1);
  // Delete all history: confirmed, every conversation gone, a fresh empty one open; Undo.
  {
    DialogDriver confirm("Delete");
    context_menu_entry(panel, 0, "Delete all history…");
    QCOMPARE(confirm.answered, 1);
    QVERIFY(confirm.text.contains("all 1 conversations"));
  }
  s.activate();
  QCOMPARE(list->count(), 1);
  QVERIFY(chat->current_conversation() != keep);
  QVERIFY(chat->transcript()->toPlainText().trimmed().isEmpty());
  QTest::mouseClick(panel->undo_button(), Qt::LeftButton);
  QCOMPARE(list->count(), 2);
  QVERIFY(row_of(list, keep) >= 0);
  const QString db = s.paths().database_path();
  s.close_window();
  QCOMPARE(messages_in_file(db, doomed), 0);
  QCOMPARE(messages_in_file(db, keep), 2);
}

void ChatUxTest::renamePinSearch() {
  QTemporaryDir dir;
  QFile::copy(test::shared_demo_model(), StudioPaths::resolve(dir.path()).demo_model_path());
  qint64 syncope = 0, back = 0;
  {
    Studio s(dir.path());
    QVERIFY(s.load_demo());
    ChatWindow* chat = s.window().chat();
    ConversationPanel* panel = chat->conversations();
    QListWidget* list = chat->conversation_list();
    s.ask("Causes of syncope?", 4);
    syncope = chat->current_conversation();
    QTest::keyClick(chat->input(), Qt::Key_N, Qt::ControlModifier);
    s.ask("Red flags for back pain?", 4);
    s.ask("Dose of amoxicillin?", 4);  // in the text, not in the title
    back = chat->current_conversation();
    QCOMPARE(row_of(list, back), 0);  // most recent first

    // Rename inline: F2 on the row, type, Enter.
    click_row(list, row_of(list, syncope));
    QTest::keyClick(list, Qt::Key_F2);
    auto* editor = qobject_cast<QLineEdit*>(s.window().focusWidget());
    QVERIFY(editor != nullptr);
    editor->selectAll();
    QTest::keyClicks(editor, "Syncope work-up");
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(list->item(row_of(list, syncope))->text(), QString("Syncope work-up"));

    // Pin from the context menu: on top although older.
    context_menu_entry(panel, row_of(list, syncope), "Pin to top");
    QCOMPARE(row_of(list, syncope), 0);

    // Search: titles and message text.
    QLineEdit* search = panel->search_box();
    QTest::mouseClick(search, Qt::LeftButton);
    QTest::keyClicks(search, "amoxi");
    QTRY_COMPARE(list->count(), 1);
    QCOMPARE(row_of(list, back), 0);
    search->selectAll();
    QTest::keyClicks(search, "WORK-UP");
    QTRY_COMPARE(row_of(list, syncope), 0);
    QCOMPARE(list->count(), 1);
    search->selectAll();
    QTest::keyClicks(search, "nothing like this");
    QTRY_COMPARE(list->count(), 0);
    search->selectAll();
    QTest::keyClick(search, Qt::Key_Backspace);
    QTRY_COMPARE(list->count(), 2);
  }
  // Pin and title persist.
  Studio again(dir.path());
  QListWidget* list = again.window().chat()->conversation_list();
  QCOMPARE(row_of(list, syncope), 0);
  QCOMPARE(list->item(0)->text(), QString("Syncope work-up"));
  QVERIFY(list->item(0)->toolTip().startsWith("Pinned"));
  // Unpin: back below the more recent one.
  context_menu_entry(again.window().chat()->conversations(), 0, "Unpin");
  QCOMPARE(row_of(list, back), 0);
}

// A history written before conversation management (no pinned / hidden_ms columns) opens with
// every conversation and message, gains the columns, and works (pin) — twice, idempotently.
void ChatUxTest::oldDatabaseIsUpgraded() {
  QTemporaryDir dir;
  const StudioPaths paths = StudioPaths::resolve(dir.path());
  QVERIFY(QDir().mkpath(QFileInfo(paths.database_path()).path()));
  {
    QSqlDatabase d = QSqlDatabase::addDatabase("QSQLITE", "old");
    d.setDatabaseName(paths.database_path());
    QVERIFY(d.open());
    QSqlQuery q(d);
    // The schema as ChatStore created it before this change.
    for (const char* sql :
         {"CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "
          "system_prompt TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, updated_ms "
          "INTEGER NOT NULL)",
          "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL "
          "REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT "
          "NULL, tokens_per_s REAL NOT NULL DEFAULT 0, computed_on TEXT NOT NULL DEFAULT '', "
          "stop_reason TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL)",
          "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)",
          "INSERT INTO conversations VALUES (1, 'Old sepsis question', 'prompt', 1, 1)",
          "INSERT INTO conversations VALUES (2, 'Old asthma question', 'prompt', 2, 2)",
          "INSERT INTO messages VALUES (1, 1, 'user', 'Sepsis bundle?', 0, '', '', 1)",
          "INSERT INTO messages VALUES (2, 1, 'assistant', 'Give fluids.', 9.5, 'local CPU', "
          "'eos', 1)",
          "INSERT INTO messages VALUES (3, 2, 'user', 'Asthma step-up?', 0, '', '', 2)"})
      QVERIFY2(q.exec(sql), sql);
  }
  QSqlDatabase::removeDatabase("old");
  for (int round = 0; round < 2; ++round) {
    Studio s(dir.path());
    ChatWindow* chat = s.window().chat();
    QListWidget* list = chat->conversation_list();
    QVERIFY(!chat->history_notice()->isVisible());
    QCOMPARE(list->count(), 2);
    QCOMPARE(list->item(0)->text(),
             QString(round == 0 ? "Old asthma question" : "Old sepsis question"));
    if (round == 0) context_menu_entry(chat->conversations(), 1, "Pin to top");
    QCOMPARE(list->item(0)->text(), QString("Old sepsis question"));
    click_row(list, 0);
    QVERIFY(chat->transcript()->toPlainText().contains("Give fluids."));
    const auto msgs = stored(s, 1);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[1].content, QString("Give fluids."));
    QCOMPARE(msgs[1].computed_on, QString("local CPU"));
  }
}

// Answers render as Markdown in framed bubbles, while streaming too; each message has a Copy
// link; Copy says what it copied.
void ChatUxTest::markdownBubblesAndCopy() {
  QTemporaryDir dir;
  const StudioPaths paths = StudioPaths::resolve(dir.path());
  QVERIFY(QDir().mkpath(QFileInfo(paths.database_path()).path()));
  QFile::copy(test::shared_demo_model(), paths.demo_model_path());  // not generated again
  const QString answer =
      "# Hyperkalaemia\n\n- **Calcium gluconate** first\n- then insulin\n\n"
      "```\n10 units insulin + 25 g glucose\n```\n";
  {
    ChatStore store;
    QVERIFY(store.open(paths.database_path()));
    const qint64 c = store.create_conversation("K 6.8", "prompt");
    StoredMessage q{0, "user", "Potassium 6.8, what first?", 0, {}, {}};
    StoredMessage a{0, "assistant", answer, 12.0, "local CPU", "eos"};
    QVERIFY(store.add_message(c, q) && store.add_message(c, a));
  }
  Studio s(dir.path());
  ChatWindow* chat = s.window().chat();
  TranscriptView* view = chat->transcript();
  const QString shown = view->toPlainText();
  QVERIFY2(!shown.contains("**") && !shown.contains("```") && !shown.contains("# "),
           qPrintable(shown));
  bool heading = false, list_item = false, bold = false, code = false;
  for (QTextBlock b = view->document()->begin(); b.isValid(); b = b.next()) {
    heading |= b.blockFormat().headingLevel() == 1 && b.text() == "Hyperkalaemia";
    list_item |= b.textList() != nullptr && b.text().contains("then insulin");
    code |= b.text().contains("10 units insulin") &&
            (b.charFormat().fontFixedPitch() || b.blockFormat().nonBreakableLines());
    for (auto it = b.begin(); !it.atEnd(); ++it)
      bold |= it.fragment().text() == "Calcium gluconate" &&
              it.fragment().charFormat().fontWeight() >= QFont::Bold;
  }
  QVERIFY(heading);
  QVERIFY(list_item);
  QVERIFY(bold);
  QVERIFY(code);
  // Turns told apart: the question's blocks and the answer's have different backgrounds and
  // indents, and there is no unstyled block inside a message.
  QBrush question, heading_bg;
  for (QTextBlock b = view->document()->begin(); b.isValid(); b = b.next()) {
    if (b.text() == "Potassium 6.8, what first?") question = b.blockFormat().background();
    if (b.text() == "Hyperkalaemia") heading_bg = b.blockFormat().background();
    QVERIFY2(b.blockFormat().background().style() != Qt::NoBrush, qPrintable(b.text()));
  }
  QVERIFY(question.style() != Qt::NoBrush && heading_bg.style() != Qt::NoBrush);
  QVERIFY(question.color() != heading_bg.color());
  test::save_screenshot(&s.window(), "chat_markdown.png");

  // Per-message copy: the answer's Copy link.
  QApplication::clipboard()->clear();
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("copy", 1).center());
  QCOMPARE(QApplication::clipboard()->text(), answer);
  QVERIFY(chat->toast()->isVisible());
  QVERIFY2(chat->toast()->text().contains("Copied the answer"), qPrintable(chat->toast()->text()));
  // Copy (the whole conversation) says so too.
  QTest::mouseClick(chat->copy_button(), Qt::LeftButton);
  QVERIFY(QApplication::clipboard()->text().contains("Potassium 6.8, what first?"));
  QVERIFY(chat->toast()->text().contains("Copied the conversation (2 messages)"));

  // Streaming Markdown: a live answer renders line by line as it grows (bold before it ends).
  QVERIFY(s.load_demo());
  QVERIFY(s.ask_and_wait_first_text("Anything else?", 64));
  view->append_answer_text("\n\n**Recheck** in 1 h\n");  // a finished line renders
  bool live_bold = false;
  const QTextBlock last = view->document()->lastBlock();
  for (QTextBlock b = last; b.isValid() && !live_bold; b = b.previous())
    for (auto it = b.begin(); !it.atEnd(); ++it)
      live_bold |= it.fragment().text() == "Recheck" &&
                   it.fragment().charFormat().fontWeight() >= QFont::Bold;
  QVERIFY(live_bold);
  QVERIFY(s.wait_answer_finished(nullptr));
  QCOMPARE(view->message_count(), 4);
}

void ChatUxTest::exportNamesModelAndSettings() {
  Studio s;
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  // The seed typed on the operator tab (the export must state it).
  click_tab(s, 1);
  QSpinBox* seed = s.window().dashboard()->controls()->seed();
  test::scroll_into_view(seed);
  QTest::mouseClick(seed, Qt::LeftButton);
  QTest::keyClick(seed, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(seed, "1234");
  QTest::keyClick(seed, Qt::Key_Tab);
  QCOMPARE(s.window().controller()->generation_settings().sampler.seed, uint64_t{1234});
  s.ask("Red flags for back pain?", 8);
  QTemporaryDir out;
  const QString path = out.path() + "/export.md";
  DialogDriver driver({}, path);
  QTest::mouseClick(chat->export_button(), Qt::LeftButton);
  QCOMPARE(driver.answered, 1);
  const QString model = s.window().controller()->model().name;
  QVERIFY2(driver.suggested.contains(QDate::currentDate().toString("yyyy-MM-dd")),
           qPrintable(driver.suggested));
  QCOMPARE(model, QString("moe-studio demo (random weights)"));
  QVERIFY2(driver.suggested.endsWith("-moe-studio-demo-random-weights.md"),
           qPrintable(driver.suggested));
  QFile f(path);
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QString md = QString::fromUtf8(f.readAll());
  for (const QString& want :
       {QString("Decision support only — not a diagnosis."), "**Model:** " + model,
        "**Quantization:** " + s.window().controller()->model().file_type, QString("temperature"),
        QString("top-k"), QString("top-p"), QString("max answer tokens 8"), QString("θ 0.00"),
        QString("experts per token"), QString("seed 1234"),
        QString("## Clinician\n\nRed flags for back pain?")})
    QVERIFY2(md.contains(want), qPrintable(want + "\n---\n" + md));
  s.activate();
  QVERIFY(chat->toast()->isVisible());
  QVERIFY2(chat->toast()->text().contains(QDir::toNativeSeparators(path)),
           qPrintable(chat->toast()->text()));
}

// With no model the chat says how to load one; the model and the answer settings are in the
// chat and stay in step with the operator tab.
void ChatUxTest::settingsAndModelInChat() {
  Studio s;
  ChatWindow* chat = s.window().chat();
  EngineController* c = s.window().controller();
  QVERIFY(chat->no_model_panel()->isVisible());
  QVERIFY(!chat->send_button()->isVisible());
  QSignalSpy loaded(c, &EngineController::model_loaded);
  QTest::mouseClick(chat->findChild<QPushButton*>("loadDemoModel"), Qt::LeftButton);
  QVERIFY(loaded.wait(120000));
  QVERIFY(!chat->no_model_panel()->isVisible());
  QVERIFY(chat->send_button()->isVisible());
  ChatSettingsRow* row = chat->settings_row();
  QVERIFY(row->model_picker()->text().startsWith(c->model().name));

  // Temperature typed in the chat reaches the engine settings and the operator tab, and back.
  ControlPanel* panel = s.window().dashboard()->controls();
  QDoubleSpinBox* t = row->temperature();
  t->setFocus();
  t->selectAll();
  QTest::keyClicks(t, "0.35");
  QTest::keyClick(t, Qt::Key_Return);
  QVERIFY(std::abs(c->generation_settings().sampler.temperature - 0.35f) < 1e-6f);
  QCOMPARE(panel->temperature()->value(), 0.35);
  panel->temperature()->setValue(0.9);
  QCOMPARE(t->value(), 0.9);
  // Max answer tokens: bounded by the context, in both places.
  const int n_ctx = c->model().n_ctx;
  QVERIFY(n_ctx > 0);
  QCOMPARE(row->max_tokens()->maximum(), n_ctx);
  QCOMPARE(panel->max_tokens()->maximum(), n_ctx);
  row->max_tokens()->setFocus();
  row->max_tokens()->selectAll();
  QTest::keyClicks(row->max_tokens(), QString::number(n_ctx * 10));
  QTest::keyClick(row->max_tokens(), Qt::Key_Return);
  QVERIFY(c->generation_settings().max_new_tokens <= n_ctx);
  QCOMPARE(panel->max_tokens()->value(), c->generation_settings().max_new_tokens);
  // A system-prompt preset replaces this conversation's prompt and is saved.
  QComboBox* preset = row->prompt_preset();
  preset->setFocus();
  QTest::keyClick(preset, Qt::Key_Down);
  QTest::keyClick(preset, Qt::Key_Down);  // the second preset: paediatrics
  auto* prompt = chat->findChild<QPlainTextEdit*>("systemPrompt");
  QVERIFY2(prompt->toPlainText().contains("paediatric"), qPrintable(prompt->toPlainText()));
  QTest::qWait(800);  // autosave
  ChatStore store;
  QVERIFY(store.open(s.paths().database_path()));
  QVERIFY(store.system_prompt(chat->current_conversation()).contains("paediatric"));

  // The picker offers recent models and loads the one chosen.
  const QString clinic = s.data_dir() + "/clinic-model.gguf";
  QVERIFY(QFile::copy(test::shared_demo_model(), clinic));
  QVERIFY(s.window().open_model(clinic));
  QVERIFY(loaded.wait(60000));
  QToolButton* picker = row->model_picker();
  QVERIFY(picker->text().startsWith(c->model().name));
  loaded.clear();
  choose_from_menu(picker, "Demo model");
  QVERIFY(loaded.wait(60000));
  QVERIFY(c->model().demo);
  s.activate();
  choose_from_menu(picker, "clinic-model.gguf");
  QVERIFY(loaded.wait(60000));
  QCOMPARE(c->model().path, clinic);
}

// Tab leaves the question box (Ctrl+Tab types a tab) and goes through Send, Regenerate, Copy,
// Export; arrows move through the conversations; the focused control is outlined.
void ChatUxTest::keyboardTabOrderAndFocus() {
  Studio s;
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  s.ask("Causes of syncope?", 4);
  const qint64 first = chat->current_conversation();
  QTest::keyClick(chat->input(), Qt::Key_N, Qt::ControlModifier);
  s.ask("Red flags for back pain?", 4);
  QPlainTextEdit* input = chat->input();
  input->setFocus();
  QTest::keyClicks(input, "a");
  QTest::keyClick(input, Qt::Key_Tab, Qt::ControlModifier);
  QCOMPARE(input->toPlainText(), QString("a\t"));
  QTest::keyClick(input, Qt::Key_Tab);
  QCOMPARE(input->toPlainText(), QString("a\t"));
  QCOMPARE(s.window().focusWidget(), chat->send_button());
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Tab);  // Stop is disabled: skipped
  QCOMPARE(s.window().focusWidget(), chat->regenerate_button());
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Tab);
  QCOMPARE(s.window().focusWidget(), chat->copy_button());
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Tab);
  QCOMPARE(s.window().focusWidget(), chat->export_button());
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Tab, Qt::ShiftModifier);
  QCOMPARE(s.window().focusWidget(), chat->copy_button());
  // Space on the focused Copy button copies.
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Space);
  QVERIFY(QApplication::clipboard()->text().contains("Red flags for back pain?"));
  // Visible focus: the focused button is drawn with the focus outline colour.
  auto outline_pixels = [](QWidget* w) {
    const QImage img = w->grab().toImage();
    int n = 0;
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) n += img.pixelColor(x, y) == QColor("#2f6fd0");
    return n;
  };
  const int focused = outline_pixels(chat->copy_button());
  chat->input()->setFocus();
  QVERIFY2(focused > 20 && outline_pixels(chat->copy_button()) == 0,
           qPrintable(QString("%1 outline pixels focused").arg(focused)));
  // The conversation list moves by row with the arrows and opens the row.
  QListWidget* list = chat->conversation_list();
  click_row(list, 0);
  QTest::keyClick(list, Qt::Key_Down);
  QTRY_COMPARE(chat->current_conversation(), first);
  QVERIFY(chat->transcript()->toPlainText().contains("Causes of syncope?"));
  QTest::keyClick(list, Qt::Key_Up);
  QTRY_VERIFY(chat->transcript()->toPlainText().contains("Red flags for back pain?"));
  // While an answer streams, Tab from the question reaches Stop (Send is disabled); Space stops.
  QVERIFY(s.ask_and_wait_first_text("Explain sepsis in detail.", 2000));
  input->setFocus();
  QTest::keyClick(input, Qt::Key_Tab);
  QCOMPARE(s.window().focusWidget(), chat->stop_button());
  QTest::keyClick(chat->stop_button(), Qt::Key_Space);
  AnswerStats st;
  QVERIFY(s.wait_answer_finished(&st));
  QCOMPARE(st.stop_reason, QString("stopped"));
}

// A conversation longer than the context: a banner names the messages the model no longer sees,
// and the meter shows the context used.
void ChatUxTest::contextLimitsAreShown() {
  QTemporaryDir dir;
  QFile::copy(test::shared_demo_model(), StudioPaths::resolve(dir.path()).demo_model_path());
  Studio s(dir.path());
  QVERIFY(s.load_demo());
  const int n_ctx = s.window().controller()->model().n_ctx;
  s.close_window();
  constexpr int kOld = 6;
  qint64 c = 0;
  {
    ChatStore store;
    QVERIFY(store.open(s.paths().database_path()));
    c = store.create_conversation("Long ward round", "prompt");
    for (int i = 0; i < kOld; ++i) {
      // Each message alone takes more than half the context.
      StoredMessage m{0,
                      i % 2 == 0 ? "user" : "assistant",
                      QString("note %1: ").arg(i) + QString("fever ").repeated(n_ctx / 2 + 8),
                      0,
                      {},
                      {}};
      QVERIFY(store.add_message(c, m) != 0);
    }
  }
  s.reopen_window();
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  click_row(chat->conversation_list(), row_of(chat->conversation_list(), c));
  QCOMPARE(chat->current_conversation(), c);
  QVERIFY(!chat->context_banner()->isVisible());
  const AnswerStats st = s.ask("And now?", 8);
  QCOMPARE(st.dropped_messages, kOld);
  QVERIFY(chat->context_banner()->isVisible());
  const QString text = chat->context_banner()->text();
  QVERIFY2(text.contains(QString("Messages 1–%1 no longer fit").arg(kOld)) &&
               text.contains(QString("%1-token context").arg(n_ctx)),
           qPrintable(text));
  QProgressBar* meter = chat->context_meter();
  QCOMPARE(meter->maximum(), n_ctx);
  QCOMPARE(meter->value(), st.prompt_tokens + st.generated_tokens);
  QVERIFY(meter->text().contains(QString("/ %1 tokens").arg(n_ctx)));
  test::save_screenshot(&s.window(), "chat_context_banner.png");
  // A conversation that fits: no banner.
  QTest::keyClick(chat->input(), Qt::Key_N, Qt::ControlModifier);
  QVERIFY(!chat->context_banner()->isVisible());
  s.ask("Short question?", 4);
  QVERIFY(!chat->context_banner()->isVisible());
  QVERIFY(chat->context_meter()->value() > 0);
}

// Regenerate samples with a fresh seed (a different answer) unless the seed is pinned, and keeps
// the earlier answer as a version to page back to; a question can be edited and sent again.
void ChatUxTest::regenerateKeepsVersionsAndEditResends() {
  QTemporaryDir dir;
  QFile::copy(test::shared_demo_model(), StudioPaths::resolve(dir.path()).demo_model_path());
  qint64 conversation = 0;
  QString first;
  {
    Studio s(dir.path());
    QVERIFY(s.load_demo());
    ChatWindow* chat = s.window().chat();
    ControlPanel* controls = s.window().dashboard()->controls();
    controls->temperature()->setValue(1.0);
    controls->sampler_top_k()->setValue(0);
    controls->top_p()->setValue(1.0);
    s.ask("Causes of syncope?", 24);
    conversation = chat->current_conversation();
    first = chat->streaming_text();
    QTest::mouseClick(chat->regenerate_button(), Qt::LeftButton);
    QVERIFY(s.wait_answer_finished(nullptr));
    const QString second = chat->streaming_text();
    QVERIFY2(second != first, qPrintable(first));  // same settings, a fresh seed
    auto msgs = stored(s, conversation);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[1].content, second);
    TranscriptView* view = chat->transcript();
    QVERIFY(view->toPlainText().contains("2/2"));
    // Page back to the first answer: shown, and the active version in the history.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("older", 1).center());
    QVERIFY(view->toPlainText().contains("1/2"));
    QCOMPARE(stored(s, conversation)[1].content, first);
    // Pinned seed (the operator tab's check box, clicked): Regenerate is reproducible.
    click_tab(s, 1);
    QCheckBox* pin = controls->pin_seed();
    test::scroll_into_view(pin);
    QTest::mouseClick(pin, Qt::LeftButton, {}, QPoint(8, pin->height() / 2));
    QVERIFY(s.window().controller()->generation_settings().pin_seed);
    click_tab(s, 0);
    QTest::mouseClick(chat->regenerate_button(), Qt::LeftButton);
    QVERIFY(s.wait_answer_finished(nullptr));
    const QString pinned = chat->streaming_text();
    QTest::mouseClick(chat->regenerate_button(), Qt::LeftButton);
    QVERIFY(s.wait_answer_finished(nullptr));
    QCOMPARE(chat->streaming_text(), pinned);
    QVERIFY(view->toPlainText().contains("4/4"));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("older", 1).center());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("older", 1).center());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("older", 1).center());
    QVERIFY(view->toPlainText().contains("1/4"));
  }
  // The versions persist.
  Studio s(dir.path());
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  TranscriptView* view = chat->transcript();
  QCOMPARE(chat->current_conversation(), conversation);
  QVERIFY(view->toPlainText().contains("1/4"));
  QCOMPARE(stored(s, conversation)[1].content, first);
  // Edit-and-resend: the question goes back to the input; the bar says what Send replaces.
  s.ask("Which tests first?", 4);
  QCOMPARE(stored(s, conversation).size(), 4);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->link_rect("edit", 0).center());
  QVERIFY(chat->edit_bar()->isVisible());
  QVERIFY(chat->edit_bar()->findChild<QLabel*>()->text().contains("deletes the 3 messages"));
  QCOMPARE(chat->input()->toPlainText(), QString("Causes of syncope?"));
  QCOMPARE(s.window().focusWidget(), chat->input());
  chat->input()->selectAll();
  QTest::keyClicks(chat->input(), "Causes of vertigo?");
  QSignalSpy done(chat, &ChatWindow::answer_completed);
  QTest::keyClick(chat->input(), Qt::Key_Return, Qt::ControlModifier);
  QVERIFY(done.wait(60000));
  QVERIFY(!chat->edit_bar()->isVisible());
  const auto msgs = stored(s, conversation);
  QCOMPARE(msgs.size(), 2);
  QCOMPARE(msgs[0].content, QString("Causes of vertigo?"));
  QVERIFY(!view->toPlainText().contains("Which tests first?"));
}

QTEST_MAIN(ChatUxTest)
#include "chat_ux_test.moc"
