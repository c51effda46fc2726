//! Column names: cunjin's own (English or Chinese) and those of ZenTao, Jira and Redmine
//! exports, and which dialect a header line is in.

use std::collections::HashMap;

use crate::table::restore_formula;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Requests (需求).
    Requests,
    /// Features of the catalogue.
    Features,
    /// Commitments (承诺) to customers.
    Commitments,
    /// Customers and their deals.
    Customers,
}

impl Kind {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Requests => "requests",
            Kind::Features => "features",
            Kind::Commitments => "commitments",
            Kind::Customers => "customers",
        }
    }
}

/// Whose column names a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// cunjin's own, as `cunjin export` writes them, in English or Chinese.
    Cunjin,
    /// A ZenTao (禅道) story export.
    Zentao,
    /// A Jira CSV export.
    Jira,
    /// A Redmine issue export.
    Redmine,
}

impl Dialect {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Cunjin => "cunjin",
            Dialect::Zentao => "zentao",
            Dialect::Jira => "jira",
            Dialect::Redmine => "redmine",
        }
    }

    /// Guesses the dialect from the header line: each tracker has columns no other writes.
    pub fn detect(headers: &[String]) -> Dialect {
        let has = |name: &str| headers.iter().any(|h| normalize(h) == normalize(name));
        if has("需求名称") || (has("所属产品") && has("所属模块")) {
            Dialect::Zentao
        } else if has("Issue key") || (has("Summary") && has("Issue Type")) {
            Dialect::Jira
        } else if (has("主题") && (has("跟踪") || has("作者")))
            || (has("Subject") && (has("Tracker") || has("Author")))
        {
            Dialect::Redmine
        } else {
            Dialect::Cunjin
        }
    }
}

/// A field that rows are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// A request's whole text.
    Text,
    /// A title (feature title, tracker summary).
    Title,
    /// A longer description that follows the title.
    Description,
    /// Who a request comes from.
    SourceRole,
    /// Customer name.
    Customer,
    /// Who asked.
    Requester,
    /// Product name.
    Product,
    /// A full menu path.
    MenuPath,
    /// A tracker's module or component: the menu path above the title.
    Module,
    /// Feature stage (or a tracker's status or stage).
    Stage,
    /// Effort.
    Effort,
    /// Planned release.
    TargetRelease,
    /// Slide link.
    SlideUrl,
    /// Recording link.
    RecordingUrl,
    /// Deal name.
    Deal,
    /// A commitment's feature title.
    Feature,
    /// How a promise was shown.
    ShownAs,
    /// Who promised.
    PromisedBy,
    /// When it was promised.
    PromisedAt,
    /// When it is due.
    DueDate,
    /// Acceptance-critical.
    Critical,
    /// Commitment status.
    Status,
    /// Acceptance criteria.
    Criteria,
    /// A tracker's note on where a request came from (ZenTao's 来源备注): a customer's name,
    /// or who asked.
    SourceNote,
    /// The key a file gives its records (`cunjin export` writes the id): what a duplicate's
    /// original is found by.
    Key,
    /// A request's decision.
    Decision,
    /// The reason given with it.
    Reason,
    /// For a duplicate: the key of its original.
    DuplicateOf,
    /// The menu path of the feature a request is linked to.
    FeatureMenuPath,
    /// The release a request is planned for.
    PlannedRelease,
    /// How to reach who asked.
    Contact,
    /// When a record was created.
    CreatedAt,
    /// Who decided.
    DecidedBy,
    /// When.
    DecidedAt,
    /// A customer's weight in the roadmap's demand.
    Weight,
    /// A deal's stage in the pipeline.
    DealStage,
    /// A deal's contract value.
    ContractValue,
    /// A deal's acceptance date.
    AcceptanceDate,
    /// A pilot deal.
    Pilot,
}

impl Field {
    /// The name of the field in English and Chinese, for messages.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Field::Text => ("text", "内容"),
            Field::Title => ("title", "标题"),
            Field::Description => ("description", "描述"),
            Field::SourceRole => ("source_role", "来源角色"),
            Field::Customer => ("customer", "客户"),
            Field::Requester => ("requester", "提出人"),
            Field::Product => ("product", "产品"),
            Field::MenuPath => ("menu_path", "菜单路径"),
            Field::Module => ("module", "模块"),
            Field::Stage => ("stage", "阶段"),
            Field::Effort => ("effort_days", "工作量"),
            Field::TargetRelease => ("target_release", "计划版本"),
            Field::SlideUrl => ("slide_url", "幻灯片链接"),
            Field::RecordingUrl => ("recording_url", "录屏链接"),
            Field::Deal => ("deal", "商机"),
            Field::Feature => ("feature", "功能"),
            Field::ShownAs => ("shown_as", "展示方式"),
            Field::PromisedBy => ("promised_by", "承诺人"),
            Field::PromisedAt => ("promised_at", "承诺日期"),
            Field::DueDate => ("due_date", "到期日"),
            Field::Critical => ("critical", "验收必须"),
            Field::Status => ("status", "状态"),
            Field::Criteria => ("criteria", "验收标准"),
            Field::SourceNote => ("source_note", "来源备注"),
            Field::Key => ("id", "编号"),
            Field::Decision => ("decision", "决定"),
            Field::Reason => ("reason", "理由"),
            Field::DuplicateOf => ("duplicate_of", "重复于"),
            Field::FeatureMenuPath => ("feature_menu_path", "功能菜单路径"),
            Field::PlannedRelease => ("planned_release", "计划版本"),
            Field::Contact => ("contact", "联系方式"),
            Field::CreatedAt => ("created_at", "创建时间"),
            Field::DecidedBy => ("decided_by", "决定人"),
            Field::DecidedAt => ("decided_at", "决定时间"),
            Field::Weight => ("weight", "权重"),
            Field::DealStage => ("deal_stage", "商机阶段"),
            Field::ContractValue => ("contract_value", "合同金额"),
            Field::AcceptanceDate => ("acceptance_date", "验收日期"),
            Field::Pilot => ("pilot", "试点"),
        }
    }
}

