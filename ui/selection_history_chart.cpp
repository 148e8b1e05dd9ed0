#include "ui/selection_history_chart.h"

#include <QChart>
#include <QLineSeries>
#include <QPainter>
#include <QValueAxis>
#include <algorithm>

#include "ui/chart_hover.h"
#include "ui/chart_style.h"
#include "ui/nice_axis.h"
#include "ui/time_window.h"

namespace moe::ui {

SelectionHistoryChart::SelectionHistoryChart(QWidget* parent) : QChartView(parent) {
  setObjectName("selectionHistoryChart");
  auto* chart = new QChart;
  style_chart(chart, tr("θ rule over time (markers: setting changes)"), true);
  kept_ = new QLineSeries;
  kept_->setName(tr("experts kept per token-layer"));
  kept_->setPen(QPen(QColor(211, 84, 0), 2));
  latency_ = new QLineSeries;
  latency_->setName(tr("modelled layer latency, ms (eq. 7)"));
  latency_->setPen(QPen(QColor(46, 134, 193), 1.5));
  chart->addSeries(kept_);
  chart->addSeries(latency_);
  x_ = new QValueAxis;
  y_kept_ = new QValueAxis;
  y_kept_->setTitleText(tr("experts"));
  y_ms_ = new QValueAxis;
  y_ms_->setTitleText(tr("ms"));
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_kept_, Qt::AlignLeft);
  chart->addAxis(y_ms_, Qt::AlignRight);
  kept_->attachAxis(x_);
  kept_->attachAxis(y_kept_);
  latency_->attachAxis(x_);
  latency_->attachAxis(y_ms_);
  apply_axis(y_kept_, nice_axis(0, 2));
  apply_axis(y_ms_, nice_axis(0, 1));
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(kLegendChartMinHeight);
  hover_ = new ChartHover(this, kept_, [this](QPointF v) {
    const QList<QPointF> kept = kept_->points(), ms = latency_->points();
    const QPointF* k = nearest_by_x(kept, v.x());
    if (!k) return QString();
    const QPointF* l = nearest_by_x(ms, k->x());
    return tr("%1 s: %2 experts kept per token-layer, modelled latency %3 ms")
        .arg(k->x(), 0, 'f', 1)
        .arg(k->y(), 0, 'f', 2)
        .arg(l ? l->y() : 0.0, 0, 'f', 3);
  });
}

void SelectionHistoryChart::set_window(const std::deque<TelemetrySample>& samples,
                                       const std::vector<SettingMarker>& markers,
                                       const TimeWindow& w) {
  const auto [first, last] = samples_in(samples, w);
  const size_t stride = thinning_stride(last - first);
  QList<QPointF> kept, ms;
  double kmax = 1, msmax = 1e-3;
  for (size_t i = first; i < last; i += stride) {
    const TelemetrySample& s = samples[i];
    if (s.selections == 0) continue;  // the θ rule did not run: no point, not a zero
    kept.append(QPointF(s.t_s - w.origin, s.kept));
    ms.append(QPointF(s.t_s - w.origin, s.latency_ms));
    kmax = std::max(kmax, s.kept + s.dropped);
    msmax = std::max(msmax, s.latency_ms);
  }
  kept_->replace(kept);
  latency_->replace(ms);
  x_->setTitleText(w.axis_title);
  apply_axis(x_, fitted_axis(chart(), x_, w.x_min(), w.x_max(), 7));
  apply_axis(y_kept_, fitted_axis(chart(), y_kept_, 0, kmax));
  apply_axis(y_ms_, fitted_axis(chart(), y_ms_, 0, msmax * 1.1));
  markers_.clear();
  for (const SettingMarker& m : markers)
    if (m.t_s >= w.t0 && m.t_s <= w.t1) markers_.push_back({m.t_s - w.origin, m.label});
  viewport()->update();  // the markers are painted in the foreground
}

QList<QPointF> SelectionHistoryChart::kept_points() const {
  return kept_->points();
}

void SelectionHistoryChart::drawForeground(QPainter* painter, const QRectF& rect) {
  QChartView::drawForeground(painter, rect);
  const QRectF plot = chart()->plotArea();
  painter->save();
  painter->setPen(QPen(QColor(90, 90, 90), 1, Qt::DashLine));
  const QFontMetrics fm = painter->fontMetrics();
  for (const SettingMarker& m : markers_) {
    const double x = chart()->mapToPosition(QPointF(m.t_s, 0), kept_).x();
    if (x < plot.left() || x > plot.right()) continue;
    painter->drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
    painter->drawText(QPointF(x + 3, plot.top() + fm.ascent()), m.label);
  }
  painter->restore();
}

}  // namespace moe::ui
