#pragma once
// How the next model load places experts: a RAM budget for the tiered expert store (and its
// cache policy), and LAN devices (moe-node) with the PKI folder and this host's certificate
// name. Text as the operator types it, checked by the same parsers moe-cli uses
// (parse_ram_budget, parse_cache_policy, net::parse_devices), persisted in QSettings.
#include <QString>

#include "core/deploy/deployment.h"
#include "core/util/status.h"

class QSettings;

namespace moe::ui {

struct LoadSettings {
  QString ram_budget;            ///< empty: every expert in RAM (mapped store); "50%", "512MiB"
  QString cache_policy = "auto";  ///< tiered store: auto, lru, lfu, pinned, hybrid, none
  QString devices;               ///< empty: none; "auto"; "HOST:PORT[/NAME],..."
  QString pki_dir;               ///< empty: the default PKI folder (`moe-cli pki`)
  QString host_name = "host";    ///< this host's certificate: PKI/NAME.crt
  bool operator==(const LoadSettings&) const = default;
};

/// Checks every field; the message names the setting and says what is accepted.
Status check_load_settings(const LoadSettings& s);
/// Fills the store and executor parts of `d` (whose model_path is set); an error as
/// check_load_settings(). Device connection lines go to stderr.
Status apply_load_settings(const LoadSettings& s, Deployment& d);

LoadSettings read_load_settings(const QSettings& settings);
void write_load_settings(QSettings& settings, const LoadSettings& s);

}  // namespace moe::ui
