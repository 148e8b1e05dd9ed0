#pragma once
// CSV export of the dashboard's telemetry: what the time charts show for the selected window,
// one row per 100 ms timer tick, a header row with the units, setting changes named in the row
// of the first tick after them. Opens in a spreadsheet or pandas as is.
#include <QString>
#include <deque>
#include <vector>

#include "ui/dashboard_state.h"

namespace moe::ui {

struct TimeWindow;

/// The header row (column names carry their units).
QString telemetry_csv_header();
QString telemetry_csv(const std::deque<TelemetrySample>& samples,
                      const std::vector<SettingMarker>& markers, const TimeWindow& w);

}  // namespace moe::ui
