#include "ui/answer_recorder.h"

namespace moe::ui {

bool AnswerRecorder::start(qint64 conversation) {
  text_.clear();
  saved_ = 0;
  active_ = true;
  id_ = store_->begin_answer(conversation);
  return id_ != 0;
}

bool AnswerRecorder::checkpoint() {
  if (!active_ || id_ == 0 || text_.size() == saved_) return true;
  if (!store_->update_answer(id_, text_)) return false;
  saved_ = static_cast<int>(text_.size());
  return true;
}

bool AnswerRecorder::finish(StoredMessage m) {
  if (!active_) return true;
  active_ = false;
  if (id_ == 0) return false;
  m.role = "assistant";
  m.content = text_;
  if (!store_->finish_answer(id_, m)) return false;
  saved_ = static_cast<int>(text_.size());
  return true;
}

}  // namespace moe::ui
