#include "ui/load_settings_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <algorithm>

#include "ui/compact_form.h"
#include "ui/engine_controller.h"
#include "ui/load_settings.h"

namespace moe::ui {

LoadSettingsPanel::LoadSettingsPanel(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  setObjectName("loadSettingsPanel");
  auto* f = compact_form(this);
  f->setContentsMargins(0, 0, 0, 0);
  ram_budget_ = new QLineEdit;
  ram_budget_->setObjectName("loadRamBudget");
  ram_budget_->setPlaceholderText(tr("all experts in RAM"));
  ram_budget_->setToolTip(
      tr("Experts kept in RAM, the rest read from the model file: a share "
         "of the expert bytes (50%) or a size (512MiB, 12GiB)"));
  policy_ = new QComboBox;
  policy_->setObjectName("loadCachePolicy");
  for (const char* p : {"auto", "lru", "lfu", "pinned", "hybrid", "none"}) {
    policy_->addItem(p, QString(p));
  }
  policy_->setToolTip(tr("Which experts the RAM cache keeps (docs/offloading.md): auto is the "
                         "planner's choice on the model's routing profile (LRU without one), "
                         "none reads every expert from disk"));
  devices_ = new QLineEdit;
  devices_->setObjectName("loadDevices");
  devices_->setPlaceholderText(tr("none (all experts on this machine)"));
  devices_->setToolTip(
      tr("Run experts on LAN devices (moe-node): auto, or "
         "HOST:PORT[/NAME],... (NAME: the name in the device's certificate)"));
  pki_ = new QLineEdit;
  pki_->setObjectName("loadPkiDir");
  pki_->setPlaceholderText(tr("default (~/.config/moe-studio/pki)"));
  host_ = new QLineEdit;
  host_->setObjectName("loadHostName");
  host_->setToolTip(tr("This host's certificate in the PKI folder (NAME.crt, NAME.key)"));
  message_ = new QLabel;
  message_->setObjectName("loadSettingsMessage");
  message_->setWordWrap(true);
  reload_ = new QPushButton(tr("Reload the model with these settings"));
  reload_->setObjectName("reloadModel");
  f->addRow(tr("RAM budget"), ram_budget_);
  f->addRow(tr("Cache policy"), policy_);
  f->addRow(tr("Devices"), devices_);
  f->addRow(tr("PKI folder"), pki_);
  f->addRow(tr("Host name"), host_);
  f->addRow(message_);
  f->addRow(reload_);

  sync_from_controller();
  for (QLineEdit* e : {ram_budget_, devices_, pki_, host_})
    connect(e, &QLineEdit::editingFinished, this, &LoadSettingsPanel::push);
  connect(policy_, &QComboBox::currentIndexChanged, this, &LoadSettingsPanel::push);
  connect(reload_, &QPushButton::clicked, this, [this] {
    if (controller_->has_model()) {
      controller_->load_model(controller_->model().path, controller_->model().demo);
    }
  });
  connect(controller_, &EngineController::settings_changed, this,
          &LoadSettingsPanel::sync_from_controller);
  connect(controller_, &EngineController::generating_changed, this,
          [this](bool generating) { reload_->setEnabled(!generating); });
}

void LoadSettingsPanel::sync_from_controller() {
  const LoadSettings& s = controller_->load_settings();
  const QSignalBlocker b1(ram_budget_), b2(policy_), b3(devices_), b4(pki_), b5(host_);
  ram_budget_->setText(s.ram_budget);
  policy_->setCurrentIndex(std::max(0, policy_->findData(s.cache_policy)));
  devices_->setText(s.devices);
  pki_->setText(s.pki_dir);
  host_->setText(s.host_name);
}

void LoadSettingsPanel::push() {
  LoadSettings s;
  s.ram_budget = ram_budget_->text().trimmed();
  s.cache_policy = policy_->currentData().toString();
  s.devices = devices_->text().trimmed();
  s.pki_dir = pki_->text().trimmed();
  s.host_name = host_->text().trimmed();
  if (const Status st = check_load_settings(s); !st.ok()) {
    message_->setStyleSheet("color:#c0392b;");
    message_->setText(tr("Not taken: %1").arg(QString::fromStdString(st.message())));
    return;
  }
  message_->setStyleSheet("color:#44505c;");
  message_->setText(s == controller_->load_settings() ? message_->text()
                                                      : tr("Applies at the next model load."));
  controller_->set_load_settings(s);
}

}  // namespace moe::ui
