#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include "ui/chat_settings_row.h"
#include "ui/chat_store.h"
#include "ui/chat_window.h"
#include "ui/dashboard_widget.h"
#include "ui/engine_controller.h"
#include "ui/history_unlock_dialog.h"
#include "ui/memory_estimate.h"
#include "ui/privacy_dialog.h"

namespace moe::ui {

namespace {
constexpr int kMaxRecent = 8;
constexpr int kRetentionCheckMs = 24 * 3600 * 1000;  // retention is applied daily while running
}  // namespace

MainWindow::MainWindow(const StudioPaths& paths, QWidget* parent)
    : QMainWindow(parent), paths_(paths) {
  // No title of our own until a model is loaded: main() sets the application display name,
  // which the platform appends to every window title ("demo model — MoE Studio").
  setObjectName("mainWindow");
  store_ = std::make_unique<ChatStore>();
  if (!store_->open(paths_.database_path())) {
    // History is unavailable, but the app still works: use an in-memory database.
    QMessageBox::warning(this, tr("Chat history unavailable"),
                         tr("Could not open the history database:\n%1\n\nThis session's "
                            "conversations will not be saved.")
                             .arg(store_->last_error()));
    store_ = std::make_unique<ChatStore>();
    (void)store_->open(":memory:");
  }
  const QString history_note = store_->locked() ? unlock_history() : QString();
  const int expired = store_->apply_retention();
  controller_ = std::make_unique<EngineController>();
  chat_ = new ChatWindow(controller_.get(), store_.get());
  dashboard_ = new DashboardWidget(controller_.get());
  tabs_ = new QTabWidget;
  tabs_->setDocumentMode(true);
  tabs_->addTab(chat_, tr("Clinician chat"));
  tabs_->addTab(dashboard_, tr("Operator dashboard"));
  setCentralWidget(tabs_);

  model_label_ = new QLabel(tr("No model"));
  statusBar()->addPermanentWidget(model_label_);
  build_menus();

  connect(controller_.get(), &EngineController::model_loaded, this, &MainWindow::on_model_loaded);
  connect(controller_.get(), &EngineController::load_failed, this, &MainWindow::on_load_failed);
  connect(controller_.get(), &EngineController::load_progress, this, [this](double f) {
    if (progress_) progress_->setValue(static_cast<int>(f * 100));
  });
  connect(chat_, &ChatWindow::status_message, this,
          [this](const QString& m) { statusBar()->showMessage(m, 8000); });
  connect(chat_, &ChatWindow::demo_requested, this, &MainWindow::open_demo);
  connect(chat_, &ChatWindow::open_dialog_requested, this, &MainWindow::open_model_dialog);
  connect(chat_, &ChatWindow::open_model_requested, this, &MainWindow::open_model);
  restore_settings();
  if (!history_note.isEmpty()) statusBar()->showMessage(history_note);
  if (expired < 0)
    statusBar()->showMessage(tr("Old conversations not deleted: %1").arg(store_->last_error()));
  auto* retention = new QTimer(this);
  connect(retention, &QTimer::timeout, this, [this] {
    if (store_->apply_retention() > 0) chat_->reload_history();
  });
  retention->start(kRetentionCheckMs);
}

QString MainWindow::unlock_history() {
  if (store_->uses_keyring() && store_->unlock_from_keyring()) return {};  // nothing to ask
  HistoryUnlockDialog dialog(store_.get(), this);
  dialog.exec();
  if (dialog.outcome() == HistoryUnlockDialog::Outcome::kUnlocked) return {};
  const QString path = store_->path();
  store_ = std::make_unique<ChatStore>();
  QString note;
  if (dialog.outcome() == HistoryUnlockDialog::Outcome::kQuit) {
    quit_requested_ = true;
  } else {
    QString error;
    const QString aside = move_history_aside(path, &error);
    if (!aside.isEmpty() && store_->open(path))
      return tr("Started a new empty history; the encrypted one was kept as %1.").arg(aside);
    QMessageBox::warning(this, tr("Chat history unavailable"),
                         tr("Could not start a new history:\n%1\n\nThis session's "
                            "conversations will not be saved.")
                             .arg(aside.isEmpty() ? error : store_->last_error()));
    store_ = std::make_unique<ChatStore>();
  }
  (void)store_->open(":memory:");
  return {};
}

MainWindow::~MainWindow() {
  prepare_exit();
  // Widgets first (they hold the controller), then the engine thread: quit() + wait(), no
  // terminate(). The answer in progress was asked to stop in prepare_exit().
  delete takeCentralWidget();
  controller_.reset();
}

void MainWindow::prepare_exit() {
  if (exit_prepared_) return;
  exit_prepared_ = true;
  chat_->save_before_exit();  // keeps the partial answer ("interrupted") and the draft
  save_settings();
  controller_->cancel_load();
  controller_->stop();  // the engine stops at its next token step
}

void MainWindow::closeEvent(QCloseEvent* event) {
  // The controller stays alive until the destructor: timers and queued signals may still run
  // between close and destruction.
  prepare_exit();
  event->accept();
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open model…"));
  open->setShortcut(QKeySequence::Open);
  connect(open, &QAction::triggered, this, &MainWindow::open_model_dialog);
  recent_menu_ = file->addMenu(tr("Recent models"));
  QAction* demo = file->addAction(tr("Load the &demo model"));
  connect(demo, &QAction::triggered, this, &MainWindow::open_demo);
  file->addSeparator();
  QAction* exp = file->addAction(tr("&Export conversation…"));
  connect(exp, &QAction::triggered, chat_, &ChatWindow::export_with_dialog);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* to_chat = view->addAction(tr("Clinician chat"));
  to_chat->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
  connect(to_chat, &QAction::triggered, this, [this] { tabs_->setCurrentIndex(0); });
  QAction* to_dash = view->addAction(tr("Operator dashboard"));
  to_dash->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
  connect(to_dash, &QAction::triggered, this, [this] { tabs_->setCurrentIndex(1); });

  QMenu* settings = menuBar()->addMenu(tr("&Settings"));
  connect(settings->addAction(tr("&Privacy…")), &QAction::triggered, this, [this] {
    auto* dialog = new PrivacyDialog(store_.get(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PrivacyDialog::history_changed, chat_, &ChatWindow::reload_history);
    dialog->open();
  });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  connect(help->addAction(tr("About MoE Studio")), &QAction::triggered, this, [this] {
    QMessageBox::about(this, tr("About MoE Studio"),
                       tr("<b>MoE Studio</b><br>Private, local Mixture-of-Experts inference with "
                          "expert offloading and WDMoE distribution.<br><br>Decision support "
                          "only — not a diagnosis."));
  });
  rebuild_recent_menu();
}

void MainWindow::open_model_dialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a GGUF model"), {},
                                                    tr("GGUF models (*.gguf);;All files (*)"));
  if (!path.isEmpty()) open_model(path);
}

