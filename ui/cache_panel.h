#pragma once
// Expert cache (offloading) panel: hit rate over time and bytes moved, fed by CacheEvents.
// Until the offloading layer publishes any, it says so plainly.
#include <QWidget>

class QLabel;
class QStackedLayout;
class QLineSeries;
class QValueAxis;

namespace moe::ui {

class DashboardState;

class CachePanel : public QWidget {
  Q_OBJECT
 public:
  explicit CachePanel(QWidget* parent = nullptr);
  void update_from(const DashboardState& state);
  bool showing_placeholder() const;
  QString placeholder_text() const;

 private:
  QStackedLayout* stack_;
  QLabel *placeholder_, *figures_;
  QLineSeries* hit_rate_;
  QValueAxis* x_;
};

}  // namespace moe::ui
