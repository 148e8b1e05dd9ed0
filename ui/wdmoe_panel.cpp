#include "ui/wdmoe_panel.h"

#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include "ui/chart_style.h"
#include "ui/dashboard_state.h"

namespace moe::ui {

namespace {
QTableWidgetItem* cell(const QString& text, bool number = true) {
  auto* it = new QTableWidgetItem(text);
  it->setTextAlignment(number ? (Qt::AlignRight | Qt::AlignVCenter)
                              : Qt::AlignLeft | Qt::AlignVCenter);
  it->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
  return it;
}
}  // namespace

WdmoePanel::WdmoePanel(QWidget* parent) : QWidget(parent) {
  setObjectName("wdmoePanel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  scenario_ = new QLabel;
  scenario_->setObjectName("scenarioLabel");
  scenario_->setStyleSheet("color:#44505c;");
  layout->addWidget(scenario_);

  table_ = new QTableWidget(0, 8);
  table_->setObjectName("deviceLinkTable");
  table_->setHorizontalHeaderLabels({tr("Device"), tr("Dist. (m)"), tr("SNR↓ dB"), tr("SNR↑ dB"),
                                     tr("Rate↓ Mb/s"), tr("Rate↑ Mb/s"), tr("Experts"),
                                     tr("t_q (ms)")});
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setToolTip(tr("Mean channel (no fading), WDMoE eqs. 2-3; t_q from eq. 6"));

  auto* chart = new QChart;
  style_chart(chart, tr("κ per token and layer (eq. 10) vs θ"), true);
  kappa_ = new QLineSeries;
  kappa_->setName(tr("κ"));
  kappa_->setPen(QPen(QColor(211, 84, 0), 1.5));
  theta_ = new QLineSeries;
  theta_->setName(tr("θ"));
  theta_->setPen(QPen(QColor(40, 40, 40), 1.5, Qt::DashLine));
  chart->addSeries(kappa_);
  chart->addSeries(theta_);
  kx_ = new QValueAxis;
  kx_->setLabelFormat("%.0f");
  kx_->setLabelsVisible(false);  // selection numbers are not worth the space
  auto* ky = new QValueAxis;
  ky->setRange(0, 0.5);
  ky->setLabelFormat("%.1f");
  chart->addAxis(kx_, Qt::AlignBottom);
  chart->addAxis(ky, Qt::AlignLeft);
  for (QLineSeries* s : {kappa_, theta_}) {
    s->attachAxis(kx_);
    s->attachAxis(ky);
  }
  kappa_view_ = new QChartView(chart);
  kappa_view_->setRenderHint(QPainter::Antialiasing);
  kappa_view_->setMinimumHeight(160);
  kappa_view_->setMinimumWidth(340);

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(table_);
  split->addWidget(kappa_view_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);
  summary_ = new QLabel(tr("No selections yet."));
  summary_->setObjectName("selectionSummary");
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
}

void WdmoePanel::set_devices(const QString& scenario, const QVector<DeviceLinkRow>& rows) {
  scenario_->setText(tr("Channel scenario: <b>%1</b> — %2 simulated expert devices")
                         .arg(scenario.toHtmlEscaped())
                         .arg(rows.size()));
  table_->setRowCount(static_cast<int>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    const DeviceLinkRow& r = rows[i];
    QStringList experts;
    for (int e : r.experts) experts << QString::number(e);
    table_->setItem(i, 0, cell(r.name, false));
    table_->setItem(i, 1, cell(QString::number(r.distance_m, 'f', 0)));
    table_->setItem(i, 2, cell(QString::number(r.snr_down_db, 'f', 1)));
    table_->setItem(i, 3, cell(QString::number(r.snr_up_db, 'f', 1)));
    table_->setItem(i, 4, cell(QString::number(r.rate_down_bps / 1e6, 'f', 1)));
    table_->setItem(i, 5, cell(QString::number(r.rate_up_bps / 1e6, 'f', 1)));
    table_->setItem(i, 6, cell(experts.join(", "), false));
    table_->setItem(i, 7, cell(QString::number(r.expert_latency_s * 1e3, 'f', 3)));
  }
}

void WdmoePanel::update_from(const DashboardState& s, float theta) {
  const QVector<QPointF>& k = s.kappa();
  kappa_->replace(QList<QPointF>(k.begin(), k.end()));
  const double x0 = k.isEmpty() ? 0 : k.front().x(), x1 = k.isEmpty() ? 1 : k.back().x();
  kx_->setRange(x0, std::max(x1, x0 + 1));
  theta_->replace(QList<QPointF>{QPointF(x0, theta), QPointF(std::max(x1, x0 + 1), theta)});
  const uint64_t n = s.selection_events();
  if (n == 0) {
    summary_->setText(tr("No selections yet: ask a question in the chat."));
    return;
  }
  const double kept = static_cast<double>(s.kept_total()) / n;
  const uint64_t offered = s.kept_total() + s.dropped_total();
  summary_->setText(
      tr("θ = %1 · %2 selections · %3 experts kept per token-layer on average · %4 of %5 "
         "candidates dropped (%6%) · last token's modelled layer latency %7 ms (eq. 7)")
          .arg(theta, 0, 'f', 2)
          .arg(n)
          .arg(kept, 0, 'f', 2)
          .arg(s.dropped_total())
          .arg(offered)
          .arg(offered ? 100.0 * s.dropped_total() / offered : 0.0, 0, 'f', 1)
          .arg(s.last_token_latency_ms(), 0, 'f', 3));
}

}  // namespace moe::ui
