#include "ui/control_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/compact_form.h"
#include "ui/engine_controller.h"
#include "ui/load_settings_panel.h"

namespace moe::ui {

namespace {
QDoubleSpinBox* dspin(double lo, double hi, double step, int decimals) {
  auto* s = new QDoubleSpinBox;
  s->setRange(lo, hi);
  s->setSingleStep(step);
  s->setDecimals(decimals);
  return s;
}
}  // namespace

ControlPanel::ControlPanel(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  setObjectName("controlPanel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);

  auto* routing = new QGroupBox(tr("Expert selection (live)"));
  auto* rf = compact_form(routing);
  theta_ = new QSlider(Qt::Horizontal);
  theta_->setObjectName("thetaSlider");
  theta_->setRange(0, 50);  // θ = value / 100, 0 … 0.5
  theta_->setTickInterval(10);
  theta_->setTickPosition(QSlider::TicksBelow);
  theta_->setToolTip(tr("WDMoE θ: drop low weight-to-latency experts while κ < θ (0 = top-k)"));
  theta_label_ = new QLabel("0.00");
  theta_label_->setMinimumWidth(36);
  auto* theta_row = new QHBoxLayout;
  theta_row->addWidget(theta_, 1);
  theta_row->addWidget(theta_label_);
  rf->addRow(tr("θ threshold"), theta_row);
  k_ = new QSpinBox;
  k_->setObjectName("topK");
  k_->setRange(1, 8);
  k_->setToolTip(tr("Experts per token (Mixtral: 2)"));
  rf->addRow(tr("Experts per token"), k_);
  layout->addWidget(routing);

  auto* sampling = new QGroupBox(tr("Sampler (next answer)"));
  auto* sf = compact_form(sampling);
  temperature_ = dspin(0, 2, 0.05, 2);
  temperature_->setToolTip(tr("0 = greedy"));
  top_p_ = dspin(0.05, 1, 0.05, 2);
  sampler_k_ = new QSpinBox;
  sampler_k_->setRange(0, 1000);
  sampler_k_->setToolTip(tr("0 = off"));
  repeat_ = dspin(1, 2, 0.05, 2);
  seed_ = new QSpinBox;
  seed_->setRange(0, 1 << 30);
  max_tokens_ = new QSpinBox;
  max_tokens_->setObjectName("maxTokens");
  max_tokens_->setRange(1, 8192);
  sf->addRow(tr("Temperature"), temperature_);
  sf->addRow(tr("Top-p"), top_p_);
  sf->addRow(tr("Top-k (sampling)"), sampler_k_);
  sf->addRow(tr("Repeat penalty"), repeat_);
  pin_seed_ = new QCheckBox(tr("Pin the seed (Regenerate reuses it)"));
  pin_seed_->setObjectName("pinSeed");
  pin_seed_->setToolTip(
      tr("Off: each Regenerate samples with a fresh seed, for a different "
         "answer. On: the same settings give the same answer."));
  sf->addRow(tr("Seed"), seed_);
  sf->addRow(pin_seed_);  // a row of its own: beside the seed it widened the whole column
  sf->addRow(tr("Max answer tokens"), max_tokens_);
  layout->addWidget(sampling);

  auto* memory = new QGroupBox(tr("Memory (next model load)"));
  auto* mf = compact_form(memory);
  kv_type_ = new QComboBox;
  kv_type_->setObjectName("kvType");
  kv_type_->addItem(tr("F16 (half the memory)"), QStringLiteral("F16"));
  kv_type_->addItem(tr("F32 (exact)"), QStringLiteral("F32"));
  kv_type_->setToolTip(
      tr("Precision of the KV cache. F16 halves its memory (llama.cpp's "
         "default); F32 keeps results exact. Applies when a model is loaded."));
  mf->addRow(tr("KV cache"), kv_type_);
  memory_label_ = new QLabel;
  memory_label_->setObjectName("memoryPlan");
  memory_label_->setWordWrap(true);
  memory_label_->setStyleSheet("color:#44505c;");
  mf->addRow(memory_label_);
  layout->addWidget(memory);

  auto* placement = new QGroupBox(tr("Offloading and LAN devices (next model load)"));
  auto* pv = new QVBoxLayout(placement);
  load_settings_ = new LoadSettingsPanel(controller_);
  pv->addWidget(load_settings_);
  layout->addWidget(placement);

  auto* scen = new QGroupBox(tr("Channel scenario (WDMoE)"));
  auto* sv = new QVBoxLayout(scen);
  scenario_label_ = new QLabel;
  scenario_label_->setWordWrap(true);
  scenario_label_->setStyleSheet("color:#44505c;");
  load_scenario_ = new QPushButton(tr("Load scenario JSON…"));
  load_scenario_->setObjectName("loadScenario");
  default_scenario_ = new QPushButton(tr("Use the paper's 8-device scenario"));
  sv->addWidget(scenario_label_);
  sv->addWidget(load_scenario_);
  sv->addWidget(default_scenario_);
  layout->addWidget(scen);
  layout->addStretch(1);

  sync_from_controller();
  connect(theta_, &QSlider::valueChanged, this, [this](int v) {
    theta_label_->setText(QString::number(v / 100.0, 'f', 2));
    controller_->set_theta(static_cast<float>(v / 100.0));
  });
  connect(k_, &QSpinBox::valueChanged, this,
          [this](int v) { controller_->set_experts_per_token(v); });
  for (QDoubleSpinBox* s : {temperature_, top_p_, repeat_})
    connect(s, &QDoubleSpinBox::valueChanged, this, [this] { push_sampler(); });
  for (QSpinBox* s : {sampler_k_, seed_, max_tokens_})
    connect(s, &QSpinBox::valueChanged, this, [this] { push_sampler(); });
  connect(pin_seed_, &QCheckBox::toggled, this, [this] { push_sampler(); });
  connect(kv_type_, &QComboBox::currentIndexChanged, this, [this] {
    controller_->set_kv_type(kv_type_->currentData().toString() == "F32" ? KvType::kF32
                                                                         : KvType::kF16);
  });
  connect(load_scenario_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Load channel scenario"), {},
                                                      tr("Scenario (*.json)"));
    if (!path.isEmpty()) load_scenario_file(path);
  });
  connect(default_scenario_, &QPushButton::clicked, this,
          [this] { controller_->set_scenario(ChannelScenario::paper_default()); });
  connect(controller_, &EngineController::model_loaded, this, [this] { sync_from_controller(); });
  connect(controller_, &EngineController::scenario_changed, this,
          [this] { sync_from_controller(); });
  connect(controller_, &EngineController::settings_changed, this,
          [this] { sync_from_controller(); });
}

