#include "ui/studio_paths.h"

#include <QDir>
#include <QStandardPaths>

namespace moe::ui {

std::unique_ptr<QSettings> StudioPaths::open_settings() const {
  return std::make_unique<QSettings>(settings_path(), QSettings::IniFormat);
}

StudioPaths StudioPaths::resolve(const QString& explicit_dir) {
  StudioPaths p;
  QString dir = explicit_dir;
  if (dir.isEmpty()) dir = qEnvironmentVariable("MOE_STUDIO_DATA_DIR");
  if (!dir.isEmpty()) {
    p.data_dir = QDir(dir).absolutePath();
    p.cache_dir = p.data_dir;  // one self-contained folder: nothing leaks into $HOME
  } else {
    p.data_dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    p.cache_dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
  }
  QDir().mkpath(p.data_dir);
  QDir().mkpath(p.cache_dir);
  return p;
}

}  // namespace moe::ui
