#include "lan_fixture.h"

#include <QFile>
#include <QLineEdit>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>

#include "ui/control_panel.h"
#include "ui/dashboard_widget.h"
#include "ui/lan_devices_panel.h"
#include "ui/main_window.h"

namespace moe::ui::test {

namespace {
bool cli(const QStringList& args) {
  QProcess p;
  p.start(MOE_CLI, args);
  return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}
}  // namespace

void type_into(QLineEdit* edit, const QString& text) {
  QTest::mouseClick(edit, Qt::LeftButton);
  QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
  if (text.isEmpty())
    QTest::keyClick(edit, Qt::Key_Delete);
  else
    QTest::keyClicks(edit, text);
  QTest::keyClick(edit, Qt::Key_Return);
}

void show_dashboard(Studio& s) {
  s.window().tabs()->setCurrentWidget(s.window().dashboard());
  s.activate();
}

LoadSettingsPanel* load_panel(Studio& s) {
  return s.window().dashboard()->controls()->load_settings();
}

QString cell(QTableWidget* t, int row, int col) {
  const QTableWidgetItem* item = t->item(row, col);
  return item ? item->text() : QString();
}

int row_of(QTableWidget* t, const QString& name) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (cell(t, r, LanDevicesPanel::kIdentity) == name) return r;
  return -1;
}

QStringList expert_share(int i, int n, int n_expert) {
  return {"--experts", QString("%1-%2").arg(i * n_expert / n).arg((i + 1) * n_expert / n - 1)};
}

NodeDeployment::NodeDeployment(const QStringList& devices) {
  pki_ = dir_.path() + "/pki";
  ok_ = cli({"pki", "--dir", pki_, "init"}) && cli({"pki", "--dir", pki_, "issue", "host"});
  for (const QString& n : devices) ok_ = ok_ && cli({"pki", "--dir", pki_, "issue", n});
}

bool NodeDeployment::start(Node& n, const QString& name, const QString& model,
                           const QStringList& extra) {
  n.name = name;
  const QString port_file = dir_.path() + "/" + name + ".port";
  n.process = std::make_unique<QProcess>();
  n.process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
  n.process->start(MOE_NODE, QStringList{"-m", model, "--name", name, "--listen", "127.0.0.1:0",
                                         "--pki", pki_, "--port-file", port_file, "-t", "1",
                                         "--no-announce"} +
                                 extra);
  if (!n.process->waitForStarted(10000)) return false;
  for (int attempt = 0; attempt < 200 && n.port == 0; ++attempt) {
    QFile f(port_file);
    if (f.open(QIODevice::ReadOnly)) n.port = static_cast<quint16>(f.readAll().trimmed().toUInt());
    if (n.port == 0) QTest::qWait(50);
  }
  return n.port != 0;
}

}  // namespace moe::ui::test
