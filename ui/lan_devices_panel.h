#pragma once
// Devices on the LAN (DashboardState::lan(), from the remote executor's DeviceEvents): device,
// state, experts held, round trip, compute time, traffic, failures, TLS identity (the CN of its
// certificate) and an INSECURE flag for a plaintext connection; under the table, where the last
// answer was computed. Until a device appears it says so plainly.
#include <QWidget>

class QLabel;
class QStackedLayout;
class QTableWidget;

namespace moe::ui {

class DashboardState;
class EngineController;

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
    kBytes,
    kFailures,
    kIdentity,
    kSecurity,
    kColumns
  };

  explicit LanDevicesPanel(EngineController* controller, QWidget* parent = nullptr);
  void update_from(const DashboardState& state);
  bool showing_placeholder() const;
  QString placeholder_text() const;
  QTableWidget* table() const { return table_; }
  QLabel* computed_on() const { return computed_on_; }

 private:
  QStackedLayout* stack_;
  QLabel* placeholder_;
  QTableWidget* table_;
  QLabel* computed_on_;
};

}  // namespace moe::ui
