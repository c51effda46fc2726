//! The two languages of the UI: zh-CN and English. Every string a person reads comes from the
//! table below, in both languages; a test checks that every key the templates use is there.

use axum::http::HeaderMap;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

/// key, 中文, English.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.tagline", "看见并缩小“卖出的”与“交付的”之间的差距", "See and close the gap between what was sold and what was shipped"),
    ("nav.dashboard", "概览", "Dashboard"),
    ("nav.features", "功能目录", "Catalogue"),
    ("nav.customers", "客户", "Customers"),
    ("nav.roadmap", "路线图", "Roadmap"),
    ("nav.promise", "记录承诺", "Record a promise"),
    ("nav.logout", "退出", "Log out"),
    ("nav.other_lang", "English", "中文"),
    ("login.title", "登录", "Log in"),
    ("login.email", "邮箱", "E-mail"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.failed", "邮箱或密码错误。", "Wrong e-mail or password."),
    ("gap.portfolio", "全部客户的差距", "Portfolio gap"),
    ("gap.chi", "尺", "chi"),
    ("gap.cun", "寸", "cun"),
    ("gap.chi_help", "尺：产品离描绘的还差多远（未建成）", "尺 (chi): how far the product is from what was painted"),
    ("gap.cun_help", "寸：离客户真正想要的效果还差多远（验收标准未满足）", "寸 (cun): how far delivered work is from what the customer really wants"),
    ("gap.per_customer", "各客户差距", "Gap per customer"),
    ("gap.closed", "已无差距", "Closed"),
    ("col.customer", "客户", "Customer"),
    ("col.open", "未结承诺", "Open commitments"),
    ("col.feature", "功能", "Feature"),
    ("col.shown_as", "演示方式", "Shown as"),
    ("col.status", "状态", "Status"),
    ("col.due", "到期", "Due"),
    ("col.criteria", "验收标准", "Acceptance criteria"),
    ("col.gap", "差距", "Gap"),
    ("col.promised_by", "承诺人", "Promised by"),
    ("col.score", "得分", "Score"),
    ("col.rank", "排名", "Rank"),
    ("col.stage", "阶段", "Stage"),
    ("col.deal", "合同", "Deal"),
    ("col.value", "合同额", "Contract value"),
    ("col.acceptance", "验收日期", "Acceptance date"),
    ("col.actions", "操作", "Actions"),
    ("badge.pilot", "试点", "Pilot"),
    ("badge.critical", "验收必须", "Acceptance-critical"),
    ("badge.overdue", "已逾期", "Overdue"),
    ("stage.idea", "想法", "Idea"),
    ("stage.designed", "已设计", "Designed"),
    ("stage.stubbed", "仅菜单", "Menu only"),
    ("stage.built", "已开发", "Built"),
    ("stage.released", "已发布", "Released"),
    ("mode.live", "现场演示", "Live"),
    ("mode.fallback", "备用录屏", "Fallback"),
    ("mode.unverified", "未验证", "Unverified"),
    ("mode.menu", "对着菜单讲", "Over the menu"),
    ("mode.slides", "用PPT讲", "On slides"),
    ("mode.words", "靠嘴说", "In words"),
    ("mode.promise", "口头承诺", "Bare promise"),
    ("status.open", "未交付", "Open"),
    ("status.delivered", "已交付", "Delivered"),
    ("status.accepted", "已验收", "Accepted"),
    ("status.waived", "已豁免", "Waived"),
    ("features.title", "功能目录", "Feature catalogue"),
    ("features.empty", "目录还是空的。", "The catalogue is empty."),
    ("customers.title", "客户", "Customers"),
    ("customers.empty", "还没有客户。", "No customers yet."),
    ("customer.deals", "合同", "Deals"),
    ("customer.commitments", "承诺", "Commitments"),
    ("customer.no_commitments", "还没有对这个客户的承诺。", "Nothing has been promised to this customer yet."),
    ("customer.recorded", "承诺已记录。", "Promise recorded."),
    ("customer.mark_met", "标记满足", "Mark met"),
    ("customer.mark_unmet", "取消满足", "Mark unmet"),
    ("customer.move", "变更状态", "Change status"),
    ("customer.reason", "原因（豁免、退回时必填）", "Reason (required to waive or reopen)"),
    ("customer.apply", "提交", "Apply"),
    ("customer.audit", "变更记录", "Audit trail"),
    ("promise.title", "记录一条承诺", "Record a promise"),
    ("promise.help", "演示里说过的每一句“没问题”都是一条承诺。记下来，验收时才不会意外。", "Every \"no problem\" said in a demo is a promise. Record it, so acceptance holds no surprises."),
    ("promise.customer", "客户", "Customer"),
    ("promise.deal", "合同（可选）", "Deal (optional)"),
    ("promise.no_deal", "— 无 —", "— none —"),
    ("promise.feature", "目录中的功能", "Feature from the catalogue"),
    ("promise.pick_feature", "— 选择功能，或在下面用文字描述 —", "— pick a feature, or describe it below —"),
    ("promise.feature_title", "或：用文字描述（不在目录中的会作为“想法”加入目录）", "Or: describe it in words (not in the catalogue: added as an idea)"),
    ("promise.shown_as", "当时怎么演示的", "How it was shown"),
    ("promise.auto", "— 按功能阶段自动判断 —", "— from the feature's stage —"),
    ("promise.promised_by", "承诺人", "Promised by"),
    ("promise.due_date", "到期日（默认合同验收日）", "Due date (default: the deal's acceptance date)"),
    ("promise.critical", "验收必须（验收时会被检查）", "Acceptance-critical (checked at acceptance)"),
    ("promise.criteria", "验收标准：客户的原话，每行一条", "Acceptance criteria: the customer's own words, one per line"),
    ("promise.submit", "记录承诺", "Record the promise"),
    ("roadmap.title", "路线图", "Roadmap"),
    ("roadmap.help", "按依赖它的合同金额、到期日和需求排序；每个得分都有解释。", "Ranked by the money, dates and demand that depend on each feature; every score is explained."),
    ("roadmap.empty", "没有未结承诺，路线图为空。", "No open commitments: the roadmap is empty."),
    ("roadmap.formula", "得分 = (Σ 价值×紧迫度 + λ×需求) ÷ max(工作量, 1)", "score = (Σ value × urgency + λ × demand) ÷ max(effort, 1)"),
    ("roadmap.value", "价值", "value"),
    ("roadmap.urgency", "紧迫度", "urgency"),
    ("roadmap.demand", "需求", "demand"),
    ("roadmap.effort", "工作量（人天）", "effort (person-days)"),
    ("roadmap.days_left", "剩余天数", "days left"),
    ("roadmap.share", "权重", "share"),
    ("roadmap.commitments_on_deal", "该合同未结承诺数", "live commitments on the deal"),
    ("roadmap.released_zero", "已发布且无未交付承诺：得分为 0", "Released with nothing open: score 0"),
    ("common.none", "无", "none"),
    ("common.back", "返回", "Back"),
    ("error.title", "出错了", "Something went wrong"),
    ("error.not_found", "找不到这个页面或记录。", "This page or record does not exist."),
    ("error.forbidden", "你的角色不能执行这个操作。", "Your role may not do this."),
];

