#pragma once
// Devices on the LAN (DashboardState::lan(), from the remote executor's DeviceEvents): device,
// state, experts held, round trip, compute time, traffic, failures, TLS identity (the CN of its
// certificate) and an INSECURE flag for a plaintext connection; under the table, where the last
// answer was computed. Until a device appears it says so plainly. Beside the measured latency,
// the channel scenario's modelled t_q (WDMoE eq. 6, what the θ selector assumes) for the
// scenario device of the same name: modelled vs measured per device.
#include <QHash>
#include <QVector>
#include <QWidget>

class QLabel;
class QStackedLayout;
class QTableWidget;

namespace moe::ui {

class DashboardState;
class EngineController;
struct DeviceLinkRow;

class LanDevicesPanel : public QWidget {
  Q_OBJECT
 public:
  /// Columns of the table.
  enum Column {
    kDevice,
    kState,
    kExperts,
    kRtt,
    kCompute,
    kModelledTq,
    kMeasuredTq,
    kBytes,
    kFailures,
    kIdentity,
    kSecurity,
    kColumns
  };

  explicit LanDevicesPanel(EngineController* controller, QWidget* parent = nullptr);
  void update_from(const DashboardState& state);
  /// The channel scenario's devices: a LAN device whose certificate name is a scenario device's
  /// name shows that device's modelled t_q.
  void set_scenario(const QString& name, const QVector<DeviceLinkRow>& rows);
  bool showing_placeholder() const;
  QString placeholder_text() const;
  QTableWidget* table() const { return table_; }
  QLabel* computed_on() const { return computed_on_; }

 private:
  QStackedLayout* stack_;
  QLabel* placeholder_;
  QTableWidget* table_;
  QLabel* computed_on_;
  QString scenario_;
  QHash<QString, double> modelled_tq_ms_;  // by scenario device name
};

}  // namespace moe::ui
