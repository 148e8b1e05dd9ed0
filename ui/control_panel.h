#pragma once
// Operator controls applied live to the running engine: θ (WDMoE threshold), experts per token,
// sampler settings and answer length, and the channel scenario (JSON file); and the KV cache
// precision, which applies when a model is loaded.
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace moe::ui {

class EngineController;
class LoadSettingsPanel;

class ControlPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ControlPanel(EngineController* controller, QWidget* parent = nullptr);

  /// Loads a scenario file; on failure shows the parser's message in a QMessageBox.
  bool load_scenario_file(const QString& path);

  QSlider* theta_slider() const { return theta_; }
  QSpinBox* top_k() const { return k_; }
  QDoubleSpinBox* temperature() const { return temperature_; }
  QDoubleSpinBox* top_p() const { return top_p_; }
  QSpinBox* sampler_top_k() const { return sampler_k_; }
  QDoubleSpinBox* repeat_penalty() const { return repeat_; }
  QSpinBox* seed() const { return seed_; }
  QCheckBox* pin_seed() const { return pin_seed_; }
  QSpinBox* max_tokens() const { return max_tokens_; }
  QComboBox* kv_type() const { return kv_type_; }
  QPushButton* scenario_button() const { return load_scenario_; }
  QPushButton* default_scenario_button() const { return default_scenario_; }
  LoadSettingsPanel* load_settings() const { return load_settings_; }

 private:
  void sync_from_controller();
  void push_sampler();

  EngineController* controller_;
  QSlider* theta_;
  QLabel* theta_label_;
  QSpinBox *k_, *sampler_k_, *seed_, *max_tokens_;
  QDoubleSpinBox *temperature_, *top_p_, *repeat_;
  QComboBox* kv_type_;
  QCheckBox* pin_seed_;
  QLabel* memory_label_;
  QPushButton *load_scenario_, *default_scenario_;
  QLabel* scenario_label_;
  LoadSettingsPanel* load_settings_;
};

}  // namespace moe::ui
