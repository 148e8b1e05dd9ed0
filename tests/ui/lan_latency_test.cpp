// The LAN devices panel against the WDMoE model, in a real window (xcb under Xvfb) with real
// moe-node processes on loopback and a `moe-cli pki` deployment: per device the channel
// scenario's modelled t_q beside the measured one, and a device that stalls (SIGSTOP) shown as
// a timeout, apart from a lost connection.
#include <signal.h>

#include <QFile>
#include <QLabel>
#include <QTableWidget>
#include <QTest>

#include "lan_fixture.h"
#include "studio_fixture.h"
#include "ui/dashboard_widget.h"
#include "ui/demo_model.h"
#include "ui/engine_controller.h"
#include "ui/lan_devices_panel.h"
#include "ui/load_settings_panel.h"
#include "ui/main_window.h"
#include "ui/wdmoe_panel.h"

using namespace moe::ui;
using namespace moe::ui::test;

namespace {

/// Writes the demo model where the app will load it (the nodes need the same file first).
bool ensure_demo_model(Studio& s) {
  const QString model = s.paths().demo_model_path();
  return QFile::exists(model) || write_demo_model(model.toStdString()).ok();
}

/// Types the devices and the PKI folder into the load settings and loads the demo model.
bool load_with_devices(Studio& s, const NodeDeployment& d, const Node* nodes, int n) {
  show_dashboard(s);
  LoadSettingsPanel* p = load_panel(s);
  type_into(p->pki_dir(), d.pki());
  QStringList list;
  for (int i = 0; i < n; ++i) list << QString("127.0.0.1:%1/%2").arg(nodes[i].port).arg(nodes[i].name);
  type_into(p->devices(), list.join(','));
  return !p->message()->text().startsWith("Not taken") && s.load_demo();
}

/// The WDMoE device table's cell for scenario device `name` in the column headed `header`.
QString wdmoe_cell(QTableWidget* t, const QString& name, const QString& header) {
  int col = -1;
  for (int c = 0; c < t->columnCount(); ++c)
    if (t->horizontalHeaderItem(c)->text() == header) col = c;
  for (int r = 0; r < t->rowCount(); ++r)
    if (cell(t, r, 0) == name) return cell(t, r, col);
  return {};
}

/// Resumes and ends a node the test stopped, whatever happens to the test.
struct ResumeOnExit {
  Node& node;
  ~ResumeOnExit() {
    if (node.process && node.process->state() != QProcess::NotRunning) {
      ::kill(static_cast<pid_t>(node.process->processId()), SIGCONT);
      node.process->terminate();
      node.process->waitForFinished(5000);
    }
  }
};

}  // namespace

class LanLatencyTest : public QObject {
  Q_OBJECT
 private slots:
  void modelledBesideMeasuredTq();
  void stalledDeviceShowsTimeout();
};