/// A value handed over as itself or through references, as templates do.
pub trait Val<T> {
    /// The value.
    fn val(&self) -> T;
}
impl<T: Copy> Val<T> for T {
    fn val(&self) -> T {
        *self
    }
}
impl<T: Copy> Val<T> for &T {
    fn val(&self) -> T {
        **self
    }
}
impl<T: Copy> Val<T> for &&T {
    fn val(&self) -> T {
        ***self
    }
}

const STAGE_KEYS: [&str; 5] = [
    "stage.idea",
    "stage.designed",
    "stage.stubbed",
    "stage.built",
    "stage.released",
];
const MODE_KEYS: [&str; 7] = [
    "mode.live",
    "mode.fallback",
    "mode.unverified",
    "mode.menu",
    "mode.slides",
    "mode.words",
    "mode.promise",
];
const STATUS_KEYS: [&str; 4] = [
    "status.open",
    "status.delivered",
    "status.accepted",
    "status.waived",
];

impl Lang {
    /// The text of `key` in this language; the key itself when missing, so a gap shows up on
    /// screen and in the test rather than as an empty string.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        for (k, zh, en) in MESSAGES {
            if *k == key {
                return match self {
                    Lang::Zh => zh,
                    Lang::En => en,
                };
            }
        }
        tracing::warn!(key, "missing UI text");
        key
    }

    /// The name of a feature stage.
    pub fn stage(&self, s: impl Val<cunjin_core::Stage>) -> &'static str {
        self.t(STAGE_KEYS[s.val().rank() as usize])
    }

    /// The name of a presentation mode.
    pub fn mode(&self, m: impl Val<cunjin_core::Mode>) -> &'static str {
        let i = cunjin_core::Mode::ALL
            .iter()
            .position(|x| x == &m.val())
            .unwrap_or(0);
        self.t(MODE_KEYS[i])
    }

    /// The name of a commitment status.
    pub fn status(&self, s: impl Val<cunjin_core::Status>) -> &'static str {
        let i = cunjin_core::Status::ALL
            .iter()
            .position(|x| *x == s.val())
            .unwrap_or(0);
        self.t(STATUS_KEYS[i])
    }

    /// The `lang` attribute of the page.
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The short code used in `?lang=` and the cookie.
    pub fn short(&self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(&self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US`…
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of a request: the `lang` cookie, else the best of `Accept-Language`,
    /// else Chinese.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(l) = crate::auth::cookie(headers, "lang").and_then(Lang::parse) {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in MESSAGES {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let templates = [
            include_str!("../templates/base.html"),
            include_str!("../templates/login.html"),
            include_str!("../templates/dashboard.html"),
            include_str!("../templates/features.html"),
            include_str!("../templates/customers.html"),
            include_str!("../templates/customer.html"),
            include_str!("../templates/promise.html"),
            include_str!("../templates/roadmap.html"),
            include_str!("../templates/error.html"),
        ];
        let keys: std::collections::HashSet<&str> = MESSAGES.iter().map(|m| m.0).collect();
        let mut used = 0;
        for t in templates {
            for piece in t.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(keys.contains(key), "template uses missing key {key}");
                used += 1;
            }
        }
        assert!(
            used > 50,
            "the templates should use the table ({used} uses)"
        );
    }

    #[test]
    fn every_stage_mode_and_status_has_a_name() {
        use cunjin_core::{Mode, Stage, Status};
        for l in [Lang::Zh, Lang::En] {
            for s in Stage::ALL {
                assert!(!l.stage(s).contains('.'), "{s}");
                assert!(STAGE_KEYS[s.rank() as usize].ends_with(s.as_str()));
            }
            for (i, m) in Mode::ALL.iter().enumerate() {
                assert!(!l.mode(m).contains('.'), "{m}");
                assert!(MODE_KEYS[i].ends_with(m.as_str()));
            }
            for (i, s) in Status::ALL.iter().enumerate() {
                assert!(!l.status(s).contains('.'), "{s}");
                assert!(STATUS_KEYS[i].ends_with(s.as_str()));
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert(
            "accept-language",
            "en-US,en;q=0.9,zh-CN;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(
            "accept-language",
            "fr;q=1, zh-TW;q=0.5, en;q=0.4".parse().unwrap(),
        );
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert("cookie", "lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
    }
}
