#pragma once
// MoE Studio's main window: the clinician chat and the operator dashboard as tabs over one
// EngineController; model opening (validation, memory estimate, progress with cancel, recent
// models), the demo model, settings persisted in QSettings.
#include <QMainWindow>
#include <memory>

#include "ui/studio_paths.h"

class QLabel;
class QMenu;
class QProgressDialog;
class QTabWidget;

namespace moe::ui {

class ChatStore;
class ChatWindow;
class DashboardWidget;
class EngineController;
struct ModelInfo;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const StudioPaths& paths, QWidget* parent = nullptr);
  /// Saves the answer in progress, the draft and the settings; stops the engine (quit+wait).
  ~MainWindow() override;

  /// Validates `path`, shows the memory estimate, loads it with a progress dialog. Errors are
  /// shown in a QMessageBox; returns false when the load did not start.
  bool open_model(const QString& path);
  /// Generates (first time) and loads the bundled demo model.
  void open_demo();

  ChatWindow* chat() const { return chat_; }
  DashboardWidget* dashboard() const { return dashboard_; }
  EngineController* controller() const { return controller_.get(); }
  QTabWidget* tabs() const { return tabs_; }
  QStringList recent_models() const;
  bool database_ok() const;
  /// The user chose Quit when asked for the history's passphrase: main() exits.
  bool quit_requested() const { return quit_requested_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_menus();
  /// Asks for a GGUF file and opens it (File ▸ Open model…, the chat's picker and buttons).
  void open_model_dialog();
  void rebuild_recent_menu();
  void add_recent(const QString& path);
  void on_model_loaded(const ModelInfo& info);
  void on_load_failed(const QString& message);
  void restore_settings();
  void save_settings();
  void prepare_exit();
  /// Asks for the passphrase of the encrypted history (retry / new empty history / quit);
  /// returns a note for the status bar.
  QString unlock_history();

  StudioPaths paths_;
  std::unique_ptr<ChatStore> store_;
  std::unique_ptr<EngineController> controller_;
  QTabWidget* tabs_ = nullptr;
  ChatWindow* chat_ = nullptr;
  DashboardWidget* dashboard_ = nullptr;
  QProgressDialog* progress_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QLabel* model_label_ = nullptr;
  bool exit_prepared_ = false;
  bool load_cancelled_ = false;
  bool quit_requested_ = false;
};

}  // namespace moe::ui
