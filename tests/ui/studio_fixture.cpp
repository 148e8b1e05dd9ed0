#include "studio_fixture.h"

#include <QDir>
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTest>

#include "ui/chat_window.h"
#include "ui/control_panel.h"
#include "ui/dashboard_widget.h"
#include "ui/engine_controller.h"
#include "ui/transcript_view.h"

namespace moe::ui::test {

QString shared_demo_model() {
  return QStringLiteral(MOE_UI_TEST_DIR "/demo-model.gguf");
}

Studio::Studio(const QString& dir) {
  QString d = dir;
  if (d.isEmpty()) {
    temp_ = std::make_unique<QTemporaryDir>();
    d = temp_->path();
    // Reuse the demo model the first-start test generated (a copy: tests run in parallel).
    if (QFile::exists(shared_demo_model()))
      QFile::copy(shared_demo_model(), StudioPaths::resolve(d).demo_model_path());
  }
  paths_ = StudioPaths::resolve(d);
  reopen_window();
}

Studio::~Studio() {
  close_window();
}

void Studio::reopen_window() {
  window_ = std::make_unique<MainWindow>(paths_);
  window_->resize(1360, 860);
  window_->tabs()->setCurrentIndex(0);
  window_->show();
  (void)QTest::qWaitForWindowExposed(window_.get());
  activate();
}

void Studio::activate() {
  // Xvfb has no window manager: after a dialog closes nothing re-activates the main window,
  // and window shortcuts (Ctrl+N, Ctrl+Enter, Esc) only fire in the active window. Activation
  // is asynchronous: the X server answers the request with FocusIn some time later. Setting
  // QApplication's active window by hand (as this did) was undone by the X focus events that
  // came after it, and the next shortcut went nowhere. Wait for the window system's own word.
  window_->activateWindow();
  QVERIFY2(QTest::qWaitForWindowActive(window_.get()), "the main window never became active");
}

void Studio::close_window() {
  if (!window_) return;
  window_->close();
  window_.reset();
}

void Studio::use_bundled_demo(const QString& gguf) {
  close_window();
  paths_.bundled_demo_model = gguf;
  reopen_window();
}

bool Studio::load_demo() {
  QSignalSpy loaded(window_->controller(), &EngineController::model_loaded);
  window_->open_demo();
  return loaded.wait(120000) && window_->controller()->has_model();
}

bool Studio::wait_answer_finished(AnswerStats* stats, int timeout_ms) {
  ChatWindow* chat = window_->chat();
  QSignalSpy done(chat, &ChatWindow::answer_completed);
  if (!chat->stop_button()->isEnabled() && !window_->controller()->is_generating()) {
    if (stats) *stats = chat->last_stats();
    return true;
  }
  if (!done.wait(timeout_ms)) return false;
  if (stats) *stats = done.takeFirst().at(0).value<AnswerStats>();
  return true;
}

bool Studio::send(const QString& question, int max_tokens) {
  ChatWindow* chat = window_->chat();
  window_->dashboard()->controls()->max_tokens()->setValue(max_tokens);
  window_->tabs()->setCurrentIndex(0);
  activate();
  chat->input()->setFocus();
  QTest::keyClicks(chat->input(), question);
  QTest::keyClick(chat->input(), Qt::Key_Return, Qt::ControlModifier);  // the Send shortcut
  return window_->controller()->is_generating();
}

bool Studio::ask_and_wait_first_text(const QString& question, int max_tokens) {
  QSignalSpy text(window_->controller(), &EngineController::answer_text);
  return send(question, max_tokens) && text.wait(120000);
}

AnswerStats Studio::ask(const QString& question, int max_tokens) {
  QSignalSpy done(window_->chat(), &ChatWindow::answer_completed);
  AnswerStats stats;
  if (!send(question, max_tokens) && done.count() == 0) return stats;  // not sent
  if (done.count() > 0 || done.wait(120000)) stats = done.takeFirst().at(0).value<AnswerStats>();
  return stats;
}

QString save_screenshot(QWidget* widget, const QString& name) {
  const QString dir = QStringLiteral(MOE_BINARY_DIR "/screenshots");
  QDir().mkpath(dir);
  const QString path = dir + "/" + name;
  widget->grab().save(path, "PNG");
  if (qEnvironmentVariable("MOE_UPDATE_SCREENSHOTS") == "1") {
    const QString docs = QStringLiteral(MOE_SOURCE_DIR "/docs/screenshots");
    QDir().mkpath(docs);
    QFile::remove(docs + "/" + name);
    QFile::copy(path, docs + "/" + name);
  }
  return path;
}

}  // namespace moe::ui::test
