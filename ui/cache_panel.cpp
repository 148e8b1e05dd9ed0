#include "ui/cache_panel.h"

#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLineSeries>
#include <QStackedLayout>
#include <QVBoxLayout>
#include <QValueAxis>

#include "ui/chart_style.h"
#include "ui/dashboard_state.h"
#include "ui/studio_types.h"

namespace moe::ui {

CachePanel::CachePanel(QWidget* parent) : QWidget(parent) {
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
  auto* chart = new QChart;
  style_chart(chart, tr("Expert cache hit rate"));
  hit_rate_ = new QLineSeries;
  hit_rate_->setPen(QPen(QColor(39, 174, 96), 2));
  chart->addSeries(hit_rate_);
  x_ = new QValueAxis;
  x_->setRange(-60, 0);
  x_->setLabelFormat("%.0f");
  auto* y = new QValueAxis;
  y->setRange(0, 1);
  y->setLabelFormat("%.1f");
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  hit_rate_->attachAxis(x_);
  hit_rate_->attachAxis(y);
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  figures_ = new QLabel;
  v->addWidget(view, 1);
  v->addWidget(figures_);
  stack_->addWidget(live);
}

bool CachePanel::showing_placeholder() const {
  return stack_->currentIndex() == 0;
}
QString CachePanel::placeholder_text() const {
  return placeholder_->text();
}

void CachePanel::update_from(const DashboardState& s) {
  if (!s.has_cache()) {
    stack_->setCurrentIndex(0);
    return;
  }
  stack_->setCurrentIndex(1);
  QList<QPointF> pts;
  for (const QPointF& p : s.cache_hit_rate()) pts.append(QPointF(p.x() - s.now(), p.y()));
  hit_rate_->replace(pts);
  const uint64_t lookups = s.cache_hits() + s.cache_misses();
  figures_->setText(tr("%1 hits, %2 misses (%3%) · %4 moved between tiers")
                        .arg(s.cache_hits())
                        .arg(s.cache_misses())
                        .arg(lookups ? 100.0 * s.cache_hits() / lookups : 0.0, 0, 'f', 1)
                        .arg(format_bytes(s.cache_bytes())));
}

}  // namespace moe::ui
