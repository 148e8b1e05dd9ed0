// moe-studio: the desktop application. Thin main: options, paths, the main window.
//   moe-studio [--demo] [--random-demo] [--model FILE.gguf] [--data-dir DIR]
// With no model it runs the bundled demo model: the tiny trained one shipped next to the binary
// (resources/demo), or with --random-demo (or when it is missing) the random-weight one
// generated on first start.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <memory>

#include "ui/demo_model.h"
#include "ui/main_window.h"
#include "ui/studio_paths.h"

namespace {
// --help and --version must work without a display: they only need a core application.
bool wants_text_only(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const QByteArray a(argv[i]);
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version")
      return true;
  }
  return false;
}
}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<QCoreApplication> app_holder;
  if (wants_text_only(argc, argv))
    app_holder = std::make_unique<QCoreApplication>(argc, argv);
  else
    app_holder = std::make_unique<QApplication>(argc, argv);
  QCoreApplication& app = *app_holder;
  QCoreApplication::setApplicationName("moe-studio");
  QCoreApplication::setOrganizationName("MoE Studio");
  QCoreApplication::setApplicationVersion("0.1.0");

  QCommandLineParser cli;
  cli.setApplicationDescription("MoE Studio: local Mixture-of-Experts chat and operator dashboard");
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption demo("demo",
                          "Run the bundled demo model (the default with no --model): a tiny "
                          "Mixtral-style model trained on WordNet definitions.");
  QCommandLineOption random_demo("random-demo",
                                 "Demo with the random-weight model generated on first start "
                                 "instead (meaningless text; for benchmarks and tests).");
  QCommandLineOption model("model", "GGUF model to load.", "file");
  QCommandLineOption data_dir("data-dir",
                              "Keep settings, history and the demo model in this folder "
                              "(default: the platform's app data/cache folders; also "
                              "$MOE_STUDIO_DATA_DIR).",
                              "dir");
  cli.addOptions({demo, random_demo, model, data_dir});
  cli.process(app);  // exits here for --help / --version
  QApplication::setApplicationDisplayName("MoE Studio");

  auto paths = moe::ui::StudioPaths::resolve(cli.value(data_dir));
  if (!cli.isSet(random_demo))
    paths.bundled_demo_model =
        moe::ui::find_bundled_demo_model(QCoreApplication::applicationDirPath());
  moe::ui::MainWindow window(paths);
  if (window.quit_requested()) return 0;  // asked for the history's passphrase, chose Quit
  window.show();
  // Start loading once the window is up, so the first frame never waits.
  QTimer::singleShot(0, &window, [&] {
    if (cli.isSet(model) && !cli.isSet(demo) && !cli.isSet(random_demo))
      window.open_model(cli.value(model));
    else
      window.open_demo();
  });
  return app.exec();
}
