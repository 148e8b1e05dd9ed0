#pragma once
// Test fixture: a MainWindow on a temporary data dir (settings, history and demo model never
// touch the user's), shown in a real window, plus helpers that drive it like a user would.
#include <QString>
#include <QTemporaryDir>
#include <memory>

#include "ui/main_window.h"
#include "ui/studio_paths.h"
#include "ui/studio_types.h"

namespace moe::ui::test {

/// Where the shared demo model copy lives (written by the first-start test).
QString shared_demo_model();

class Studio {
 public:
  /// `dir` empty: a fresh temporary data dir (with the shared demo model copied in).
  explicit Studio(const QString& dir = {});
  ~Studio();

  MainWindow& window() { return *window_; }
  const StudioPaths& paths() const { return paths_; }
  QString data_dir() const { return paths_.data_dir; }

  /// Makes "Load the demo model" open `gguf` (as main() does with the trained model shipped
  /// next to the binary) and reopens the window.
  void use_bundled_demo(const QString& gguf);
  /// Opens the demo model and waits until it is loaded.
  bool load_demo();
  /// Sets the answer length on the dashboard, types `question`, presses Ctrl+Enter, waits for
  /// the end of the answer. Returns its stats.
  AnswerStats ask(const QString& question, int max_tokens);
  /// Sets the answer length, types `question` and presses Ctrl+Enter; returns at once, true if
  /// the answer started.
  bool send(const QString& question, int max_tokens);
  /// As ask(), but returns right after the first streamed text arrives.
  bool ask_and_wait_first_text(const QString& question, int max_tokens);
  bool wait_answer_finished(AnswerStats* stats, int timeout_ms = 120000);
  /// Destroys the window (and its engine thread); the data dir stays.
  void close_window();
  void reopen_window();
  /// Makes the main window the active one (window shortcuts need it) and waits until the window
  /// system says it is; a test failure if it never does.
  void activate();

 private:
  std::unique_ptr<QTemporaryDir> temp_;
  StudioPaths paths_;
  std::unique_ptr<MainWindow> window_;
};

/// Saves a PNG of `widget` under <build>/screenshots/<name> and, with MOE_UPDATE_SCREENSHOTS=1,
/// copies it to docs/screenshots/<name>. Returns the build-tree path.
QString save_screenshot(QWidget* widget, const QString& name);

}  // namespace moe::ui::test
