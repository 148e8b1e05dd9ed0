#include "ui/lan_devices_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QStackedLayout>
#include <QTableWidget>
#include <QVBoxLayout>

#include "ui/channel_scenario.h"
#include "ui/dashboard_state.h"
#include "ui/engine_controller.h"
#include "ui/lan_state.h"
#include "ui/row_table.h"
#include "ui/studio_types.h"

namespace moe::ui {

LanDevicesPanel::LanDevicesPanel(EngineController* controller, QWidget* parent) : QWidget(parent) {
  setObjectName("lanDevicesPanel");
  stack_ = new QStackedLayout(this);
  placeholder_ = new QLabel(tr("No devices on the LAN"));
  placeholder_->setObjectName("devicesPlaceholder");
  placeholder_->setAlignment(Qt::AlignCenter);
  placeholder_->setStyleSheet("color:#5d6874;font-size:13px;");
  stack_->addWidget(placeholder_);
  auto* live = new QWidget;
  auto* v = new QVBoxLayout(live);
  v->setContentsMargins(0, 0, 0, 0);
  table_ = new QTableWidget(0, kColumns);
  table_->setObjectName("lanDevicesTable");
  table_->setHorizontalHeaderLabels({tr("Device"), tr("State"), tr("Experts"), tr("RTT (ms)"),
                                     tr("Compute (ms)"), tr("t_q modelled (ms)"),
                                     tr("t_q measured (ms)"), tr("Bytes/s"), tr("Failures"),
                                     tr("TLS identity"), tr("Security")});
  table_->horizontalHeaderItem(kModelledTq)
      ->setToolTip(tr("WDMoE eq. 6 for one token through one expert on the channel scenario's "
                      "device of this name (mean channel): what the θ selector assumes"));
  table_->horizontalHeaderItem(kMeasuredTq)
      ->setToolTip(tr("One-token requests: network part of the round trip + the device's "
                      "compute per expert, EWMA"));
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  make_row_table(table_);
  computed_on_ = new QLabel;
  computed_on_->setObjectName("lanComputedOn");
  computed_on_->setWordWrap(true);
  v->addWidget(table_, 1);
  v->addWidget(computed_on_);
  stack_->addWidget(live);
  connect(controller, &EngineController::answer_finished, this,
          [this](quint64, const AnswerStats& stats) {
            computed_on_->setText(tr("Last answer computed on: %1").arg(stats.computed_on));
          });
}

bool LanDevicesPanel::showing_placeholder() const {
  return stack_->currentIndex() == 0;
}
QString LanDevicesPanel::placeholder_text() const {
  return placeholder_->text();
}

void LanDevicesPanel::set_scenario(const QString& name, const QVector<DeviceLinkRow>& rows) {
  scenario_ = name;
  modelled_tq_ms_.clear();
  for (const DeviceLinkRow& r : rows) modelled_tq_ms_.insert(r.name, r.expert_latency_s * 1e3);
}

void LanDevicesPanel::update_from(const DashboardState& s) {
  const auto& devices = s.lan().devices();
  if (devices.empty()) {
    stack_->setCurrentIndex(0);
    return;
  }
  stack_->setCurrentIndex(1);
  table_->setRowCount(static_cast<int>(devices.size()));
  int row = 0;
  for (const auto& [id, d] : devices) {
    const auto modelled = modelled_tq_ms_.constFind(d.identity);
    const bool has_model = !d.identity.isEmpty() && modelled != modelled_tq_ms_.constEnd();
    const QString cols[kColumns] = {
        d.address.isEmpty() ? QString("#%1").arg(id) : d.address,
        d.state,
        QString::number(d.experts_held),
        QString::number(d.rtt_ms, 'f', 2),
        QString::number(d.compute_ms, 'f', 2),
        has_model ? QString::number(*modelled, 'f', 3) : QStringLiteral("–"),
        d.tq_samples > 0 ? QString::number(d.measured_tq_ms, 'f', 3) : QStringLiteral("–"),
        format_bytes(static_cast<quint64>(d.bytes_per_s)),
        QString::number(d.failures),
        d.identity,
        d.insecure ? tr("INSECURE (plaintext)") : tr("TLS 1.3, mutual")};
    for (int c = 0; c < kColumns; ++c) {
      auto* item = new QTableWidgetItem(cols[c]);
      if ((c == kSecurity && d.insecure) ||
          (c == kState && (d.state == "lost" || d.state == "timeout"))) {
        item->setForeground(QColor(192, 57, 43));
      }
      if (c == kModelledTq && !has_model) {
        item->setToolTip(tr("No device named '%1' in the channel scenario %2")
                             .arg(d.identity, scenario_));
      }
      table_->setItem(row, c, item);
    }
    ++row;
  }
}

}  // namespace moe::ui
