#pragma once
// Real expert devices for UI tests: a `moe-cli pki` deployment in a temporary folder and
// moe-node processes on loopback, plus the dashboard helpers the LAN tests share (typing into
// the load settings as a user does, reading the devices table).
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <memory>

#include "studio_fixture.h"

class QLineEdit;
class QTableWidget;

namespace moe::ui {
class LoadSettingsPanel;
}

namespace moe::ui::test {

/// Replaces the text of a line edit as a user does: click, select all, type, Return.
void type_into(QLineEdit* edit, const QString& text);
/// Brings the dashboard tab to the front and activates the window.
void show_dashboard(Studio& s);
LoadSettingsPanel* load_panel(Studio& s);
/// The text of a table cell ("" when empty).
QString cell(QTableWidget* t, int row, int col);
/// The LAN devices table row of the device whose TLS identity is `name` (-1: none).
int row_of(QTableWidget* t, const QString& name);

/// moe-node's `--experts` for node `i` of `n`: its own contiguous share of every layer's
/// `n_expert` experts. Nodes that all serve every expert get shares in proportion to the speed
/// each measured at its start, which a loaded machine skews: a node measured 13 times slower
/// than the other got no expert and never computed. Disjoint shares give each node experts.
QStringList expert_share(int i, int n, int n_expert);
/// Experts per layer of the demo model (preset "demo" of core/model/model_generator.h).
constexpr int kDemoExperts = 8;

/// A moe-node process on loopback serving every expert of its model.
struct Node {
  QString name;
  std::unique_ptr<QProcess> process;
  quint16 port = 0;
};

class NodeDeployment {
 public:
  /// A CA and certificates for "host" and each of `devices`.
  explicit NodeDeployment(const QStringList& devices = {"node-0", "node-1"});
  bool ok() const { return ok_; }
  const QString& pki() const { return pki_; }

  /// Starts moe-node NAME on 127.0.0.1 (one thread, no announcements, `extra` arguments
  /// appended) and waits for its port file.
  bool start(Node& n, const QString& name, const QString& model, const QStringList& extra = {});

 private:
  QTemporaryDir dir_;
  QString pki_;
  bool ok_ = false;
};

}  // namespace moe::ui::test