type Aliases = &'static [(Field, &'static [&'static str])];

const CUNJIN: Aliases = &[
    (Field::Key, &["id", "编号"]),
    (Field::Text, &["text", "内容", "需求内容"]),
    (Field::Title, &["title", "标题"]),
    (
        Field::Description,
        &["description", "描述", "详细描述", "需求描述"],
    ),
    (Field::SourceRole, &["source_role", "来源角色", "来源"]),
    (Field::Customer, &["customer", "customer_name", "客户"]),
    (Field::Requester, &["requester", "提出人"]),
    (Field::Product, &["product", "产品"]),
    (Field::MenuPath, &["menu_path", "菜单路径", "菜单"]),
    (Field::Stage, &["stage", "阶段"]),
    (Field::Effort, &["effort_days", "工作量", "工作量(人天)"]),
    (Field::TargetRelease, &["target_release", "计划版本"]),
    (Field::SlideUrl, &["slide_url", "幻灯片链接"]),
    (Field::RecordingUrl, &["recording_url", "录屏链接"]),
    (Field::Deal, &["deal", "商机"]),
    (Field::Feature, &["feature", "feature_title", "功能"]),
    (Field::ShownAs, &["shown_as", "展示方式"]),
    (Field::PromisedBy, &["promised_by", "承诺人"]),
    (Field::PromisedAt, &["promised_at", "承诺日期"]),
    (Field::DueDate, &["due_date", "到期日"]),
    (Field::Critical, &["critical", "验收必须"]),
    (Field::Status, &["status", "状态"]),
    (Field::Criteria, &["criteria", "验收标准"]),
    (Field::Decision, &["decision", "决定"]),
    (Field::Reason, &["reason", "理由"]),
    (Field::DuplicateOf, &["duplicate_of", "重复于"]),
    (
        Field::FeatureMenuPath,
        &["feature_menu_path", "功能菜单路径"],
    ),
    (Field::PlannedRelease, &["planned_release", "计划发布"]),
    (Field::Contact, &["contact", "联系方式"]),
    (Field::CreatedAt, &["created_at", "创建时间"]),
    (Field::DecidedBy, &["decided_by", "决定人"]),
    (Field::DecidedAt, &["decided_at", "决定时间"]),
    (Field::Weight, &["weight", "权重", "customer_weight"]),
    (Field::DealStage, &["deal_stage", "商机阶段"]),
    (
        Field::ContractValue,
        &["contract_value", "合同金额", "合同额"],
    ),
    (Field::AcceptanceDate, &["acceptance_date", "验收日期"]),
    (Field::Pilot, &["pilot", "试点"]),
];

// ZenTao's story export, in its Chinese and English interface; its versions and editions (and
// the templates people export with) name some columns differently.
const ZENTAO: Aliases = &[
    (
        Field::Title,
        &["需求名称", "名称", "标题", "Story Name", "Name", "Title"],
    ),
    (
        Field::Description,
        &[
            "需求描述",
            "描述",
            "详细描述",
            "Description",
            "Story Description",
            "Spec",
        ],
    ),
    (Field::SourceRole, &["来源", "需求来源", "Source"]),
    (
        Field::SourceNote,
        &["来源备注", "Source Note", "SourceNote"],
    ),
    (
        Field::Requester,
        &[
            "由谁创建",
            "创建人",
            "创建者",
            "Created By",
            "CreatedBy",
            "Opened By",
        ],
    ),
    (Field::Product, &["所属产品", "产品", "Product"]),
    (Field::Module, &["所属模块", "模块", "Module"]),
    (Field::Stage, &["阶段", "Stage"]),
    (Field::Effort, &["预计工时", "预计", "预估工时", "Estimate"]),
    (Field::TargetRelease, &["所属计划", "计划", "Plan"]),
];

const JIRA: Aliases = &[
    (Field::Title, &["Summary"]),
    (Field::Description, &["Description"]),
    (Field::Requester, &["Reporter", "Creator"]),
    (Field::Product, &["Project name", "Project"]),
    (Field::Module, &["Component/s", "Components", "Component"]),
    (Field::Stage, &["Status"]),
    (
        Field::Effort,
        &[
            "Original Estimate",
            "Σ Original Estimate",
            "Original estimate",
        ],
    ),
    (
        Field::TargetRelease,
        &["Fix Version/s", "Fix versions", "Fix Version"],
    ),
];

// Redmine exports with the column names of the exporting user's language.
const REDMINE: Aliases = &[
    (Field::Title, &["主题", "Subject"]),
    (
        Field::Description,
        &["描述", "说明", "详细描述", "Description"],
    ),
    (Field::Requester, &["作者", "Author"]),
    (Field::Product, &["项目", "Project"]),
    (Field::Module, &["类别", "Category"]),
    (Field::Stage, &["状态", "Status"]),
    (
        Field::Effort,
        &["预期时间", "预计工时", "预估工时", "Estimated time"],
    ),
    (Field::TargetRelease, &["目标版本", "Target version"]),
];

fn aliases(dialect: Dialect) -> Aliases {
    match dialect {
        Dialect::Cunjin => CUNJIN,
        Dialect::Zentao => ZENTAO,
        Dialect::Jira => JIRA,
        Dialect::Redmine => REDMINE,
    }
}

fn normalize(h: &str) -> String {
    h.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// The names a field goes by in a dialect, for messages.
pub fn names_of(dialect: Dialect, field: Field) -> &'static [&'static str] {
    aliases(dialect)
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(&[], |(_, names)| names)
}

/// Where each field is in a header line.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    dialect: Dialect,
    // Jira repeats a column (Component/s, Fix Version/s) once per value: all are kept.
    columns: HashMap<Field, Vec<usize>>,
}

