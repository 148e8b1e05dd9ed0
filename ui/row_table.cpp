#include "ui/row_table.h"

#include <QTableView>

namespace moe::ui {

void make_row_table(QTableView* table) {
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setSelectionMode(QAbstractItemView::SingleSelection);
  // By default Tab moves to the next cell: a keyboard user could not get past a table.
  table->setTabKeyNavigation(false);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setFocusPolicy(Qt::StrongFocus);
  // The chat's focus colour (chat_window_layout.cpp), on the table alone (not its headers).
  table->setStyleSheet("QTableView:focus { border: 2px solid #2f6fd0; }");
}

}  // namespace moe::ui
