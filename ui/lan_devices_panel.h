#pragma once
// Devices on the LAN (DeviceEvents from the LAN layer): id, state, round trip, compute time,
// RPC count. Until a device appears it says so plainly.
#include <QWidget>

class QLabel;
class QStackedLayout;
class QTableWidget;

namespace moe::ui {

class DashboardState;

class LanDevicesPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LanDevicesPanel(QWidget* parent = nullptr);
  void update_from(const DashboardState& state);
  bool showing_placeholder() const;
  QString placeholder_text() const;
  QTableWidget* table() const { return table_; }

 private:
  QStackedLayout* stack_;
  QLabel* placeholder_;
  QTableWidget* table_;
};

}  // namespace moe::ui
