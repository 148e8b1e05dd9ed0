// ChatWindow's widgets and layout (the behaviour is in chat_window.cpp).
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/chat_window.h"
#include "ui/transcript_view.h"

namespace moe::ui {

namespace {
QLabel* banner(const QString& name, const QString& text, const QString& style) {
  auto* l = new QLabel(text);
  l->setObjectName(name);
  l->setWordWrap(true);
  l->setStyleSheet(style);
  return l;
}
}  // namespace

QString ChatWindow::random_demo_notice() {
  return tr("<b>Demo model with random weights.</b> It shows the system working (streaming, "
            "routing, WDMoE selection) but its answers are meaningless text. Open a real model "
            "with File ▸ Open model…");
}

QString ChatWindow::trained_demo_notice() {
  return tr("<b>Demo model: a tiny 9M-parameter Mixtral-style MoE trained for under two hours on "
            "2 CPU cores on WordNet dictionary definitions.</b> Ask it \"What is a fever?\": it "
            "answers with a definition-shaped English sentence that is usually wrong. It knows "
            "nothing else and is <b>not medical advice</b>. Open a real model with File ▸ Open "
            "model…");
}

void ChatWindow::build_ui() {
  // Left: conversations.
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 6, 0);
  new_ = new QPushButton(tr("New conversation"));
  new_->setObjectName("newConversation");
  list_ = new QListWidget;
  list_->setObjectName("conversationList");
  list_->setTextElideMode(Qt::ElideRight);
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  list_->setUniformItemSizes(true);
  auto* list_label = new QLabel(tr("Conversations"));
  list_label->setStyleSheet("font-weight:600;color:#44505c;");
  left_layout->addWidget(new_);
  left_layout->addWidget(list_label);
  left_layout->addWidget(list_, 1);

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
      "background:#fff4d6;border:1px solid #e8c96b;border-radius:4px;padding:6px 10px;"
      "color:#5c4300;"));
  demo_notice_ =
      banner("demoNotice", random_demo_notice(),
             "background:#e7f0fb;border:1px solid #9dbbe0;border-radius:4px;padding:6px 10px;"
             "color:#1d3f66;");
  demo_notice_->setVisible(false);
  right_layout->addWidget(demo_notice_);
  // Shown when the history database is damaged or read-only (ChatStore::problem()).
  history_notice_ = new QWidget;
  history_notice_->setObjectName("historyNotice");
  auto* history_layout = new QHBoxLayout(history_notice_);
  history_layout->setContentsMargins(0, 0, 0, 0);
  history_label_ = banner("historyProblem", QString(),
                          "background:#fde8e8;border:1px solid #e0a0a0;border-radius:4px;"
                          "padding:6px 10px;color:#6b1d1d;");
  export_history_ = new QPushButton(tr("Export readable history…"));
  export_history_->setObjectName("exportReadableHistory");
  history_layout->addWidget(history_label_, 1);
  history_layout->addWidget(export_history_);
  history_notice_->setVisible(false);
  right_layout->addWidget(history_notice_);

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
  right_layout->addWidget(prompt_toggle_);
  right_layout->addWidget(system_prompt_);

  transcript_ = new TranscriptView;
  input_ = new QPlainTextEdit;
  input_->setObjectName("questionInput");
  input_->setPlaceholderText(tr("Type a question… (Ctrl+Enter to send, Esc to stop)"));
  auto* vsplit = new QSplitter(Qt::Vertical);
  vsplit->addWidget(transcript_);
  vsplit->addWidget(input_);
  vsplit->setStretchFactor(0, 4);
  vsplit->setStretchFactor(1, 1);
  vsplit->setChildrenCollapsible(false);
  right_layout->addWidget(vsplit, 1);

  auto* buttons = new QHBoxLayout;
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
  copy_->setToolTip(tr("Copy the conversation as Markdown"));
  export_ = new QPushButton(tr("Export…"));
  export_->setToolTip(tr("Save the conversation as a Markdown file"));
  status_ = new QLabel;
  status_->setObjectName("answerStatus");
  status_->setStyleSheet("color:#5d6874;");
  buttons->addWidget(send_);
  buttons->addWidget(stop_);
  buttons->addWidget(regenerate_);
  buttons->addSpacing(12);
  buttons->addWidget(status_, 1);
  buttons->addWidget(copy_);
  buttons->addWidget(export_);
  right_layout->addLayout(buttons);

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
  for (QShortcut* s : {send_key, send_key2, stop_key}) s->setContext(Qt::WindowShortcut);
  connect(send_key, &QShortcut::activated, this, [this] { send(); });
  connect(send_key2, &QShortcut::activated, this, [this] { send(); });
  connect(stop_key, &QShortcut::activated, this, &ChatWindow::stop);
  connect(send_, &QPushButton::clicked, this, [this] { send(); });
  connect(stop_, &QPushButton::clicked, this, &ChatWindow::stop);
  connect(regenerate_, &QPushButton::clicked, this, [this] { regenerate(); });
  connect(new_, &QPushButton::clicked, this, &ChatWindow::new_conversation);
  connect(copy_, &QPushButton::clicked, this, &ChatWindow::copy_conversation);
  connect(list_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* it) { open_conversation(it->data(Qt::UserRole).toLongLong()); });
  connect(list_, &QListWidget::itemClicked, this,
          [this](QListWidgetItem* it) { open_conversation(it->data(Qt::UserRole).toLongLong()); });
  connect(input_, &QPlainTextEdit::textChanged, this, [this] { draft_dirty_ = true; });
  connect(system_prompt_, &QPlainTextEdit::textChanged, this, [this] { prompt_dirty_ = true; });
}

}  // namespace moe::ui
