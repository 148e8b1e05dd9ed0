#include "ui/chat_settings_row.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QSpinBox>
#include <QToolButton>

#include "ui/engine_controller.h"

namespace moe::ui {

namespace {
constexpr int kMaxTokensWithoutModel = 8192;
}  // namespace

QVector<QPair<QString, QString>> ChatSettingsRow::prompt_presets() {
  return {
      {tr("Clinical decision support"),
       "You are a careful clinical decision-support assistant. Answer concisely, state "
       "uncertainty, and recommend confirming with current guidelines."},
      {tr("Paediatrics"),
       "You are a careful paediatric decision-support assistant. Give weight-based doses with "
       "their units, state uncertainty, and recommend confirming with current guidelines."},
      {tr("Short answers"),
       "Answer in at most three sentences. State uncertainty. Decision support only."},
      {tr("Plain language for patients"),
       "Explain in plain language a patient can follow, without jargon. Recommend discussing "
       "decisions with their clinician."},
  };
}

ChatSettingsRow::ChatSettingsRow(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  setObjectName("chatSettings");
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  // A menu, not a combo box: moving through a closed combo box with the arrows would load
  // every model passed over.
  model_ = new QToolButton;
  model_->setObjectName("modelPicker");
  model_->setToolTip(tr("The model that answers: a recent one, the demo, or a GGUF file"));
  model_->setPopupMode(QToolButton::InstantPopup);
  model_->setToolButtonStyle(Qt::ToolButtonTextOnly);
  model_menu_ = new QMenu(model_);
  model_menu_->setObjectName("modelMenu");
  model_->setMenu(model_menu_);
  temperature_ = new QDoubleSpinBox;
  temperature_->setObjectName("chatTemperature");
  temperature_->setRange(0, 2);
  temperature_->setSingleStep(0.05);
  temperature_->setToolTip(tr("0 = always the most likely words; higher = more varied"));
  max_tokens_ = new QSpinBox;
  max_tokens_->setObjectName("chatMaxTokens");
  max_tokens_->setRange(1, kMaxTokensWithoutModel);
  max_tokens_->setToolTip(tr("Longest answer, in tokens (at most the model's context)"));
  preset_ = new QComboBox;
  preset_->setObjectName("promptPreset");
  preset_->addItem(tr("System prompt preset…"));
  for (const auto& [name, text] : prompt_presets()) preset_->addItem(name, text);
  auto label = [](const QString& text, QWidget* buddy) {
    auto* l = new QLabel(text);
    l->setBuddy(buddy);
    return l;
  };
  row->addWidget(label(tr("&Model"), model_));
  row->addWidget(model_);
  row->addSpacing(8);
  row->addWidget(label(tr("&Temperature"), temperature_));
  row->addWidget(temperature_);
  row->addWidget(label(tr("Max &answer tokens"), max_tokens_));
  row->addWidget(max_tokens_);
  row->addSpacing(8);
  row->addWidget(preset_);
  row->addStretch(1);

  sync_from_controller();
  rebuild_models();
  auto push = [this] {
    GenerationSettings g = controller_->generation_settings();
    g.sampler.temperature = static_cast<float>(temperature_->value());
    g.max_new_tokens = max_tokens_->value();
    controller_->set_generation_settings(g);
  };
  connect(temperature_, &QDoubleSpinBox::valueChanged, this, push);
  connect(max_tokens_, &QSpinBox::valueChanged, this, push);
  connect(preset_, &QComboBox::activated, this, [this](int i) {
    if (i > 0) emit preset_chosen(preset_->itemData(i).toString());
  });
  connect(controller_, &EngineController::settings_changed, this,
          &ChatSettingsRow::sync_from_controller);
  connect(controller_, &EngineController::model_loaded, this, [this] {
    sync_from_controller();
    rebuild_models();
  });
}

void ChatSettingsRow::set_recent_models(const QStringList& paths) {
  recent_ = paths;
  rebuild_models();
}

void ChatSettingsRow::rebuild_models() {
  const ModelInfo& m = controller_->model();
  model_->setText(controller_->has_model() ? m.name : tr("No model loaded"));
  model_menu_->clear();
  for (const QString& path : recent_) {
    if (controller_->has_model() && path == m.path) continue;
    QAction* a = model_menu_->addAction(QFileInfo(path).fileName(), this,
                                        [this, path] { emit open_model_requested(path); });
    a->setToolTip(path);
    a->setData(path);
  }
  if (!model_menu_->isEmpty()) model_menu_->addSeparator();
  model_menu_->addAction(tr("Demo model"), this, &ChatSettingsRow::demo_requested);
  model_menu_->addAction(tr("Open model…"), this, &ChatSettingsRow::open_dialog_requested);
}

void ChatSettingsRow::sync_from_controller() {
  const QSignalBlocker b1(temperature_), b2(max_tokens_);
  // An answer cannot be longer than the context the model was loaded with.
  max_tokens_->setMaximum(controller_->has_model() ? controller_->model().n_ctx
                                                   : kMaxTokensWithoutModel);
  // Only what changed: re-setting a value being typed would reformat it under the cursor.
  const GenerationSettings& g = controller_->generation_settings();
  if (static_cast<float>(temperature_->value()) != g.sampler.temperature)
    temperature_->setValue(g.sampler.temperature);
  if (max_tokens_->value() != g.max_new_tokens) max_tokens_->setValue(g.max_new_tokens);
}

}  // namespace moe::ui
