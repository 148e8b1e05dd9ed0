#pragma once
// Where MoE Studio keeps its state. Tests and side-by-side installs pass --data-dir (or set
// MOE_STUDIO_DATA_DIR) so that nothing touches the user's own settings, history or cache.
#include <QSettings>
#include <QString>
#include <memory>

namespace moe::ui {

struct StudioPaths {
  QString data_dir;   ///< settings.ini and history.sqlite live here
  QString cache_dir;  ///< the generated (random-weight) demo model lives here
  /// The trained demo model shipped with the app (find_bundled_demo_model()); empty: the demo
  /// is the random-weight model generated into cache_dir. main() sets it; resolve() does not.
  QString bundled_demo_model;
  QString settings_path() const { return data_dir + "/settings.ini"; }
  QString database_path() const { return data_dir + "/history.sqlite"; }
  QString demo_model_path() const { return cache_dir + "/moe-studio-demo.gguf"; }
  /// What "Load the demo model" opens: the bundled trained model, else the generated one.
  QString demo_model_to_load() const {
    return bundled_demo_model.isEmpty() ? demo_model_path() : bundled_demo_model;
  }
  /// Settings stored as an ini file in data_dir (never the platform's global store).
  std::unique_ptr<QSettings> open_settings() const;

  /// `explicit_dir` (--data-dir) wins, then $MOE_STUDIO_DATA_DIR, then the platform's
  /// AppDataLocation / CacheLocation. Creates the folders.
  static StudioPaths resolve(const QString& explicit_dir);
};

}  // namespace moe::ui
