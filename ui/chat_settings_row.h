#pragma once
// The chat's compact settings row: the model picker (recent models, the demo, Open…) and the
// answer settings a clinician changes (temperature, max answer tokens, system-prompt preset).
// The EngineController is the one source of truth: these widgets write to it and follow its
// settings_changed(), exactly like the operator tab's ControlPanel, so both always agree.
#include <QStringList>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QMenu;
class QSpinBox;
class QToolButton;

namespace moe::ui {

class EngineController;

class ChatSettingsRow : public QWidget {
  Q_OBJECT
 public:
  explicit ChatSettingsRow(EngineController* controller, QWidget* parent = nullptr);

  /// The recent model files offered by the picker (most recent first).
  void set_recent_models(const QStringList& paths);

  /// The system-prompt presets: name and text.
  static QVector<QPair<QString, QString>> prompt_presets();

  /// A button showing the loaded model; its menu lists the recent models, the demo and Open….
  QToolButton* model_picker() const { return model_; }
  QDoubleSpinBox* temperature() const { return temperature_; }
  QSpinBox* max_tokens() const { return max_tokens_; }
  QComboBox* prompt_preset() const { return preset_; }

 signals:
  void open_model_requested(const QString& path);
  void open_dialog_requested();
  void demo_requested();
  /// A preset was chosen: its text replaces the conversation's system prompt.
  void preset_chosen(const QString& text);

 private:
  void rebuild_models();
  void sync_from_controller();

  EngineController* controller_;
  QStringList recent_;
  QToolButton* model_;
  QMenu* model_menu_;
  QComboBox* preset_;
  QDoubleSpinBox* temperature_;
  QSpinBox* max_tokens_;
};

}  // namespace moe::ui
