// The operator's "Expert cache" and "LAN devices" panels in a real window (xcb under Xvfb), on
// the real engine, the tiered expert store and real moe-node processes with a `moe-cli pki`
// deployment: what the panels show must be what the store and the devices did.
#include <signal.h>

#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include "lan_fixture.h"
#include "studio_fixture.h"
#include "ui/cache_panel.h"
#include "ui/control_panel.h"
#include "ui/dashboard_widget.h"
#include "ui/demo_model.h"
#include "ui/engine_controller.h"
#include "ui/lan_devices_panel.h"
#include "ui/layer_hit_chart.h"
#include "ui/load_settings_panel.h"
#include "ui/residency_map.h"

using namespace moe::ui;
using namespace moe::ui::test;

namespace {

/// Pixels of colour `c` in a grab of `w` (what is on screen).
int pixels_of(QWidget* w, QRgb c) {
  const QImage img = w->grab().toImage().convertToFormat(QImage::Format_RGB32);
  int n = 0;
  for (int y = 0; y < img.height(); ++y) {
    const auto* row = reinterpret_cast<const QRgb*>(img.constScanLine(y));
    for (int x = 0; x < img.width(); ++x) n += (row[x] & 0xFFFFFF) == (c & 0xFFFFFF) ? 1 : 0;
  }
  return n;
}

/// Opens the demo model with a `budget` RAM budget typed into the load settings.
bool load_with_budget(Studio& s, const QString& budget) {
  show_dashboard(s);
  type_into(load_panel(s)->ram_budget(), budget);
  return s.load_demo();
}

}  // namespace

class PanelsTest : public QObject {
  Q_OBJECT
 private slots:
  void cachePanelShowsTheStore();
  void budgetChangesMidAnswer();
  void badLoadSettingsAreRefused();
  void lanDevicesComputeAndSurviveALoss();
};

// A 50 % RAM budget typed into the load settings gives a tiered store; after an answer the
// residency map is exactly where the store holds each expert (from the CacheEvents alone), the
// map is painted in the tier colours, the per-layer hit-rate history and the latency chart have
// data, and the figures name the policy and the prefetch counters.
void PanelsTest::cachePanelShowsTheStore() {
  Studio s;
  QVERIFY(load_with_budget(s, "50%"));
  EngineController* c = s.window().controller();
  auto stats = c->engine()->store_stats();
  QVERIFY(stats.has_value());
  QCOMPARE(c->model().cache_policy, QString("lru"));
  QVERIFY(stats->budget_bytes * 2 <= stats->all_experts_bytes + stats->all_experts_bytes / 50);
  CachePanel* panel = s.window().dashboard()->cache();

  const AnswerStats a = s.ask("What is a fever?", 48);
  QVERIFY(a.generated_tokens > 0);
  show_dashboard(s);
  // Prefetches may still land after the answer: the map must follow the store to the end.
  QTRY_VERIFY_WITH_TIMEOUT(panel->layer_hits()->columns() > 0, 5000);
  QTRY_VERIFY_WITH_TIMEOUT(
      s.window().dashboard()->state().cache().residency() == c->engine()->store_stats()->residency,
      5000);
  const CacheState& cs = s.window().dashboard()->state().cache();
  const int n = cs.n_layer() * cs.n_expert();
  const int in_ram = cs.count(moe::ExpertResidency::kRam);
  QVERIFY2(in_ram > 0 && in_ram < n, qPrintable(QString("%1 of %2 in RAM").arg(in_ram).arg(n)));
  QVERIFY(cs.hits() + cs.misses() > 0);
  QVERIFY(cs.misses() > 0);  // half the experts are on disk
  QVERIFY(cs.bytes_read() > 0);
  QVERIFY(!panel->showing_placeholder());
  QVERIFY(panel->latency_points() > 0);
  s.window().dashboard()->refresh();
  QVERIFY(pixels_of(panel->residency_map(), ResidencyMap::color(moe::ExpertResidency::kRam)) > 0);
  QVERIFY(pixels_of(panel->residency_map(), ResidencyMap::color(moe::ExpertResidency::kDisk)) > 0);
  QVERIFY(panel->figures()->text().contains("prefetch issued"));
  QVERIFY(panel->findChild<QLabel*>("cachePolicy")->text().contains("lru"));
  test::save_screenshot(s.window().dashboard(), "dashboard_cache.png");
}

