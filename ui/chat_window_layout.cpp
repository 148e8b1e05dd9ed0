// ChatWindow's widgets and layout (the behaviour is in chat_window.cpp).
#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/chat_settings_row.h"
#include "ui/chat_window.h"
#include "ui/conversation_panel.h"
#include "ui/engine_controller.h"
#include "ui/transcript_view.h"

namespace moe::ui {

namespace {
// The notices' colours: background, border, text. One tone per kind of message, so that the
// same kind looks the same wherever it appears.
struct Tone {
  const char *background, *border, *text;
};
constexpr Tone kCaution{"#fff4d6", "#e8c96b", "#5c4300"};   // not a diagnosis; editing
constexpr Tone kInfo{"#e7f0fb", "#9dbbe0", "#1d3f66"};      // demo model; no model loaded
constexpr Tone kDamage{"#fde8e8", "#e0a0a0", "#6b1d1d"};    // a damaged history
constexpr Tone kPrivate{"#ece6f7", "#a592cc", "#33225c"};   // not saved
constexpr Tone kOverflow{"#ffe9d6", "#f0a868", "#6b3300"};  // the context is full

QString frame(const Tone& t) {
  return QString("background:%1;border:1px solid %2;border-radius:4px;")
      .arg(t.background, t.border);
}

QLabel* banner(const QString& name, const QString& text, const QString& style) {
  auto* l = new QLabel(text);
  l->setObjectName(name);
  l->setWordWrap(true);
  l->setStyleSheet(style);
  return l;
}

QLabel* banner(const QString& name, const QString& text, const Tone& t) {
  return banner(name, text, frame(t) + QString("padding:6px 10px;color:%1;").arg(t.text));
}

// A framed row of widgets (a message with its buttons): `row` named `name`, its layout returned.
// The frame is set on the name alone, or every child would draw one too.
QHBoxLayout* framed_row(QWidget* row, const QString& name, const Tone& t) {
  row->setObjectName(name);
  row->setStyleSheet(QString("#%1{%2}").arg(name, frame(t)));
  return new QHBoxLayout(row);
}
}  // namespace

QString ChatWindow::random_demo_notice() {
  return tr(
      "<b>Demo model with random weights.</b> It shows the system working (streaming, "
      "routing, WDMoE selection) but its answers are meaningless text. Open a real model "
      "with File ▸ Open model…");
}

QString ChatWindow::trained_demo_notice() {
  return tr(
      "<b>Demo model: a tiny 9M-parameter Mixtral-style MoE trained for three hours on "
      "2 CPU cores on WordNet dictionary definitions.</b> Ask it \"What is a fever?\": it "
      "recites WordNet's definitions of about 1,300 medical and everyday words it was "
      "drilled on and gets other words wrong. It knows nothing else and is <b>not medical "
      "advice</b>. Open a real model with File ▸ Open model…");
}

void ChatWindow::build_ui() {
  // Focus is always visible: the clinician may drive the chat by keyboard alone.
  setStyleSheet(
      "QPushButton:focus, QLineEdit:focus, QPlainTextEdit:focus, QListWidget:focus, "
      "QTextBrowser:focus, QComboBox:focus, QAbstractSpinBox:focus, QCheckBox:focus "
      "{ border: 2px solid #2f6fd0; border-radius: 3px; }");
  conversations_ = new ConversationPanel(store_);
  // Left: the conversations and, under them, the off-the-record switch (enabled only before a
  // conversation starts: ChatWindow::update_buttons).
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(conversations_, 1);
  dont_save_ = new QCheckBox(tr("Don't save this conversation"));
  dont_save_->setObjectName("dontSave");
  dont_save_->setToolTip(
      tr("The conversation stays in memory only: nothing of it is written "
         "to disk, and it is gone when you switch back or close the app."));
  left_layout->addWidget(dont_save_);

  // Right: notices, system prompt, transcript, input.
  auto* right = new QWidget;
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(6, 0, 0, 0);
  right_layout->setSpacing(8);
  right_layout->addWidget(banner(
      "clinicalNotice",
      tr("<b>Decision support only — not a diagnosis.</b> Answers come from a language model "
         "running on this machine and may be wrong. Verify against current guidelines and "
         "your clinical judgement."),
      kCaution));
  demo_notice_ = banner("demoNotice", random_demo_notice(), kInfo);
  demo_notice_->setVisible(false);
  right_layout->addWidget(demo_notice_);
  // Shown when the history database is damaged or read-only (ChatStore::problem()).
  history_notice_ = new QWidget;
  history_notice_->setObjectName("historyNotice");
  auto* history_layout = new QHBoxLayout(history_notice_);
  history_layout->setContentsMargins(0, 0, 0, 0);
  history_label_ = banner("historyProblem", QString(), kDamage);
  export_history_ = new QPushButton(tr("Export readable history…"));
  export_history_->setObjectName("exportReadableHistory");
  history_layout->addWidget(history_label_, 1);
  history_layout->addWidget(export_history_);
  history_notice_->setVisible(false);
  right_layout->addWidget(history_notice_);
  off_record_ = banner("offRecordNotice",
                       tr("<b>Not saved.</b> This conversation is kept in memory only and is gone "
                          "when you untick \"Don't save this conversation\" or close MoE "
                          "Studio."),
                       kPrivate);
  off_record_->setVisible(false);
  right_layout->addWidget(off_record_);

  prompt_toggle_ = new QToolButton;
  prompt_toggle_->setObjectName("systemPromptToggle");
  prompt_toggle_->setText(tr("System prompt"));
  prompt_toggle_->setCheckable(true);
  prompt_toggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  prompt_toggle_->setArrowType(Qt::RightArrow);
  prompt_toggle_->setAutoRaise(true);
  prompt_toggle_->setToolTip(tr("Instructions sent before every question of this conversation"));
  system_prompt_ = new QPlainTextEdit;
  system_prompt_->setObjectName("systemPrompt");
  system_prompt_->setMaximumHeight(70);
  system_prompt_->setVisible(false);  // collapsed: the clinician rarely needs it
  connect(prompt_toggle_, &QToolButton::toggled, this, [this](bool on) {
    system_prompt_->setVisible(on);
    prompt_toggle_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
  });
  settings_ = new ChatSettingsRow(controller_);
  right_layout->addWidget(settings_);
  right_layout->addWidget(prompt_toggle_);
  right_layout->addWidget(system_prompt_);

  // Orange, not grey status text: the model is answering without part of the conversation.
  context_banner_ = banner("contextBanner", QString(), kOverflow);
  context_banner_->setVisible(false);
  right_layout->addWidget(context_banner_);

  transcript_ = new TranscriptView;
  input_ = new QPlainTextEdit;
  input_->setObjectName("questionInput");
  input_->setPlaceholderText(
      tr("Type a question… (Ctrl+Enter to send, Esc to stop, Tab to the buttons, Ctrl+Tab for a "
         "tab character)"));
  input_->setTabChangesFocus(true);
  input_->installEventFilter(this);  // Ctrl+Tab: a literal tab (eventFilter)
  auto* vsplit = new QSplitter(Qt::Vertical);
  vsplit->addWidget(transcript_);
  vsplit->addWidget(input_);
  vsplit->setStretchFactor(0, 4);
  vsplit->setStretchFactor(1, 1);
  vsplit->setChildrenCollapsible(false);
  right_layout->addWidget(vsplit, 1);

  edit_bar_ = new QWidget;
  auto* edit_layout = framed_row(edit_bar_, "editBar", kCaution);
  edit_layout->setContentsMargins(8, 2, 2, 2);
  edit_label_ = new QLabel;
  auto* cancel = new QPushButton(tr("Cancel edit"));
  cancel->setObjectName("cancelEdit");
  edit_layout->addWidget(edit_label_, 1);
  edit_layout->addWidget(cancel);
  edit_bar_->setVisible(false);
  right_layout->addWidget(edit_bar_);
  connect(cancel, &QPushButton::clicked, this, [this] {
    cancel_edit();
    input_->clear();
  });

  input_row_ = new QWidget;
  input_row_->setObjectName("inputRow");
  auto* buttons = new QHBoxLayout(input_row_);
  buttons->setContentsMargins(0, 0, 0, 0);
  send_ = new QPushButton(tr("Send"));
  send_->setObjectName("send");
  send_->setDefault(true);
  send_->setToolTip(tr("Ctrl+Enter"));
  stop_ = new QPushButton(tr("Stop"));
  stop_->setObjectName("stop");
  stop_->setToolTip(tr("Esc"));
  regenerate_ = new QPushButton(tr("Regenerate"));
  regenerate_->setObjectName("regenerate");
  copy_ = new QPushButton(tr("Copy"));
  copy_->setObjectName("copyConversation");
  copy_->setToolTip(tr("Copy the conversation as Markdown"));
  export_ = new QPushButton(tr("Export…"));
  export_->setObjectName("exportConversation");
  export_->setToolTip(tr("Save the conversation as a Markdown file"));
  status_ = new QLabel;
  status_->setObjectName("answerStatus");
  status_->setStyleSheet("color:#5d6874;");
  buttons->addWidget(send_);
  buttons->addWidget(stop_);
  buttons->addWidget(regenerate_);
  buttons->addSpacing(12);
  buttons->addWidget(status_, 1);
  context_meter_ = new QProgressBar;
  context_meter_->setObjectName("contextMeter");
  context_meter_->setMinimumWidth(
      210);  // "Context: 1234 / 4096 tokens" on one line; range: open_conversation()
  context_meter_->setToolTip(
      tr("Tokens of the model's context the last question (with the conversation before it) "
         "and its answer used"));
  buttons->addWidget(context_meter_);
  buttons->addWidget(copy_);
  buttons->addWidget(export_);
  right_layout->addWidget(input_row_);

  no_model_ = new QWidget;
  auto* no_model_layout = framed_row(no_model_, "noModelPanel", kInfo);
  auto* no_model_text =
      new QLabel(tr("<b>No model is loaded.</b> Load the demo model to try the chat, or open a "
                    "GGUF model file."));
  no_model_text->setWordWrap(true);
  auto* load_demo = new QPushButton(tr("Load demo model"));
  load_demo->setObjectName("loadDemoModel");
  auto* open_model = new QPushButton(tr("Open model…"));
  open_model->setObjectName("openModel");
  no_model_layout->addWidget(no_model_text, 1);
  no_model_layout->addWidget(load_demo);
  no_model_layout->addWidget(open_model);
  no_model_->setVisible(false);
  right_layout->addWidget(no_model_);
  connect(load_demo, &QPushButton::clicked, this, &ChatWindow::demo_requested);
  connect(open_model, &QPushButton::clicked, this, &ChatWindow::open_dialog_requested);

  toast_ = banner("chatToast", QString(),
                  "background:#33414f;color:white;border-radius:4px;padding:5px 10px;");
  toast_->setVisible(false);
  right_layout->addWidget(toast_);

  // Tab from the question goes to the buttons in the order they are used.
  setTabOrder(input_, send_);
  setTabOrder(send_, stop_);
  setTabOrder(stop_, regenerate_);
  setTabOrder(regenerate_, copy_);
  setTabOrder(copy_, export_);

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 4);
  split->setSizes({240, 900});
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->addWidget(split);