QStringList MainWindow::recent_models() const {
  return paths_.open_settings()->value("recentModels").toStringList();
}

bool MainWindow::database_ok() const {
  return store_ && store_->is_open();
}

void MainWindow::rebuild_recent_menu() {
  recent_menu_->clear();
  const QStringList recent = recent_models();
  for (const QString& path : recent) {
    QAction* a = recent_menu_->addAction(QFileInfo(path).fileName());
    a->setToolTip(path);
    connect(a, &QAction::triggered, this, [this, path] { open_model(path); });
  }
  recent_menu_->setEnabled(!recent.isEmpty());
  chat_->settings_row()->set_recent_models(recent);
}

void MainWindow::add_recent(const QString& path) {
  auto s = paths_.open_settings();
  QStringList recent = s->value("recentModels").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  s->setValue("recentModels", recent);
  rebuild_recent_menu();
}

bool MainWindow::open_model(const QString& path) {
  if (controller_->is_loading() || controller_->is_generating()) {
    statusBar()->showMessage(tr("Wait for the current answer or load to finish."), 5000);
    return false;
  }
  auto estimate =
      estimate_model_memory(path, controller_->context_length(), controller_->kv_type());
  if (!estimate.ok()) {
    QMessageBox::critical(this, tr("Cannot open the model"),
                          QString::fromStdString(estimate.message()));
    return false;
  }
  const MemoryEstimate& m = estimate.value();
  if (!m.fits()) {
    const auto answer = QMessageBox::warning(
        this, tr("Not enough free memory"),
        tr("%1 needs about %2, more than is free.\n\nLoad it anyway? The system may swap.")
            .arg(m.model_name, m.describe()),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) return false;
  }
  delete progress_;
  progress_ = new QProgressDialog(tr("Loading %1\n%2").arg(m.model_name, m.describe()),
                                  tr("Cancel"), 0, 100, this);
  progress_->setWindowTitle(tr("Loading model"));
  progress_->setWindowModality(Qt::WindowModal);
  progress_->setMinimumDuration(300);
  progress_->setAutoClose(false);
  progress_->setAutoReset(false);
  load_cancelled_ = false;
  connect(progress_, &QProgressDialog::canceled, this, [this] {
    load_cancelled_ = true;
    controller_->cancel_load();
  });
  controller_->load_model(path, false);
  statusBar()->showMessage(tr("Loading %1 (%2)…").arg(m.model_name, m.describe()));
  return true;
}

