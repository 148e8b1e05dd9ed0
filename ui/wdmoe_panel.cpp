#include "ui/wdmoe_panel.h"

#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QSplitter>
#include <QStyle>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include "ui/chart_hover.h"
#include "ui/chart_style.h"
#include "ui/dashboard_state.h"
#include "ui/nice_axis.h"
#include "ui/row_table.h"
#include "ui/selection_history_chart.h"
#include "ui/time_window.h"

namespace moe::ui {

namespace {
// Device rows shown without scrolling (the paper's scenario has 8); a larger scenario scrolls.
constexpr int kRowsShown = 12;
// The κ chart's least width: its title, legend and x tick labels whole.
constexpr int kKappaMinWidth = 300;

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

  table_ = new QTableWidget(0, 10);
  table_->setObjectName("deviceLinkTable");
  table_->setHorizontalHeaderLabels({tr("Device"), tr("Dist. (m)"), tr("SNR↓ dB"), tr("SNR↑ dB"),
                                     tr("Rate↓ Mb/s"), tr("Rate↑ Mb/s"), tr("Experts"),
                                     tr("t_q (ms)"), tr("Kept"), tr("Dropped")});
  table_->horizontalHeaderItem(kKeptColumn)
      ->setToolTip(tr("Experts this device ran since the last θ / k / scenario change"));
  table_->horizontalHeaderItem(kDroppedColumn)
      ->setToolTip(tr("Experts of this device the θ rule dropped since the last change"));
  table_->verticalHeader()->setVisible(false);
  // Compact rows: the paper's eight devices fit without scrolling on a 720-line screen.
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 4);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);
  make_row_table(table_);
  table_->setToolTip(tr("Mean channel (no fading), WDMoE eqs. 2-3; t_q from eq. 6"));

  auto* chart = new QChart;
  style_chart(chart, tr("κ per token-layer (eq. 10) vs θ"), true);
  kappa_ = new QLineSeries;
  kappa_->setName(tr("κ"));
  kappa_->setPen(QPen(QColor(211, 84, 0), 1.5));
  theta_ = new QLineSeries;
  theta_->setName(tr("θ"));
  theta_->setPen(QPen(QColor(40, 40, 40), 1.5, Qt::DashLine));
  chart->addSeries(kappa_);
  chart->addSeries(theta_);
  kx_ = new QValueAxis;
  kx_->setTitleText(tr("decision (token × layer)"));
  ky_ = new QValueAxis;
  ky_->setTitleText(tr("κ, θ"));
  chart->addAxis(kx_, Qt::AlignBottom);
  chart->addAxis(ky_, Qt::AlignLeft);
  for (QLineSeries* s : {kappa_, theta_}) {
    s->attachAxis(kx_);
    s->attachAxis(ky_);
  }
  apply_axis(ky_, nice_axis(0, 0.5));  // κ <= 0.5 (eq. 10), θ in [0, 0.5]
  kappa_view_ = new QChartView(chart);
  kappa_view_->setObjectName("kappaChart");
  kappa_view_->setRenderHint(QPainter::Antialiasing);
  kappa_view_->setMinimumHeight(kLegendChartMinHeight);
  kappa_view_->setMinimumWidth(kKappaMinWidth);
  kappa_hover_ = new ChartHover(kappa_view_, kappa_, [this](QPointF v) {
    const QPointF* p = nearest_by_x(kappa_->points(), v.x());
    return p ? tr("decision %1: κ = %2 (θ = %3)")
                   .arg(p->x(), 0, 'f', 0)
                   .arg(p->y(), 0, 'f', 3)
                   .arg(theta_->points().isEmpty() ? 0.0 : theta_->points().front().y(), 0, 'f', 2)
             : QString();
  });
  history_ = new SelectionHistoryChart;

  auto* charts = new QSplitter(Qt::Horizontal);
  charts->addWidget(kappa_view_);
  charts->addWidget(history_);
  charts->setStretchFactor(1, 1);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(charts);
  for (QSplitter* sp : {charts, split}) sp->setChildrenCollapsible(false);
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
  // Every device on screen at once (up to kRowsShown; more scroll): the dashboard around the
  // table scrolls instead, and a table scrolling inside it would fight for the mouse wheel.
  const int shown = std::min(static_cast<int>(rows.size()), kRowsShown);
  const int height = table_->horizontalHeader()->sizeHint().height() +
                     shown * table_->verticalHeader()->defaultSectionSize() +
                     2 * table_->frameWidth() +
                     table_->style()->pixelMetric(QStyle::PM_ScrollBarExtent);  // if columns scroll
  table_->setMinimumHeight(height);
  table_->setMaximumHeight(height);
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

void WdmoePanel::update_from(const DashboardState& s, float theta, const TimeWindow& window) {
  const QVector<QPointF>& k = s.kappa();
  kappa_->replace(QList<QPointF>(k.begin(), k.end()));
  const double x0 = k.isEmpty() ? 0 : k.front().x(), x1 = k.isEmpty() ? 1 : k.back().x();
  apply_axis(kx_, fitted_axis(kappa_view_->chart(), kx_, x0, std::max(x1, x0 + 1)));
  apply_axis(ky_, fitted_axis(kappa_view_->chart(), ky_, 0, 0.5));  // κ <= 0.5 (eq. 10)
  theta_->replace(QList<QPointF>{QPointF(kx_->min(), theta), QPointF(kx_->max(), theta)});
  history_->set_window(s.telemetry(), s.markers(), window);

  const SelectionSegment& seg = s.segment();
  for (int row = 0; row < table_->rowCount(); ++row) {
    const auto at = [&](const std::vector<uint64_t>& v) {
      return row < static_cast<int>(v.size()) ? QString::number(v[static_cast<size_t>(row)])
                                              : QStringLiteral("–");
    };
    set_number(row, kKeptColumn, at(seg.kept_per_device));
    set_number(row, kDroppedColumn, at(seg.dropped_per_device));
  }
  const QString since = tr("Since %1 (%2 s ago)")
                            .arg(seg.label.isEmpty() ? tr("the model loaded") : seg.label)
                            .arg(std::max(0.0, s.now() - seg.since_s), 0, 'f', 0);
  if (seg.selections == 0) {
    summary_->setText(tr("%1: no selections yet — ask a question in the chat.").arg(since));
    return;
  }
  const double n = static_cast<double>(seg.selections);
  const uint64_t offered = seg.kept + seg.dropped;
  summary_->setText(tr("%1: %2 selections · %3 experts kept per token-layer on average · %4 of "
                       "%5 candidates dropped (%6%) · mean modelled layer latency %7 ms, last "
                       "token %8 ms (eq. 7)")
                        .arg(since)
                        .arg(seg.selections)
                        .arg(seg.kept / n, 0, 'f', 2)
                        .arg(seg.dropped)
                        .arg(offered)
                        .arg(offered ? 100.0 * seg.dropped / offered : 0.0, 0, 'f', 1)
                        .arg(seg.latency_sum_ms / n, 0, 'f', 3)
                        .arg(s.last_token_latency_ms(), 0, 'f', 3));
}

void WdmoePanel::set_number(int row, int column, const QString& text) {
  if (QTableWidgetItem* it = table_->item(row, column))
    it->setText(text);
  else
    table_->setItem(row, column, cell(text));
}

}  // namespace moe::ui
