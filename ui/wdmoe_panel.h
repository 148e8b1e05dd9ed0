#pragma once
// WDMoE view: per-device SNR, link rates and modelled per-expert latency of the channel
// scenario (eqs. 2-6), κ per token against θ (eq. 10), and how many experts the θ rule kept and
// dropped (Algorithm 1, from SelectionEvents).
#include <QVector>
#include <QWidget>

#include "ui/channel_scenario.h"

class QLabel;
class QLineSeries;
class QTableWidget;
class QValueAxis;
class QChartView;

namespace moe::ui {

class DashboardState;

class WdmoePanel : public QWidget {
  Q_OBJECT
 public:
  explicit WdmoePanel(QWidget* parent = nullptr);
  void set_devices(const QString& scenario, const QVector<DeviceLinkRow>& rows);
  void update_from(const DashboardState& state, float theta);

  QTableWidget* device_table() const { return table_; }
  QLabel* summary() const { return summary_; }

 private:
  QTableWidget* table_;
  QLabel *scenario_, *summary_;
  QChartView* kappa_view_;
  QLineSeries *kappa_, *theta_;
  QValueAxis* kx_;
};

}  // namespace moe::ui
