#include "ui/demo_model.h"

#include <QDir>
#include <QFileInfo>

#include "core/model/model_generator.h"

namespace moe::ui {

QString find_bundled_demo_model(const QString& app_dir) {
  const QDir dir(app_dir);
  for (const QString& p : {dir.filePath(kBundledDemoModelFile),
                           dir.filePath(QStringLiteral("../share/moe-studio/") +
                                        QString::fromLatin1(kBundledDemoModelFile))}) {
    const QFileInfo f(p);
    if (f.isFile()) return f.absoluteFilePath();
  }
  return {};
}

Status write_demo_model(const std::string& path) {
  auto preset = model_preset("demo");
  if (!preset.ok()) return preset.error();
  GenerateOptions opt;
  opt.preset = preset.value();
  opt.seed = 1;                              // the same demo model on every machine
  auto written = generate_model(opt, path);  // "<path>.tmp" then rename: never half a file
  if (!written.ok()) return written.error();
  return {};
}

}  // namespace moe::ui
