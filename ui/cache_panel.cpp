#include "ui/cache_panel.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedLayout>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "ui/cache_state.h"
#include "ui/chart_style.h"
#include "ui/dashboard_state.h"
#include "ui/engine_controller.h"
#include "ui/layer_hit_chart.h"
#include "ui/nice_axis.h"
#include "ui/residency_map.h"
#include "ui/studio_types.h"

namespace moe::ui {

CachePanel::CachePanel(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  setObjectName("cachePanel");
  stack_ = new QStackedLayout(this);
  placeholder_ = new QLabel(tr("No expert cache: all experts resident"));
  placeholder_->setObjectName("cachePlaceholder");
  placeholder_->setAlignment(Qt::AlignCenter);
  placeholder_->setWordWrap(true);
  placeholder_->setStyleSheet("color:#5d6874;font-size:13px;");
  stack_->addWidget(placeholder_);

  auto* live = new QWidget;
  auto* v = new QVBoxLayout(live);
  v->setContentsMargins(0, 0, 0, 0);
  auto* top = new QHBoxLayout;
  policy_ = new QLabel;
  policy_->setObjectName("cachePolicy");
  policy_->setWordWrap(true);
  budget_ = new QSpinBox;
  budget_->setObjectName("ramBudgetPercent");
  budget_->setRange(1, 100);
  budget_->setSuffix(tr(" % of experts"));
  budget_->setToolTip(
      tr("RAM budget of the expert cache, applied while the model runs: a "
         "smaller one evicts now, a larger one fills with later misses"));
  apply_ = new QPushButton(tr("Apply budget"));
  apply_->setObjectName("applyRamBudget");
  status_ = new QLabel;
  status_->setObjectName("ramBudgetStatus");
  status_->setWordWrap(true);
  top->addWidget(policy_, 1);
  top->addWidget(new QLabel(tr("RAM budget")));
  top->addWidget(budget_);
  top->addWidget(apply_);
  v->addLayout(top);
  v->addWidget(status_);

  auto* charts = new QHBoxLayout;
  map_ = new ResidencyMap;
  layer_hits_ = new LayerHitChart;
  auto* chart = new QChart;
  style_chart(chart, tr("Expert-load wait per token (ms)"), true);
  predicted_ = new QLineSeries;
  predicted_->setName(tr("predicted"));
  predicted_->setPen(QPen(QColor(142, 68, 173), 2, Qt::DashLine));
  measured_ = new QLineSeries;
  measured_->setName(tr("measured"));
  measured_->setPen(QPen(QColor(211, 84, 0), 2));
  chart->addSeries(predicted_);
  chart->addSeries(measured_);
  x_ = new QValueAxis;
  x_->setLabelFormat("%.0f");
  y_ = new QValueAxis;
  y_->setLabelFormat("%.1f");
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  for (QLineSeries* s : {predicted_, measured_}) {
    s->attachAxis(x_);
    s->attachAxis(y_);
  }
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(280, kLegendChartMinHeight);  // title, legend, tick labels whole
  charts->addWidget(map_, 1);
  charts->addWidget(layer_hits_, 1);
  charts->addWidget(view, 1);
  v->addLayout(charts, 1);
  figures_ = new QLabel;
  figures_->setObjectName("cacheFigures");
  figures_->setWordWrap(true);
  v->addWidget(figures_);
  stack_->addWidget(live);

  connect(apply_, &QPushButton::clicked, this, &CachePanel::apply_budget);
  connect(controller_, &EngineController::model_loaded, this, &CachePanel::on_model_loaded);
  connect(controller_, &EngineController::ram_budget_applied, this, [this](const QString& error) {
    status_->setStyleSheet(error.isEmpty() ? "color:#1e8449;" : "color:#c0392b;");
    status_->setText(
        error.isEmpty()
            ? tr("Budget applied: %1.").arg(format_bytes(controller_->model().ram_budget_bytes))
            : tr("Budget not changed: %1").arg(error));
    apply_->setEnabled(true);
  });
}

bool CachePanel::showing_placeholder() const {
  return stack_->currentIndex() == 0;
}
QString CachePanel::placeholder_text() const {
  return placeholder_->text();
}
int CachePanel::latency_points() const {
  return static_cast<int>(measured_->count());
}

void CachePanel::on_model_loaded() {
  const ModelInfo& m = controller_->model();
  status_->clear();
  if (m.all_experts_bytes == 0) return;
  // The smallest budget the store takes (one slot per layer), in whole percent.
  const int min_pct = static_cast<int>(
      std::ceil(100.0 * static_cast<double>(m.min_budget_bytes) / m.all_experts_bytes));
  budget_->setMinimum(std::clamp(min_pct, 1, 100));
  budget_->setValue(static_cast<int>(
      std::lround(100.0 * static_cast<double>(m.ram_budget_bytes) / m.all_experts_bytes)));
}

void CachePanel::apply_budget() {
  const ModelInfo& m = controller_->model();
  if (m.all_experts_bytes == 0) return;
  const auto bytes =
      static_cast<quint64>(static_cast<double>(m.all_experts_bytes) * budget_->value() / 100.0);
  apply_->setEnabled(false);
  status_->setStyleSheet("color:#44505c;");
  status_->setText(tr("Applying %1…").arg(format_bytes(bytes)));
  controller_->set_ram_budget(std::max<quint64>(bytes, m.min_budget_bytes));
}

void CachePanel::update_from(const DashboardState& state) {
  const CacheState& s = state.cache();
  if (!s.active()) {
    stack_->setCurrentIndex(0);
    return;
  }
  stack_->setCurrentIndex(1);
  map_->set_data(s.n_layer(), s.n_expert(), s.residency(), s.flashing());
  layer_hits_->set_history(s.n_layer(), s.layer_hit_history(), CacheState::kHistoryColumns);

  QList<QPointF> pred(s.predicted_ms().begin(), s.predicted_ms().end());
  QList<QPointF> meas(s.measured_ms().begin(), s.measured_ms().end());
  double ymax = 0.1;
  for (const QPointF& p : pred) ymax = std::max(ymax, p.y());
  for (const QPointF& p : meas) ymax = std::max(ymax, p.y());
  predicted_->replace(pred);
  measured_->replace(meas);
  const double x1 = std::max<double>(static_cast<double>(s.decode_steps()), 10);
  apply_axis(
      x_, fitted_axis(predicted_->chart(), x_, std::max(0.0, x1 - CacheState::kLatencyPoints), x1));
  apply_axis(y_, fitted_axis(predicted_->chart(), y_, 0,
                             ymax * 1.15));  // tick labels that match their values

  const ModelInfo& m = controller_->model();
  const int in_ram = s.count(ExpertResidency::kRam) + s.count(ExpertResidency::kPinned);
  policy_->setText(tr("Policy <b>%1</b> · budget %2 of %3 · %4 of %5 experts in RAM")
                       .arg(m.cache_policy.isEmpty() ? tr("?") : m.cache_policy,
                            format_bytes(m.ram_budget_bytes), format_bytes(m.all_experts_bytes))
                       .arg(in_ram)
                       .arg(s.n_layer() * s.n_expert()));
  const uint64_t lookups = s.hits() + s.misses();
  double pred_sum = 0, meas_sum = 0;
  for (const QPointF& p : pred) pred_sum += p.y();
  for (const QPointF& p : meas) meas_sum += p.y();
  const double n = std::max<double>(1, static_cast<double>(pred.size()));
  figures_->setText(
      tr("Hit rate %1 % (%2 hits, %3 misses) · disk %4 MB/s, %5 read · prefetch issued %6, "
         "used %7, wasted %8 (accuracy %9 %) · load wait per token: predicted %10 ms, "
         "measured %11 ms (mean of the last %12)")
          .arg(lookups ? 100.0 * static_cast<double>(s.hits()) / lookups : 0.0, 0, 'f', 1)
          .arg(s.hits())
          .arg(s.misses())
          .arg(s.disk_mb_per_s(), 0, 'f', 1)
          .arg(format_bytes(s.bytes_read()))
          .arg(s.prefetch_issued())
          .arg(s.prefetch_used())
          .arg(s.prefetch_wasted())
          .arg(s.prefetch_issued()
                   ? 100.0 * static_cast<double>(s.prefetch_used()) / s.prefetch_issued()
                   : 0.0,
               0, 'f', 0)
          .arg(pred_sum / n, 0, 'f', 2)
          .arg(meas_sum / n, 0, 'f', 2)
          .arg(pred.size()));
}

}  // namespace moe::ui
