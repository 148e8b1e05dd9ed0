#include "ui/dashboard_widget.h"

#include <QGroupBox>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/cache_panel.h"
#include "ui/control_panel.h"
#include "ui/engine_controller.h"
#include "ui/lan_devices_panel.h"
#include "ui/layer_time_chart.h"
#include "ui/routing_heatmap.h"
#include "ui/throughput_chart.h"
#include "ui/wdmoe_panel.h"

namespace moe::ui {

namespace {
// At most this many events per tick: a burst (a long prefill) is spread over a few ticks
// instead of stalling one.
constexpr size_t kMaxEventsPerTick = 20000;

QGroupBox* group(const QString& title, QWidget* content) {
  auto* g = new QGroupBox(title);
  auto* v = new QVBoxLayout(g);
  v->setContentsMargins(6, 6, 6, 6);
  v->addWidget(content);
  return g;
}
}  // namespace

DashboardWidget::DashboardWidget(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  setObjectName("dashboard");
  controls_ = new ControlPanel(controller_);
  heatmap_ = new RoutingHeatmap;
  throughput_ = new ThroughputChart;
  layer_time_ = new LayerTimeChart;
  wdmoe_ = new WdmoePanel;
  cache_ = new CachePanel(controller_);
  devices_ = new LanDevicesPanel(controller_);
  headline_ = new QLabel(tr("No model loaded."));
  headline_->setObjectName("dashboardHeadline");
  headline_->setStyleSheet("font-size:14px;font-weight:600;color:#2c3e50;padding:2px 0 6px 0;");

  auto* scroll = new QScrollArea;
  scroll->setWidget(controls_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setMinimumWidth(300);
  scroll->setMaximumWidth(380);

  auto* charts = new QSplitter(Qt::Vertical);
  charts->addWidget(throughput_);
  charts->addWidget(layer_time_);
  auto* top = new QSplitter(Qt::Horizontal);
  auto* heat_box = new QWidget;
  auto* hv = new QVBoxLayout(heat_box);
  hv->setContentsMargins(0, 0, 0, 0);
  hv->addWidget(heatmap_, 1);
  auto* heat_caption = new QLabel(tr("Share of the last %1 tokens routed to each expert at each "
                                     "layer. Outline: the last token's route.")
                                      .arg(DashboardState::kWindowTokens));
  heat_caption->setWordWrap(true);
  heat_caption->setStyleSheet("color:#5d6874;");
  hv->addWidget(heat_caption);
  top->addWidget(group(tr("Routing heatmap (layer × expert)"), heat_box));
  top->addWidget(charts);
  top->setStretchFactor(0, 1);
  top->setStretchFactor(1, 1);
  auto* bottom = new QSplitter(Qt::Horizontal);
  bottom->addWidget(group(tr("Expert cache"), cache_));
  bottom->addWidget(group(tr("LAN devices"), devices_));
  auto* main = new QSplitter(Qt::Vertical);
  main->addWidget(top);
  main->addWidget(group(tr("WDMoE: channel, latency and θ-rule selection"), wdmoe_));
  main->addWidget(bottom);
  main->setStretchFactor(0, 5);
  main->setStretchFactor(1, 4);
  main->setStretchFactor(2, 2);
  for (QSplitter* s : {charts, top, bottom, main}) s->setChildrenCollapsible(false);
  main->setSizes({340, 280, 300});
  top->setSizes({420, 600});
  bottom->setSizes({560, 440});

  auto* right = new QWidget;
  auto* rv = new QVBoxLayout(right);
  rv->setContentsMargins(0, 0, 0, 0);
  rv->addWidget(headline_);
  rv->addWidget(main, 1);
  auto* outer = new QSplitter(Qt::Horizontal);
  outer->addWidget(group(tr("Controls"), scroll));
  outer->addWidget(right);
  outer->setStretchFactor(1, 1);
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->addWidget(outer);

  connect(controller_, &EngineController::model_loaded, this, &DashboardWidget::on_model_loaded);
  connect(controller_, &EngineController::scenario_changed, this,
          &DashboardWidget::refresh_scenario);
  refresh_scenario();
  clock_.start();
  timer_.setInterval(kRefreshMs);
  timer_.setTimerType(Qt::PreciseTimer);
  connect(&timer_, &QTimer::timeout, this, &DashboardWidget::refresh);
  timer_.start();
}

void DashboardWidget::on_model_loaded() {
  const ModelInfo& m = controller_->model();
  state_.reset(m.n_layer, m.n_expert, m.residency);
  refresh_scenario();
  refresh();
}

void DashboardWidget::refresh_scenario() {
  wdmoe_->set_devices(controller_->scenario().name(),
                      controller_->scenario().devices(controller_->model()));
}

void DashboardWidget::refresh() {
  buffer_.clear();
  if (auto q = controller_->event_queue()) q->drain(buffer_, kMaxEventsPerTick);
  events_seen_ += buffer_.size();
  state_.consume(buffer_);
  state_.tick(clock_.elapsed() / 1000.0);

  heatmap_->set_data(state_.n_layer(), state_.n_expert(), state_.heat(), state_.last_route(),
                     state_.window_tokens());
  throughput_->set_series(state_.tokens_per_s(), state_.now());
  layer_time_->set_layers(state_.layer_ms());
  wdmoe_->update_from(state_, controller_->theta());
  cache_->update_from(state_);
  devices_->update_from(state_);

  if (!controller_->has_model()) {
    headline_->setText(tr("No model loaded."));
    return;
  }
  const ModelInfo& m = controller_->model();
  auto q = controller_->event_queue();
  headline_->setText(tr("%1 · %2 layers × %3 experts · k = %4 · θ = %5 · %6 tokens/s%7")
                         .arg(m.name)
                         .arg(m.n_layer)
                         .arg(m.n_expert)
                         .arg(controller_->experts_per_token())
                         .arg(controller_->theta(), 0, 'f', 2)
                         .arg(state_.current_tokens_per_s(), 0, 'f', 1)
                         .arg(q && q->dropped() > 0
                                  ? tr(" · %1 events dropped (dashboard behind)").arg(q->dropped())
                                  : QString()));
}

}  // namespace moe::ui