// The budget spin box + Apply while an answer streams: the store takes the new budget at once
// (bytes held within it plus the experts in use), the answer runs to its end, and afterwards the
// store holds no more than the new budget and the map shows no more experts in RAM than fit.
void PanelsTest::budgetChangesMidAnswer() {
  Studio s;
  QVERIFY(load_with_budget(s, "100%"));
  EngineController* c = s.window().controller();
  const auto before = *c->engine()->store_stats();
  QVERIFY(s.ask_and_wait_first_text("Describe the patient's symptoms in detail.", 200));
  show_dashboard(s);
  CachePanel* panel = s.window().dashboard()->cache();
  QSpinBox* spin = panel->budget_percent();
  QTRY_VERIFY(!panel->showing_placeholder());
  QSignalSpy applied(c, &EngineController::ram_budget_applied);
  QTest::mouseClick(spin, Qt::LeftButton);
  QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(spin, QString::number(spin->minimum()));
  QVERIFY(c->is_generating());  // mid-answer
  QTest::mouseClick(panel->apply_budget_button(), Qt::LeftButton);
  QVERIFY(applied.wait(10000));
  QCOMPARE(applied.takeFirst().at(0).toString(), QString());
  const auto mid = *c->engine()->store_stats();
  QVERIFY(mid.budget_bytes < before.budget_bytes);
  QVERIFY2(mid.held_bytes <= mid.budget_bytes + mid.in_use_bytes,
           qPrintable(QString("held %1, budget %2, in use %3")
                          .arg(mid.held_bytes)
                          .arg(mid.budget_bytes)
                          .arg(mid.in_use_bytes)));
  QVERIFY(panel->budget_status()->text().contains("applied"));

  AnswerStats a;
  QVERIFY(s.wait_answer_finished(&a, 60000));
  QVERIFY2(a.stop_reason == "max_tokens" || a.stop_reason == "eos", qPrintable(a.stop_reason));
  QVERIFY(a.generated_tokens > 1);
  const auto after = *c->engine()->store_stats();
  QCOMPARE(after.budget_bytes, mid.budget_bytes);
  QCOMPARE(after.in_use_bytes, uint64_t{0});
  QVERIFY(after.held_bytes <= after.budget_bytes);
  int n_slots = 0;
  for (int n : after.layer_slots) n_slots += n;
  QTRY_VERIFY_WITH_TIMEOUT(
      s.window().dashboard()->state().cache().count(moe::ExpertResidency::kRam) <= n_slots, 3000);
  QVERIFY(s.window().dashboard()->state().cache().evictions() > 0);
}

// Bad load settings show the parser's message and are not taken; the last good ones stay and
// are remembered across a restart.
void PanelsTest::badLoadSettingsAreRefused() {
  Studio s;
  show_dashboard(s);
  LoadSettingsPanel* p = load_panel(s);
  type_into(p->ram_budget(), "40%");
  QCOMPARE(s.window().controller()->load_settings().ram_budget, QString("40%"));
  type_into(p->ram_budget(), "lots");
  QVERIFY2(p->message()->text().contains("RAM budget"), qPrintable(p->message()->text()));
  QCOMPARE(s.window().controller()->load_settings().ram_budget, QString("40%"));
  type_into(p->ram_budget(), "40%");
  type_into(p->devices(), "127.0.0.1:99999");
  QVERIFY2(p->message()->text().contains("port"), qPrintable(p->message()->text()));
  QCOMPARE(s.window().controller()->load_settings().devices, QString());
  type_into(p->devices(), "auto");
  QCOMPARE(s.window().controller()->load_settings().devices, QString("auto"));
  s.close_window();
  s.reopen_window();
  QCOMPARE(s.window().controller()->load_settings().ram_budget, QString("40%"));
  QCOMPARE(s.window().controller()->load_settings().devices, QString("auto"));
  QCOMPARE(load_panel(s)->ram_budget()->text(), QString("40%"));
}

