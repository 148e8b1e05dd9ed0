// Small screens (issue 17, point 12): the app at 1280×720 and 1366×768, a real window (xcb
// under Xvfb) on the demo model with a 50 % RAM budget (so the expert cache charts are live).
// What an operator on a laptop needs: the controls column never scrolls sideways, every chart's
// texts (tick labels, axis titles, chart titles, legends) are drawn whole, not elided to "...",
// the simulated devices' rows are all shown together, and the chat can be used.
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QGraphicsTextItem>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSlider>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <QtCharts/QChartView>

#include "scroll_into_view.h"
#include "studio_fixture.h"
#include "ui/chat_window.h"
#include "ui/control_panel.h"
#include "ui/dashboard_widget.h"
#include "ui/load_settings_panel.h"
#include "ui/transcript_view.h"
#include "ui/wdmoe_panel.h"

using namespace moe::ui;
using moe::ui::test::Studio;

namespace {

const QList<QSize> kScreens = {QSize(1280, 720), QSize(1366, 768)};

QString size_name(QSize s) {
  return QString("%1×%2").arg(s.width()).arg(s.height());
}

/// The part of `c` its ancestors (scroll area viewports, the window) do not clip, in `c`'s
/// own coordinates.
QRect unclipped(QWidget* c) {
  QRect r = c->rect();
  QPoint offset;  // c's origin in the current ancestor's coordinates
  QWidget* w = c;
  for (QWidget* p = c->parentWidget(); p; w = p, p = p->parentWidget()) {
    offset += w->pos();
    r &= p->rect().translated(-offset);
  }
  return r;
}

QScrollArea* enclosing_scroll_area(QWidget* c) {
  for (QWidget* p = c->parentWidget(); p; p = p->parentWidget())
    if (auto* area = qobject_cast<QScrollArea*>(p)) return area;
  return nullptr;
}

/// Shows the window at `screen` and the given tab; false if the window cannot be that small.
bool show_at(Studio& s, QSize screen, int tab) {
  MainWindow& w = s.window();
  w.resize(screen);
  w.tabs()->setCurrentIndex(tab);
  s.activate();
  QTest::qWait(150);  // layouts and the charts' scenes settle over a few event-loop turns
  return w.size() == screen;
}

/// The texts each chart draws (axis tick labels and titles, the chart title, legend entries)
/// that Qt Charts shortened to fit: it ends them with "..." when the space is too small.
QStringList elided_chart_texts(DashboardWidget* dash) {
  QStringList out;
  for (QChartView* v : dash->findChildren<QChartView*>()) {
    if (!v->isVisible()) continue;
    for (QGraphicsItem* item : v->scene()->items()) {
      auto* text = dynamic_cast<QGraphicsTextItem*>(item);
      if (!text || !text->isVisible()) continue;
      const QString t = text->toPlainText();
      if (t.contains("...") || t.contains(QChar(0x2026)))
        out << QString("%1: \"%2\"").arg(v->objectName(), t);
    }
  }
  return out;
}

bool load_demo_with_half_budget(Studio& s) {
  s.window().tabs()->setCurrentWidget(s.window().dashboard());
  s.activate();
  QLineEdit* budget = s.window().dashboard()->controls()->load_settings()->ram_budget();
  QTest::mouseClick(budget, Qt::LeftButton);
  QTest::keyClick(budget, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(budget, "50%");
  QTest::keyClick(budget, Qt::Key_Return);
  return s.load_demo();
}

}  // namespace

class SmallScreenTest : public QObject {
  Q_OBJECT
 private slots:
  void controlsColumnNeverScrollsSideways();
  void chartTextsAreNotElided();
  void everyDeviceRowIsShown();
  void chatIsUsable();
};

// The controls column fits its width: no horizontal scroll bar, and every field, label and
// button of it lies whole inside the column (nothing clipped at the right edge instead).
void SmallScreenTest::controlsColumnNeverScrollsSideways() {
  Studio s;
  QVERIFY(s.load_demo());
  DashboardWidget* dash = s.window().dashboard();
  QScrollArea* area = enclosing_scroll_area(dash->controls());
  QVERIFY(area != nullptr);
  for (const QSize screen : kScreens) {
    QVERIFY2(show_at(s, screen, 1), qPrintable(size_name(screen)));
    QVERIFY2(
        !area->horizontalScrollBar()->isVisible() && area->horizontalScrollBar()->maximum() == 0,
        qPrintable(QString("%1: the controls scroll sideways by %2 px")
                       .arg(size_name(screen))
                       .arg(area->horizontalScrollBar()->maximum())));
    QList<QWidget*> parts;
    for (QWidget* c : dash->controls()->findChildren<QWidget*>())
      if (qobject_cast<QAbstractSpinBox*>(c) || qobject_cast<QComboBox*>(c) ||
          qobject_cast<QLineEdit*>(c) || qobject_cast<QAbstractButton*>(c) ||
          qobject_cast<QSlider*>(c) || qobject_cast<QLabel*>(c))
        if (c->isVisibleTo(dash->controls()) && !qobject_cast<QAbstractSpinBox*>(c->parent()))
          parts << c;
    QVERIFY(parts.size() >= 20);
    for (QWidget* c : parts) {
      test::scroll_into_view(c);
      const QRect seen = unclipped(c);
      QVERIFY2(seen.width() == c->width(),
               qPrintable(QString("%1: %2 \"%3\" shows %4 of its %5 px width")
                              .arg(size_name(screen), c->metaObject()->className(),
                                   c->property("text").toString())
                              .arg(seen.width())
                              .arg(c->width())));
    }
  }
}

// After an answer (every chart has data) each chart draws its texts whole at both sizes.
void SmallScreenTest::chartTextsAreNotElided() {
  Studio s;
  QVERIFY(load_demo_with_half_budget(s));
  QVERIFY(s.ask("Treatment of community-acquired pneumonia?", 40).generated_tokens > 0);
  DashboardWidget* dash = s.window().dashboard();
  for (const QSize screen : kScreens + QList<QSize>{QSize(1600, 1000)}) {  // and a large one
    QVERIFY2(show_at(s, screen, 1), qPrintable(size_name(screen)));
    dash->refresh();
    QTest::qWait(100);
    int charts = 0;
    for (QChartView* v : dash->findChildren<QChartView*>()) charts += v->isVisible();
    // Throughput, time per layer, κ, θ rule over time, expert-load wait.
    QVERIFY2(charts >= 5, qPrintable(QString::number(charts)));
    const QStringList elided = elided_chart_texts(dash);
    if (kScreens.contains(screen))  // ui.dash.heatmapPlaceholderAndOutline takes the large one
      test::save_screenshot(
          &s.window(), QString("dashboard_%1x%2.png").arg(screen.width()).arg(screen.height()));
    QVERIFY2(elided.isEmpty(), qPrintable(size_name(screen) + ": " + elided.join("; ")));
  }
}

// The paper scenario's eight device rows are all on screen together once the panels are
// scrolled to the table: the table does not scroll inside the scrolling panels (a wheel over it
// would move one or the other), and no row is cut.
void SmallScreenTest::everyDeviceRowIsShown() {
  Studio s;
  QVERIFY(s.load_demo());
  QTableWidget* t = s.window().dashboard()->wdmoe()->device_table();
  for (const QSize screen : kScreens) {
    QVERIFY2(show_at(s, screen, 1), qPrintable(size_name(screen)));
    QCOMPARE(t->rowCount(), 8);
    test::scroll_into_view(t);
    QVERIFY2(t->verticalScrollBar()->maximum() == 0,
             qPrintable(QString("%1: the device table scrolls by %2 rows")
                            .arg(size_name(screen))
                            .arg(t->verticalScrollBar()->maximum())));
    const QRect seen_viewport = unclipped(t->viewport());
    for (int row = 0; row < t->rowCount(); ++row) {
      const QRect cell = t->visualItemRect(t->item(row, 0));
      const QRect seen = seen_viewport & cell;
      QVERIFY2(seen == cell && cell.height() >= t->fontMetrics().height(),
               qPrintable(QString("%1: device row %2 shows %3 of its %4 px")
                              .arg(size_name(screen))
                              .arg(row)
                              .arg(seen.height())
                              .arg(cell.height())));
    }
  }
}

// The chat at both sizes: conversation list, transcript, question box and Send are on screen
// with a usable size, and a question typed and sent with the keyboard gets its answer.
void SmallScreenTest::chatIsUsable() {
  Studio s;
  QVERIFY(s.load_demo());
  ChatWindow* chat = s.window().chat();
  for (const QSize screen : kScreens) {
    QVERIFY2(show_at(s, screen, 0), qPrintable(size_name(screen)));
    const QList<QPair<QWidget*, QSize>> parts = {{chat->conversation_list(), QSize(150, 120)},
                                                 {chat->transcript(), QSize(400, 200)},
                                                 {chat->input(), QSize(300, 40)},
                                                 {chat->send_button(), QSize(40, 20)}};
    for (const auto& [w, least] : parts) {
      const QRect seen = unclipped(w);
      QVERIFY2(w->isVisible() && seen.width() >= least.width() && seen.height() >= least.height(),
               qPrintable(QString("%1: %2 shows %3×%4")
                              .arg(size_name(screen), w->metaObject()->className())
                              .arg(seen.width())
                              .arg(seen.height())));
    }
    QVERIFY(
        s.ask(QString("Dose of paracetamol at %1?").arg(size_name(screen)), 8).generated_tokens >
        0);
    QVERIFY(chat->transcript()->toPlainText().contains(size_name(screen)));
  }
  test::save_screenshot(&s.window(), "chat_1366x768.png");
}

QTEST_MAIN(SmallScreenTest)
#include "small_screen_test.moc"
