#include "ui/lan_devices_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QStackedLayout>
#include <QTableWidget>

#include "ui/dashboard_state.h"

namespace moe::ui {

LanDevicesPanel::LanDevicesPanel(QWidget* parent) : QWidget(parent) {
  setObjectName("lanDevicesPanel");
  stack_ = new QStackedLayout(this);
  placeholder_ = new QLabel(tr("No devices on the LAN"));
  placeholder_->setObjectName("devicesPlaceholder");
  placeholder_->setAlignment(Qt::AlignCenter);
  placeholder_->setStyleSheet("color:#5d6874;font-size:13px;");
  stack_->addWidget(placeholder_);
  table_ = new QTableWidget(0, 5);
  table_->setHorizontalHeaderLabels(
      {tr("Device"), tr("State"), tr("RTT (ms)"), tr("Compute (ms)"), tr("RPCs")});
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  stack_->addWidget(table_);
}

bool LanDevicesPanel::showing_placeholder() const {
  return stack_->currentIndex() == 0;
}
QString LanDevicesPanel::placeholder_text() const {
  return placeholder_->text();
}

void LanDevicesPanel::update_from(const DashboardState& s) {
  if (!s.has_devices()) {
    stack_->setCurrentIndex(0);
    return;
  }
  stack_->setCurrentIndex(1);
  table_->setRowCount(static_cast<int>(s.devices().size()));
  int row = 0;
  for (const auto& [id, d] : s.devices()) {
    const QStringList cols = {QString("#%1").arg(id), d.state, QString::number(d.rtt_ms, 'f', 2),
                              QString::number(d.compute_ms, 'f', 2), QString::number(d.rpcs)};
    for (int c = 0; c < cols.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cols[c]));
    ++row;
  }
}

}  // namespace moe::ui
