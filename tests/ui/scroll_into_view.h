#pragma once
// Scrolls the scroll areas around a widget until all of it is in view, as a user scrolls to it.
// Not QScrollArea::ensureWidgetVisible: for a widget with an input-method cursor rectangle
// (a chart view's scene, a line edit) it only brings that small rectangle into view.
#include <QScrollArea>
#include <QTest>
#include <QWidget>

namespace moe::ui::test {

inline void scroll_into_view(QWidget* c) {
  for (QWidget* p = c->parentWidget(); p; p = p->parentWidget())
    if (auto* area = qobject_cast<QScrollArea*>(p); area && area->widget()) {
      const QRect r(c->mapTo(area->widget(), QPoint(0, 0)), c->size());
      area->ensureVisible(r.center().x(), r.center().y(), r.width() / 2 + 1, r.height() / 2 + 1);
    }
  QTest::qWait(20);
}

}  // namespace moe::ui::test
