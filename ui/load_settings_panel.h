#pragma once
// "Offloading and LAN devices (next model load)": the RAM budget and cache policy of the tiered
// expert store, and the LAN devices with the PKI folder and this host's certificate name. Each
// edit is checked by the parsers moe-cli uses (a bad value shows their message and is not
// taken); a valid set goes to the controller for the next load, and "Reload the model" applies
// it to the model now open.
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace moe::ui {

class EngineController;

class LoadSettingsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LoadSettingsPanel(EngineController* controller, QWidget* parent = nullptr);

  QLineEdit* ram_budget() const { return ram_budget_; }
  QComboBox* policy() const { return policy_; }
  QLineEdit* devices() const { return devices_; }
  QLineEdit* pki_dir() const { return pki_; }
  QLineEdit* host_name() const { return host_; }
  QLabel* message() const { return message_; }
  QPushButton* reload_button() const { return reload_; }

 private:
  void sync_from_controller();
  void push();

  EngineController* controller_;
  QLineEdit *ram_budget_, *devices_, *pki_, *host_;
  QComboBox* policy_;
  QLabel* message_;
  QPushButton* reload_;
};

}  // namespace moe::ui
