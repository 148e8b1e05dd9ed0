#include "ui/compact_form.h"

#include <QFormLayout>

namespace moe::ui {

QFormLayout* compact_form(QWidget* parent) {
  auto* f = new QFormLayout(parent);
  f->setRowWrapPolicy(QFormLayout::WrapLongRows);
  return f;
}

}  // namespace moe::ui
