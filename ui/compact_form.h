#pragma once
// Forms for the dashboard's narrow controls column.
class QFormLayout;
class QWidget;

namespace moe::ui {

/// A form layout on `parent` whose rows wrap (the field under its label) when the column is
/// narrow, instead of widening it: the column then never scrolls sideways.
QFormLayout* compact_form(QWidget* parent);

}  // namespace moe::ui
