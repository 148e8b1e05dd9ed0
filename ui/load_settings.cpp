#include "ui/load_settings.h"

#include <QSettings>
#include <cstdio>
#include <memory>

#include "core/store/ram_budget.h"
#include "netlink/device_deployment.h"

namespace moe::ui {
namespace {

Status error_for(const char* setting, const std::string& message) {
  return make_error(setting, ": ", message);
}

}  // namespace

Status check_load_settings(const LoadSettings& s) {
  Deployment d;
  return apply_load_settings(s, d);
}

Status apply_load_settings(const LoadSettings& s, Deployment& d) {
  if (const QString b = s.ram_budget.trimmed(); !b.isEmpty()) {
    auto budget = parse_ram_budget(b.toStdString());
    if (!budget.ok()) return error_for("RAM budget", budget.message());
    auto policy = parse_cache_policy(s.cache_policy.trimmed().toStdString());
    if (!policy.ok()) return error_for("Cache policy", policy.message());
    d.store = StoreKind::kTiered;
    d.ram_budget = *budget;
    d.cache_policy = *policy;
  }
  if (const QString list = s.devices.trimmed(); !list.isEmpty()) {
    auto devices = std::make_shared<net::DeviceSettings>();
    if (auto st = net::parse_devices(list.toStdString(), *devices); !st.ok()) {
      return error_for("Devices", st.message());
    }
    if (s.host_name.trimmed().isEmpty()) {
      return error_for("Host name",
                       "the name of this host's certificate in the PKI folder "
                       "(NAME.crt) is empty");
    }
    devices->pki = s.pki_dir.trimmed().toStdString();
    devices->host_name = s.host_name.trimmed().toStdString();
    devices->log = [](const std::string& line) {
      std::fprintf(stderr, "devices: %s\n", line.c_str());
    };
    d.executor = net::device_executor_factory(devices, [path = d.model_path] { return path; });
  }
  return {};
}

LoadSettings read_load_settings(const QSettings& settings) {
  LoadSettings s;
  s.ram_budget = settings.value("load/ram_budget", s.ram_budget).toString();
  s.cache_policy = settings.value("load/cache_policy", s.cache_policy).toString();
  s.devices = settings.value("load/devices", s.devices).toString();
  s.pki_dir = settings.value("load/pki_dir", s.pki_dir).toString();
  s.host_name = settings.value("load/host_name", s.host_name).toString();
  return s;
}

void write_load_settings(QSettings& settings, const LoadSettings& s) {
  settings.setValue("load/ram_budget", s.ram_budget);
  settings.setValue("load/cache_policy", s.cache_policy);
  settings.setValue("load/devices", s.devices);
  settings.setValue("load/pki_dir", s.pki_dir);
  settings.setValue("load/host_name", s.host_name);
}

}  // namespace moe::ui
