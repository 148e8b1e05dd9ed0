// Issue 17, point 11 (keyboard), the dashboard's tables: a keyboard user moves through them by
// row, Tab leaves them (it used to walk every cell, so the controls after a table could not be
// reached), and the focused table is outlined. Real window under Xvfb, real engine, demo model.
#include <QItemSelectionModel>
#include <QTableWidget>
#include <QTest>

#include "studio_fixture.h"
#include "ui/dashboard_widget.h"
#include "ui/wdmoe_panel.h"

using namespace moe::ui;
using moe::ui::test::Studio;

namespace {

// Pixels of the focus outline colour (chat_window_layout.cpp, row_table.cpp) in `w`.
int outline_pixels(QWidget* w) {
  const QImage img = w->grab().toImage();
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) n += img.pixelColor(x, y) == QColor("#2f6fd0");
  return n;
}

// The rows wholly selected, as row numbers.
QList<int> selected_rows(QTableWidget* t) {
  QList<int> rows;
  for (const QModelIndex& i : t->selectionModel()->selectedRows()) rows << i.row();
  return rows;
}

}  // namespace

class KeyboardTablesTest : public QObject {
  Q_OBJECT
 private slots:
  void devicesTableMovesByRowAndTabLeavesIt();
};

void KeyboardTablesTest::devicesTableMovesByRowAndTabLeavesIt() {
  Studio s;
  QVERIFY(s.load_demo());
  s.window().tabs()->setCurrentWidget(s.window().dashboard());
  s.activate();
  QTableWidget* t = s.window().dashboard()->wdmoe()->device_table();
  QTRY_VERIFY(t->isVisible() && t->rowCount() >= 2);
  // A click on a cell selects its whole row.
  t->scrollToTop();
  QTest::mouseClick(t->viewport(), Qt::LeftButton, {}, t->visualItemRect(t->item(0, 1)).center());
  QCOMPARE(s.window().focusWidget(), t);
  QCOMPARE(selected_rows(t), QList<int>{0});
  // Down moves to the next device: one row selected, every column of it.
  QTest::keyClick(t, Qt::Key_Down);
  QCOMPARE(t->currentRow(), 1);
  QCOMPARE(selected_rows(t), QList<int>{1});
  QCOMPARE(t->selectionModel()->selectedIndexes().size(), t->columnCount());
  QTest::keyClick(t, Qt::Key_Up);
  QCOMPARE(selected_rows(t), QList<int>{0});
  // Visible focus, then Tab goes on to the next control instead of the next cell.
  const int focused = outline_pixels(t);
  QTest::keyClick(t, Qt::Key_Tab);
  QVERIFY(s.window().focusWidget() != t);
  QCOMPARE(t->currentRow(), 0);
  QVERIFY2(
      focused > 100 && outline_pixels(t) == 0,
      qPrintable(
          QString("%1 outline pixels focused, %2 after Tab").arg(focused).arg(outline_pixels(t))));
  QTest::keyClick(s.window().focusWidget(), Qt::Key_Tab, Qt::ShiftModifier);
  QCOMPARE(s.window().focusWidget(), t);
}

QTEST_MAIN(KeyboardTablesTest)
#include "keyboard_tables_test.moc"
