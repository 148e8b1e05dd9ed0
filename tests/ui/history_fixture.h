#pragma once
// Test helper: history databases with faults, made through ChatStore like the app's own.
#include <QString>

namespace moe::ui::test {

/// Writes a history with one conversation of `n_messages` messages ("message <i>: ..." padded
/// to ~250 bytes, so they span many pages), closes it, then overwrites one page in the middle
/// of the file with garbage. Returns the conversation id (0 on failure).
qint64 make_damaged_history(const QString& path, int n_messages);

/// The text of message i in make_damaged_history's conversation.
QString damaged_history_message(int i);

}  // namespace moe::ui::test
