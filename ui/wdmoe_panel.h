#pragma once
// WDMoE view: per-device SNR, link rates and modelled per-expert latency of the channel
// scenario (eqs. 2-6), κ per token against θ (eq. 10), and how many experts the θ rule kept and
// dropped (Algorithm 1, from SelectionEvents) since the last setting change, per device and
// over time.
#include <QVector>
#include <QWidget>

#include "ui/channel_scenario.h"

class QLabel;
class QLineSeries;
class QTableWidget;
class QValueAxis;
class QChartView;

namespace moe::ui {

class ChartHover;
class DashboardState;
class SelectionHistoryChart;
struct TimeWindow;

class WdmoePanel : public QWidget {
  Q_OBJECT
 public:
  explicit WdmoePanel(QWidget* parent = nullptr);
  void set_devices(const QString& scenario, const QVector<DeviceLinkRow>& rows);
  void update_from(const DashboardState& state, float theta, const TimeWindow& window);

  /// Device table columns holding the experts kept / dropped since the last setting change.
  static constexpr int kKeptColumn = 8, kDroppedColumn = 9;
  QTableWidget* device_table() const { return table_; }
  QLabel* summary() const { return summary_; }
  QChartView* kappa_view() const { return kappa_view_; }
  QValueAxis* kappa_axis() const { return ky_; }
  ChartHover* kappa_hover() const { return kappa_hover_; }
  SelectionHistoryChart* history() const { return history_; }

 private:
  void set_number(int row, int column, const QString& text);

  QTableWidget* table_;
  QLabel *scenario_, *summary_;
  QChartView* kappa_view_;
  QLineSeries *kappa_, *theta_;
  QValueAxis *kx_, *ky_;
  ChartHover* kappa_hover_;
  SelectionHistoryChart* history_;
};

}  // namespace moe::ui