// Two moe-node processes with certificates from `moe-cli pki`, named in the app's device
// settings: an answer lists both with their certificate names, RTT > 0 and traffic, and the
// "computed on" lines name them; a node killed with SIGKILL mid-answer is shown as lost and the
// answer still completes (its experts run on the host).
void PanelsTest::lanDevicesComputeAndSurviveALoss() {
  NodeDeployment d;
  QVERIFY(d.ok());
  Studio s;
  const QString model = s.paths().demo_model_path();
  // The nodes need the file before the app loads it (the fixture's copy, or written here).
  if (!QFile::exists(model)) QVERIFY(write_demo_model(model.toStdString()).ok());
  Node nodes[2];
  for (int i = 0; i < 2; ++i)
    QVERIFY(d.start(nodes[i], QString("node-%1").arg(i), model, expert_share(i, 2, kDemoExperts)));
  show_dashboard(s);
  LoadSettingsPanel* p = load_panel(s);
  type_into(p->pki_dir(), d.pki());
  type_into(
      p->devices(),
      QString("127.0.0.1:%1/node-0,127.0.0.1:%2/node-1").arg(nodes[0].port).arg(nodes[1].port));
  QVERIFY2(!p->message()->text().startsWith("Not taken"), qPrintable(p->message()->text()));
  QVERIFY(s.load_demo());

  const AnswerStats a = s.ask("What is a fever?", 16);
  QVERIFY(a.generated_tokens > 0);
  QVERIFY2(a.computed_on.contains("node-0") && a.computed_on.contains("node-1"),
           qPrintable(a.computed_on));
  show_dashboard(s);
  LanDevicesPanel* lan = s.window().dashboard()->devices();
  QTableWidget* t = lan->table();
  QTRY_COMPARE(t->rowCount(), 2);
  for (const char* name : {"node-0", "node-1"}) {
    const int r = row_of(t, name);
    QVERIFY2(r >= 0, name);
    QVERIFY(cell(t, r, LanDevicesPanel::kRtt).toDouble() > 0);
    QCOMPARE(cell(t, r, LanDevicesPanel::kState), QString("active"));
    QVERIFY(cell(t, r, LanDevicesPanel::kExperts).toInt() > 0);
    QVERIFY(cell(t, r, LanDevicesPanel::kSecurity).startsWith("TLS"));
    QCOMPARE(cell(t, r, LanDevicesPanel::kFailures), QString("0"));
  }
  QVERIFY(lan->computed_on()->text().contains("node-0"));
  QVERIFY(lan->computed_on()->text().contains("node-1"));
  test::save_screenshot(s.window().dashboard(), "dashboard_devices.png");

  // The loss must fall inside the answer. Killing the node once the first text was shown raced
  // the engine thread, which could finish the answer before the UI thread saw that text (under
  // load). A stopped node holds the answer at its first request to it (the RPC timeout is 5 s);
  // killing it then closes that connection mid-answer.
  const auto pid0 = static_cast<pid_t>(nodes[0].process->processId());
  ::kill(pid0, SIGSTOP);
  QVERIFY(s.send("Describe the patient's symptoms in detail.", 200));
  ::kill(pid0, SIGKILL);
  AnswerStats b;
  QVERIFY(s.wait_answer_finished(&b, 30000));
  QVERIFY2(b.stop_reason == "max_tokens" || b.stop_reason == "eos", qPrintable(b.stop_reason));
  QVERIFY2(b.computed_on.contains("node-0 (lost)"), qPrintable(b.computed_on));
  show_dashboard(s);
  QTRY_COMPARE(cell(t, row_of(t, "node-0"), LanDevicesPanel::kState), QString("lost"));
  QCOMPARE(cell(t, row_of(t, "node-0"), LanDevicesPanel::kFailures), QString("1"));
  QCOMPARE(cell(t, row_of(t, "node-1"), LanDevicesPanel::kState), QString("active"));
  nodes[1].process->terminate();
  nodes[1].process->waitForFinished(5000);
}

QTEST_MAIN(PanelsTest)
#include "panels_test.moc"
