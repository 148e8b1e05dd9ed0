#include "ui/dashboard_widget.h"

#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include "ui/cache_panel.h"
#include "ui/control_panel.h"
#include "ui/engine_controller.h"
#include "ui/lan_devices_panel.h"
#include "ui/layer_time_chart.h"
#include "ui/routing_heatmap.h"
#include "ui/telemetry_csv.h"
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

QScrollArea* scroll_area(QWidget* content) {
  auto* scroll = new QScrollArea;
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  return scroll;
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
  headline_->setWordWrap(true);
  headline_->setStyleSheet("font-size:14px;font-weight:600;color:#2c3e50;padding:2px 0 6px 0;");

  window_box_ = new QComboBox;
  window_box_->setObjectName("timeWindow");
  window_box_->addItems(window_kind_names());
  window_box_->setCurrentIndex(static_cast<int>(WindowKind::kLast60s));
  window_box_->setToolTip(tr("Time span of the time charts and of the CSV export"));
  pause_ = new QPushButton(tr("Pause"));
  pause_->setObjectName("pauseCharts");
  pause_->setCheckable(true);
  pause_->setToolTip(tr("Freeze the charts to read them; events are still counted"));
  export_ = new QPushButton(tr("Export CSV…"));
  export_->setObjectName("exportCsv");
  export_->setToolTip(tr("Save the telemetry of the shown time window as CSV"));
  export_status_ = new QLabel;
  export_status_->setObjectName("exportStatus");
  export_status_->setStyleSheet("color:#44505c;");
  auto* bar = new QHBoxLayout;
  bar->addWidget(headline_, 1);
  bar->addWidget(export_status_);
  bar->addWidget(new QLabel(tr("Window")));
  bar->addWidget(window_box_);
  bar->addWidget(pause_);
  bar->addWidget(export_);

  // The controls column is as wide as its controls need, so it never scrolls sideways (a field
  // cut at the right edge, or a second scroll bar, on a laptop screen), and at most 380 px.
  auto* controls_scroll = scroll_area(controls_);
  controls_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  const int controls_width = controls_->minimumSizeHint().width() +
                             controls_scroll->style()->pixelMetric(QStyle::PM_ScrollBarExtent);
  controls_scroll->setMinimumWidth(controls_width);
  controls_scroll->setMaximumWidth(std::max(controls_width, 380));

  auto* charts = new QSplitter(Qt::Vertical);
  charts->addWidget(throughput_);
  charts->addWidget(layer_time_);
  auto* top = new QSplitter(Qt::Horizontal);
  auto* heat_box = new QWidget;
  auto* hv = new QVBoxLayout(heat_box);
  hv->setContentsMargins(0, 0, 0, 0);
  hv->addWidget(heatmap_, 1);
  auto* heat_caption = new QLabel(tr("Share of the last %1 tokens routed to each expert at each "
                                     "layer. Outline: the latest token's route at each layer.")
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
  main->setStretchFactor(1, 5);
  main->setStretchFactor(2, 2);
  for (QSplitter* s : {charts, top, bottom, main}) s->setChildrenCollapsible(false);
  main->setSizes({340, 300, 300});
  top->setSizes({420, 600});
  bottom->setSizes({560, 440});
  // Small screens (1280×720): the panels keep the least height of their charts and device
  // table and scroll instead of squeezing them; on a large screen the scroll area is as big as
  // its content.
  panels_scroll_ = scroll_area(main);
  panels_scroll_->setObjectName("dashboardPanels");

  auto* right = new QWidget;
  auto* rv = new QVBoxLayout(right);
  rv->setContentsMargins(0, 0, 0, 0);
  rv->addLayout(bar);
  rv->addWidget(panels_scroll_, 1);
  auto* outer = new QSplitter(Qt::Horizontal);
  outer->addWidget(group(tr("Controls"), controls_scroll));
  outer->addWidget(right);
  outer->setStretchFactor(1, 1);
  outer->setChildrenCollapsible(false);
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(6, 6, 6, 6);
  root->addWidget(outer);

  connect(controller_, &EngineController::model_loaded, this, &DashboardWidget::on_model_loaded);
  connect(controller_, &EngineController::scenario_changed, this, [this] {
    refresh_scenario();
    on_settings_changed();
  });
  connect(controller_, &EngineController::settings_changed, this,
          &DashboardWidget::on_settings_changed);
  connect(controller_, &EngineController::generating_changed, this, [this](bool running) {
    if (running)
      answer_start_s_ = now_s(), answer_end_s_ = -1;
    else
      answer_end_s_ = now_s();
  });
  connect(window_box_, &QComboBox::currentIndexChanged, this, [this] {
    if (paused())
      frozen_ = make_window(static_cast<WindowKind>(window_box_->currentIndex()), frozen_.t1,
                            answer_start_s_, answer_end_s_);
    redraw();
  });
  connect(pause_, &QPushButton::toggled, this, [this](bool on) {
    pause_->setText(on ? tr("Resume") : tr("Pause"));
    frozen_ = make_window(static_cast<WindowKind>(window_box_->currentIndex()), now_s(),
                          answer_start_s_, answer_end_s_);
    if (!on) redraw();
  });
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString name = QString("moe-telemetry-%1.csv")
                             .arg(QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss"));
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export telemetry"), name, tr("CSV (*.csv)"));
    if (!path.isEmpty()) export_csv(path);
  });
  refresh_scenario();
  clock_.start();
  timer_.setInterval(kRefreshMs);
  timer_.setTimerType(Qt::PreciseTimer);
  connect(&timer_, &QTimer::timeout, this, &DashboardWidget::refresh);
  timer_.start();
}