void MainWindow::open_demo() {
  if (controller_->is_loading() || controller_->is_generating()) return;
  const QString path = paths_.demo_model_to_load();
  const bool first = !QFileInfo::exists(path);  // only the generated one can be missing
  statusBar()->showMessage(first ? tr("Creating the demo model (first start only)…")
                                 : tr("Loading the demo model…"));
  controller_->load_model(path, true);
}

void MainWindow::on_model_loaded(const ModelInfo& info) {
  if (progress_) {
    progress_->close();
    progress_->deleteLater();
    progress_ = nullptr;
  }
  if (!info.demo) add_recent(info.path);
  model_label_->setText(tr("%1 · %2 · %3 × %4 experts%5")
                            .arg(info.name, info.file_type)
                            .arg(info.n_layer)
                            .arg(info.n_expert)
                            .arg(info.random_weights ? tr(" · random weights (demo)")
                                 : info.demo         ? tr(" · tiny demo trained on WordNet")
                                                     : QString()));
  statusBar()->showMessage(tr("Model loaded: %1").arg(info.path), 8000);
  setWindowTitle(info.random_weights ? tr("demo model (random weights)")
                 : info.demo       ? tr("demo model (tiny, trained on WordNet definitions)")
                                   : info.name);
}

void MainWindow::on_load_failed(const QString& message) {
  if (progress_) {
    progress_->close();
    progress_->deleteLater();
    progress_ = nullptr;
  }
  if (load_cancelled_) {  // the user asked for it: no error dialog
    load_cancelled_ = false;
    statusBar()->showMessage(tr("Model load cancelled."), 8000);
    return;
  }
  statusBar()->showMessage(tr("Model not loaded."), 8000);
  QMessageBox::critical(this, tr("Cannot load the model"), message);
}

void MainWindow::restore_settings() {
  auto s = paths_.open_settings();
  if (s->contains("geometry"))
    restoreGeometry(s->value("geometry").toByteArray());
  else
    resize(1360, 860);
  tabs_->setCurrentIndex(s->value("tab", 0).toInt());
  GenerationSettings g = controller_->generation_settings();
  g.sampler.temperature = s->value("sampler/temperature", g.sampler.temperature).toFloat();
  g.sampler.top_p = s->value("sampler/top_p", g.sampler.top_p).toFloat();
  g.sampler.top_k = s->value("sampler/top_k", g.sampler.top_k).toInt();
  g.sampler.repeat_penalty = s->value("sampler/repeat_penalty", g.sampler.repeat_penalty).toFloat();
  g.sampler.seed = s->value("sampler/seed", static_cast<qulonglong>(g.sampler.seed)).toULongLong();
  g.max_new_tokens = s->value("sampler/max_new_tokens", g.max_new_tokens).toInt();
  g.pin_seed = s->value("sampler/pin_seed", g.pin_seed).toBool();
  controller_->set_generation_settings(g);
  controller_->set_kv_type(s->value("engine/kv_type", "F16").toString() == "F32" ? KvType::kF32
                                                                                 : KvType::kF16);
  controller_->set_load_settings(read_load_settings(*s));
  controller_->set_theta(s->value("wdmoe/theta", 0.0).toFloat());
  const QString scenario = s->value("wdmoe/scenario").toString();
  if (!scenario.isEmpty()) {
    auto sc = ChannelScenario::load_file(scenario);
    if (sc.ok()) controller_->set_scenario(std::move(sc).value());
  }
}

void MainWindow::save_settings() {
  auto s = paths_.open_settings();
  s->setValue("geometry", saveGeometry());
  s->setValue("tab", tabs_->currentIndex());
  const GenerationSettings& g = controller_->generation_settings();
  s->setValue("sampler/temperature", g.sampler.temperature);
  s->setValue("sampler/top_p", g.sampler.top_p);
  s->setValue("sampler/top_k", g.sampler.top_k);
  s->setValue("sampler/repeat_penalty", g.sampler.repeat_penalty);
  s->setValue("sampler/seed", static_cast<qulonglong>(g.sampler.seed));
  s->setValue("sampler/max_new_tokens", g.max_new_tokens);
  s->setValue("sampler/pin_seed", g.pin_seed);
  s->setValue("engine/kv_type", kv_type_name(controller_->kv_type()));
  write_load_settings(*s, controller_->load_settings());
  s->setValue("wdmoe/theta", controller_->theta());
  const QString src = controller_->scenario().source();
  s->setValue("wdmoe/scenario", src.startsWith("built-in") ? QString() : src);
}

}  // namespace moe::ui