// Two nodes: "device7" runs the paper scenario's farthest device's emulated link, "node-1" is
// named after no scenario device. After an answer the panel shows, for device7, the modelled
// t_q of the app's channel scenario (the number the WDMoE table gives the scenario device of
// that name) and a measured t_q; node-1 has a measured t_q and no modelled one, and says why.
void LanLatencyTest::modelledBesideMeasuredTq() {
  NodeDeployment d({"device7", "node-1"});
  QVERIFY(d.ok());
  Studio s;
  QVERIFY(ensure_demo_model(s));
  const QString model = s.paths().demo_model_path();
  const QString scenario = QStringLiteral(MOE_SOURCE_DIR "/resources/scenarios/paper_8_devices.json");
  Node nodes[2];
  QVERIFY(d.start(nodes[0], "device7", model, {"--emulate-link", scenario + ":device7"}));
  QVERIFY(d.start(nodes[1], "node-1", model));
  QVERIFY(load_with_devices(s, d, nodes, 2));
  QCOMPARE(s.window().controller()->scenario().name(), QString("paper_8_devices"));

  const AnswerStats a = s.ask("What is a fever?", 16);
  QVERIFY(a.generated_tokens > 1);
  QVERIFY2(a.computed_on.contains("device7") && a.computed_on.contains("node-1"),
           qPrintable(a.computed_on));
  show_dashboard(s);
  LanDevicesPanel* lan = s.window().dashboard()->devices();
  QTableWidget* t = lan->table();
  QTRY_COMPARE(t->rowCount(), 2);
  QTRY_VERIFY(row_of(t, "device7") >= 0 && row_of(t, "node-1") >= 0);
  const int r7 = row_of(t, "device7"), r1 = row_of(t, "node-1");
  // The answer's last events reach the table at a later dashboard tick.
  QTRY_VERIFY_WITH_TIMEOUT(cell(t, r7, LanDevicesPanel::kMeasuredTq) != "–" &&
                               cell(t, r1, LanDevicesPanel::kMeasuredTq) != "–",
                           10000);
  const QString modelled = cell(t, r7, LanDevicesPanel::kModelledTq);
  const QString in_wdmoe =
      wdmoe_cell(s.window().dashboard()->wdmoe()->device_table(), "device7", "t_q (ms)");
  QVERIFY2(modelled.toDouble() > 0, qPrintable(modelled));
  QCOMPARE(modelled, in_wdmoe);
  for (int r : {r7, r1}) {
    bool ok = false;
    const double measured = cell(t, r, LanDevicesPanel::kMeasuredTq).toDouble(&ok);
    QVERIFY2(ok && measured > 0, qPrintable(cell(t, r, LanDevicesPanel::kMeasuredTq)));
  }
  QCOMPARE(cell(t, r1, LanDevicesPanel::kModelledTq), QString("–"));
  const QString why = t->item(r1, LanDevicesPanel::kModelledTq)->toolTip();
  QVERIFY2(why.contains("node-1") && why.contains("paper_8_devices"), qPrintable(why));
  QVERIFY(t->horizontalHeaderItem(LanDevicesPanel::kModelledTq)->text().contains("modelled"));
  QVERIFY(t->horizontalHeaderItem(LanDevicesPanel::kMeasuredTq)->text().contains("measured"));
  t->scrollToItem(t->item(r7, LanDevicesPanel::kMeasuredTq));  // the panel is narrow at 1600 px
  save_screenshot(lan, "lan_devices_tq.png");
  for (Node& n : nodes) {
    n.process->terminate();
    n.process->waitForFinished(5000);
  }
}

// A node stopped with SIGSTOP mid-answer keeps its connection open but answers nothing: after
// the RPC timeout the answer goes on (its experts on the host), the computed-on line says
// "(timed out)" and its row "timeout" with one failure, not "lost"; the other node stays active.
void LanLatencyTest::stalledDeviceShowsTimeout() {
  NodeDeployment d;
  QVERIFY(d.ok());
  Studio s;
  QVERIFY(ensure_demo_model(s));
  Node nodes[2];
  for (int i = 0; i < 2; ++i)
    QVERIFY(d.start(nodes[i], QString("node-%1").arg(i), s.paths().demo_model_path(),
                    expert_share(i, 2, kDemoExperts)));
  ResumeOnExit resume0{nodes[0]}, resume1{nodes[1]};
  QVERIFY(load_with_devices(s, d, nodes, 2));
  // Both compute a first answer: the computed-on line names the devices that have computed.
  const AnswerStats a = s.ask("What is a fever?", 8);
  QVERIFY2(a.computed_on.contains("node-0") && a.computed_on.contains("node-1"),
           qPrintable(a.computed_on));

  // Stopped before the question is sent, so the stall falls inside the answer: stopping it once
  // the first text was shown raced the engine thread, which could have finished by then.
  ::kill(static_cast<pid_t>(nodes[0].process->processId()), SIGSTOP);
  QVERIFY(s.send("Describe the patient's symptoms in detail.", 200));
  AnswerStats b;
  QVERIFY(s.wait_answer_finished(&b, 60000));
  QVERIFY2(b.stop_reason == "max_tokens" || b.stop_reason == "eos", qPrintable(b.stop_reason));
  QVERIFY2(b.computed_on.contains("node-0 (timed out)"), qPrintable(b.computed_on));
  show_dashboard(s);
  QTableWidget* t = s.window().dashboard()->devices()->table();
  QTRY_COMPARE(cell(t, row_of(t, "node-0"), LanDevicesPanel::kState), QString("timeout"));
  QCOMPARE(cell(t, row_of(t, "node-0"), LanDevicesPanel::kFailures), QString("1"));
  QCOMPARE(cell(t, row_of(t, "node-1"), LanDevicesPanel::kState), QString("active"));
}

QTEST_MAIN(LanLatencyTest)
#include "lan_latency_test.moc"
