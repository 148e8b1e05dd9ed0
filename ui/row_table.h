#pragma once
// The dashboard's read-only tables as a keyboard user moves through them.
class QTableView;

namespace moe::ui {

/// Up / Down select whole rows, one at a time (a device is a row, not a cell); Tab and
/// Shift+Tab leave the table instead of walking its cells; the focused table is outlined;
/// nothing is editable.
void make_row_table(QTableView* table);

}  // namespace moe::ui