impl ColumnMap {
    /// Maps a header line in `dialect`; unknown columns are ignored.
    pub fn new(headers: &[String], dialect: Dialect) -> ColumnMap {
        let mut columns: HashMap<Field, Vec<usize>> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = normalize(h);
            if let Some((field, _)) = aliases(dialect)
                .iter()
                .find(|(_, names)| names.iter().any(|n| normalize(n) == h))
            {
                columns.entry(*field).or_default().push(i);
            }
        }
        ColumnMap { dialect, columns }
    }

    /// The columns that no field reads, by position.
    pub fn unmapped(&self, width: usize) -> impl Iterator<Item = usize> + '_ {
        (0..width).filter(|i| !self.columns.values().any(|c| c.contains(i)))
    }

    /// The positions of the columns of a field.
    pub fn positions(&self, field: Field) -> &[usize] {
        self.columns.get(&field).map_or(&[], Vec::as_slice)
    }

    /// The dialect of the header line.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the header line has the field.
    pub fn has(&self, field: Field) -> bool {
        self.columns.contains_key(&field)
    }

    /// The field's first non-blank value in a row.
    pub fn get<'r>(&self, cells: &'r [String], field: Field) -> Option<&'r str> {
        let found = self
            .columns
            .get(&field)?
            .iter()
            .filter_map(|&i| cells.get(i))
            .map(|c| c.trim())
            .find(|c| !c.is_empty())?;
        Some(match self.dialect {
            Dialect::Cunjin => restore_formula(found),
            // ZenTao appends the record id to names: "HIS(#3)", "/门诊/挂号(#12)".
            Dialect::Zentao => strip_zentao_id(found),
            _ => found,
        })
    }
}

fn strip_zentao_id(s: &str) -> &str {
    if let Some(open) = s.rfind("(#") {
        let inner = &s[open + 2..];
        if let Some(digits) = inner.strip_suffix(')') {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return s[..open].trim_end();
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn detects_each_tracker() {
        assert_eq!(
            Dialect::detect(&heads(&["需求名称", "所属产品", "所属模块", "需求描述"])),
            Dialect::Zentao
        );
        assert_eq!(
            Dialect::detect(&heads(&["Summary", "Issue key", "Issue id", "Status"])),
            Dialect::Jira
        );
        assert_eq!(
            Dialect::detect(&heads(&["#", "项目", "跟踪", "状态", "主题", "作者"])),
            Dialect::Redmine
        );
        assert_eq!(
            Dialect::detect(&heads(&["#", "Project", "Tracker", "Subject"])),
            Dialect::Redmine
        );
        assert_eq!(Dialect::detect(&heads(&["标题", "内容"])), Dialect::Cunjin);
    }

    #[test]
    fn repeated_columns_give_the_first_value() {
        let m = ColumnMap::new(
            &heads(&["Summary", "Component/s", "Component/s"]),
            Dialect::Jira,
        );
        let row = heads(&["x", "", "挂号"]);
        assert_eq!(m.get(&row, Field::Module), Some("挂号"));
        assert_eq!(m.get(&row, Field::Stage), None);
    }

    #[test]
    fn zentao_ids_are_stripped() {
        assert_eq!(strip_zentao_id("HIS(#3)"), "HIS");
        assert_eq!(strip_zentao_id("/门诊/挂号(#12)"), "/门诊/挂号");
        assert_eq!(strip_zentao_id("A (#x)"), "A (#x)");
        assert_eq!(strip_zentao_id("(#"), "(#");
    }
}