  auto* send_key = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
  auto* send_key2 = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this);
  auto* stop_key = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  auto* new_key = new QShortcut(QKeySequence::New, this);
  for (QShortcut* s : {send_key, send_key2, stop_key, new_key}) s->setContext(Qt::WindowShortcut);
  connect(new_key, &QShortcut::activated, this, &ChatWindow::new_conversation);
  connect(send_key, &QShortcut::activated, this, [this] { send(); });
  connect(send_key2, &QShortcut::activated, this, [this] { send(); });
  connect(stop_key, &QShortcut::activated, this, &ChatWindow::stop);
  connect(send_, &QPushButton::clicked, this, [this] { send(); });
  connect(stop_, &QPushButton::clicked, this, &ChatWindow::stop);
  connect(regenerate_, &QPushButton::clicked, this, [this] { regenerate(); });
  connect(dont_save_, &QCheckBox::toggled, this, &ChatWindow::set_dont_save);
  connect(copy_, &QPushButton::clicked, this, &ChatWindow::copy_conversation);
  connect(input_, &QPlainTextEdit::textChanged, this, [this] { draft_dirty_ = true; });
  connect(system_prompt_, &QPlainTextEdit::textChanged, this, [this] { prompt_dirty_ = true; });
}

bool ChatWindow::eventFilter(QObject* watched, QEvent* event) {
  // Tab moves the focus on (setTabChangesFocus); Ctrl+Tab types the tab character instead.
  if (watched == input_ && event->type() == QEvent::KeyPress) {
    const auto* key = static_cast<QKeyEvent*>(event);
    if (key->key() == Qt::Key_Tab && key->modifiers() == Qt::ControlModifier) {
      input_->insertPlainText(QStringLiteral("\t"));
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace moe::ui