bool DashboardWidget::paused() const {
  return pause_->isChecked();
}

TimeWindow DashboardWidget::current_window() const {
  if (paused()) return frozen_;
  return make_window(static_cast<WindowKind>(window_box_->currentIndex()), state_.now(),
                     answer_start_s_, answer_end_s_);
}

void DashboardWidget::on_model_loaded() {
  const ModelInfo& m = controller_->model();
  state_.reset(m.n_layer, m.n_expert, m.residency);
  refresh_scenario();
  settings_label_.clear();
  on_settings_changed();
  refresh();
}

void DashboardWidget::refresh_scenario() {
  const QVector<DeviceLinkRow> rows = controller_->scenario().devices(controller_->model());
  wdmoe_->set_devices(controller_->scenario().name(), rows);
  devices_->set_scenario(controller_->scenario().name(), rows);
  // Kept / dropped per device: each expert on the first device the placement gives it.
  std::vector<int> device_of(static_cast<size_t>(std::max(controller_->model().n_expert, 0)), -1);
  for (int q = 0; q < rows.size(); ++q)
    for (int e : rows[q].experts)
      if (e >= 0 && e < static_cast<int>(device_of.size()) && device_of[e] < 0) device_of[e] = q;
  state_.set_expert_devices(std::move(device_of), static_cast<int>(rows.size()));
}

QString DashboardWidget::settings_label() const {
  return tr("θ = %1 · k = %2 · %3")
      .arg(controller_->theta(), 0, 'f', 2)
      .arg(controller_->experts_per_token())
      .arg(controller_->scenario().name());
}

void DashboardWidget::on_settings_changed() {
  if (!controller_->has_model()) return;
  const QString label = settings_label();
  if (label == settings_label_) return;  // a sampler or memory setting: no new segment
  settings_label_ = label;
  drain();  // what the old setting produced still counts for it
  state_.mark_setting_change(now_s(), label);
}

void DashboardWidget::drain() {
  buffer_.clear();
  if (auto q = controller_->event_queue()) q->drain(buffer_, kMaxEventsPerTick);
  events_seen_ += buffer_.size();
  state_.consume(buffer_);
}

void DashboardWidget::refresh() {
  drain();
  state_.tick(now_s());
  if (!paused()) redraw();
}

void DashboardWidget::redraw() {
  const TimeWindow w = current_window();
  heatmap_->set_data(state_.n_layer(), state_.n_expert(), state_.heat(), state_.last_route(),
                     state_.window_tokens());
  throughput_->set_window(state_.telemetry(), w);
  layer_time_->set_layers(state_.layer_ms());
  wdmoe_->update_from(state_, controller_->theta(), w);
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

bool DashboardWidget::export_csv(const QString& path) {
  const TimeWindow w = current_window();
  const QString csv = telemetry_csv(state_.telemetry(), state_.markers(), w);
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(csv.toUtf8()) < 0 ||
      !f.commit()) {
    QMessageBox::warning(this, tr("Export failed"),
                         tr("Could not write %1:\n%2").arg(path, f.errorString()));
    return false;
  }
  export_status_->setText(tr("Saved %1 rows (%2) to %3")
                              .arg(csv.count('\n') - 1)
                              .arg(window_box_->currentText(), path));
  return true;
}

}  // namespace moe::ui