void ControlPanel::sync_from_controller() {
  const QSignalBlocker b1(theta_), b2(k_), b3(temperature_), b4(top_p_), b5(sampler_k_),
      b6(repeat_), b7(seed_), b8(max_tokens_), b9(kv_type_), b10(pin_seed_);
  kv_type_->setCurrentIndex(kv_type_->findData(QString(kv_type_name(controller_->kv_type()))));
  const ModelInfo& m = controller_->model();
  memory_label_->setText(controller_->has_model()
                             ? tr("Loaded: %1 KV cache, %2 for %3 tokens")
                                   .arg(m.kv_type, format_bytes(m.kv_cache_bytes))
                                   .arg(m.n_ctx)
                             : tr("No model loaded"));
  theta_->setValue(static_cast<int>(controller_->theta() * 100 + 0.5f));
  theta_label_->setText(QString::number(controller_->theta(), 'f', 2));
  k_->setMaximum(std::max(1, std::min(controller_->model().n_expert, 8)));
  k_->setValue(controller_->experts_per_token());
  const GenerationSettings& g = controller_->generation_settings();
  temperature_->setValue(g.sampler.temperature);
  top_p_->setValue(g.sampler.top_p);
  sampler_k_->setValue(g.sampler.top_k);
  repeat_->setValue(g.sampler.repeat_penalty);
  seed_->setValue(static_cast<int>(g.sampler.seed));
  pin_seed_->setChecked(g.pin_seed);
  max_tokens_->setMaximum(controller_->has_model() ? m.n_ctx : 8192);  // bounded by the context
  max_tokens_->setValue(g.max_new_tokens);
  const ChannelScenario& s = controller_->scenario();
  scenario_label_->setText(
      tr("%1 (%2 devices)\n%3").arg(s.name()).arg(s.n_devices()).arg(s.source()));
}

void ControlPanel::push_sampler() {
  GenerationSettings g = controller_->generation_settings();
  g.sampler.temperature = static_cast<float>(temperature_->value());
  g.sampler.top_p = static_cast<float>(top_p_->value());
  g.sampler.top_k = sampler_k_->value();
  g.sampler.repeat_penalty = static_cast<float>(repeat_->value());
  g.sampler.seed = static_cast<uint64_t>(seed_->value());
  g.pin_seed = pin_seed_->isChecked();
  g.max_new_tokens = max_tokens_->value();
  controller_->set_generation_settings(g);
}

bool ControlPanel::load_scenario_file(const QString& path) {
  auto s = ChannelScenario::load_file(path);
  if (!s.ok()) {
    QMessageBox::critical(this, tr("Cannot load the scenario"),
                          QString::fromStdString(s.message()));
    return false;
  }
  controller_->set_scenario(std::move(s).value());
  return true;
}

}  // namespace moe::ui
