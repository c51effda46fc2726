//! Texts of the notifications page: webhooks, deliveries, the calendar link.

use cunjin_core::notify::{Event, WebhookKind};

/// The UI text key of a webhook kind's label.
pub fn kind_key(k: WebhookKind) -> &'static str {
    match k {
        WebhookKind::Wecom => "kind.wecom",
        WebhookKind::Dingtalk => "kind.dingtalk",
        WebhookKind::Feishu => "kind.feishu",
        WebhookKind::Slack => "kind.slack",
        WebhookKind::Generic => "kind.generic",
    }
}

/// The UI text key of an event's label.
pub fn event_key(e: Event) -> &'static str {
    match e {
        Event::ReadinessFailed => "event.readiness_failed",
        Event::CommitmentDue => "event.commitment_due",
        Event::RequestDecided => "event.request_decided",
        Event::WeeklyDigest => "event.weekly_digest",
        Event::Test => "event.test",
    }
}

/// key, 中文, English.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("nav.webhooks", "通知", "Notifications"),
    ("webhooks.title", "通知与日历", "Notifications and calendar"),
    ("webhooks.intro", "把演示前未就绪、承诺到期催办、需求决定和每周进展推送到群机器人。消息先写入发件箱，失败会按 1 分钟、5 分钟、30 分钟、2 小时……重试。", "Send failed demo checks, commitments coming due, request decisions and the weekly progress to a group robot. Messages go through an outbox and are retried after 1 min, 5 min, 30 min, 2 h…"),
    ("webhooks.saved", "已保存。", "Saved."),
    ("webhooks.empty", "还没有 Webhook。", "No webhooks yet."),
    ("webhooks.signed", "已加签", "signed"),
    ("webhooks.paused", "已暂停", "paused"),
    ("webhooks.test", "发送测试消息", "Send a test message"),
    ("webhooks.delete", "删除", "Delete"),
    ("webhooks.no_deliveries", "还没有发送记录。", "Nothing sent yet."),
    ("webhooks.when", "时间", "When"),
    ("webhooks.event", "事件", "Event"),
    ("webhooks.status", "状态", "Status"),
    ("webhooks.attempts", "尝试次数", "Attempts"),
    ("webhooks.last_error", "最近错误", "Last error"),
    ("webhooks.add", "添加 Webhook", "Add a webhook"),
    ("webhooks.kind", "类型", "Kind"),
    ("webhooks.url", "地址", "Address"),
    ("webhooks.secret", "加签密钥（钉钉、飞书，可选；保存后不再显示）", "Signing secret (DingTalk, Feishu; optional; never shown again)"),
    ("webhooks.add_button", "添加", "Add"),
    ("kind.wecom", "企业微信", "WeCom"),
    ("kind.dingtalk", "钉钉", "DingTalk"),
    ("kind.feishu", "飞书", "Feishu"),
    ("kind.slack", "Slack", "Slack"),
    ("kind.generic", "通用 JSON", "Generic JSON"),
    ("event.readiness_failed", "演示前检查未就绪", "Demo not ready"),
    ("event.commitment_due", "承诺到期催办", "Commitment due"),
    ("event.request_decided", "需求已决定", "Request decided"),
    ("event.weekly_digest", "每周进展", "Weekly digest"),
    ("event.test", "测试", "Test"),
    ("delivery.pending", "待发送", "Pending"),
    ("delivery.sent", "已送达", "Sent"),
    ("delivery.failed", "已放弃", "Gave up"),
    ("calendar.title", "日历订阅", "Calendar feed"),
    ("calendar.intro", "在 Outlook、Google 日历、苹果日历或钉钉/飞书日历中订阅此链接：演示、验收日期和承诺到期日。链接即权限，请勿外传。", "Subscribe to this link in Outlook, Google Calendar, Apple Calendar or DingTalk/Feishu: demos, acceptance dates and commitment due dates. Whoever has the link can read it; keep it inside the team."),
    ("calendar.rotate", "更换链接（旧链接立即失效）", "Replace the link (the old one stops working)"),
    ("calendar.none", "还没有日历订阅链接。", "There is no calendar link yet."),
    ("calendar.create", "生成日历订阅链接", "Make a calendar link"),
];
