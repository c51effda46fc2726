//! Rows of a table turned into typed requests, features and commitments, and the reason why
//! each bad row could not be.

use chrono::NaiveDate;
use cunjin_core::{
    DealStage, Decision, MenuPath, Mode, Money, ParseError, SourceRole, Stage, Status,
};

use crate::columns::{names_of, ColumnMap, Dialect, Field, Kind};
use crate::table::Table;
use crate::ExchangeError;

/// Longest request text, in characters (the same limit as filing one).
pub const MAX_REQUEST_CHARS: usize = 2000;
/// Longest name (customer, product, requester, deal, person), in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A row that cannot be imported, with its line in the file and why, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// Line in the file, 1-based; the header is line 1.
    pub line: u64,
    /// The reason, in English.
    pub reason_en: String,
    /// The reason, in Chinese.
    pub reason_zh: String,
}

impl RowError {
    /// An error on `line` with its reason in English and Chinese.
    pub fn new(line: u64, en: impl Into<String>, zh: impl Into<String>) -> RowError {
        RowError {
            line,
            reason_en: en.into(),
            reason_zh: zh.into(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: {} / 第 {} 行：{}",
            self.line, self.reason_en, self.line, self.reason_zh
        )
    }
}

/// The good rows of a file, each with its line, and the bad ones.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    /// Rows that became values, with their lines.
    pub rows: Vec<(u64, T)>,
    /// Rows that did not.
    pub errors: Vec<RowError>,
}

/// A request read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    /// Its words.
    pub text: String,
    /// Who it comes from.
    pub source_role: SourceRole,
    /// Customer, by name.
    pub customer: Option<String>,
    /// Who asked.
    pub requester: String,
    /// Product, by name.
    pub product: Option<String>,
    /// The key the file gives the request (`cunjin export` writes its id), which a duplicate
    /// names its original by.
    pub key: Option<String>,
    /// A tracker's note on where it came from (ZenTao's 来源备注): the customer when it names
    /// one, else who asked.
    pub source_note: Option<String>,
    /// How to reach who asked.
    pub contact: Option<String>,
    /// When it was filed (RFC 3339, UTC), when the file says.
    pub created_at: Option<String>,
    /// The feature it is linked to.
    pub feature: Option<FeatureRef>,
    /// Its decision (`new` when the file has none).
    pub decision: Decision,
    /// The reason given with it.
    pub reason: Option<String>,
    /// For a duplicate: the key of its original.
    pub duplicate_of: Option<String>,
    /// The release it is planned for.
    pub planned_release: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339, UTC).
    pub decided_at: Option<String>,
}

impl Default for RequestRow {
    /// An empty request from product management, as the inbox files one without a source.
    fn default() -> RequestRow {
        RequestRow {
            text: String::new(),
            source_role: SourceRole::Product,
            customer: None,
            requester: String::new(),
            product: None,
            key: None,
            source_note: None,
            contact: None,
            created_at: None,
            feature: None,
            decision: Decision::New,
            reason: None,
            duplicate_of: None,
            planned_release: None,
            decided_by: None,
            decided_at: None,
        }
    }
}

/// A catalogue feature named by a file: by its menu path (under the row's product), or by its
/// title.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRef {
    /// Its title.
    pub title: Option<String>,
    /// Its menu path.
    pub menu_path: Option<MenuPath>,
}

/// A feature read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Product, by name.
    pub product: String,
    /// Place in the menus.
    pub menu_path: MenuPath,
    /// Title; the last menu level when absent.
    pub title: Option<String>,
    /// Stage.
    pub stage: Stage,
    /// Effort in person-days.
    pub effort_days: Option<f64>,
    /// Planned release.
    pub target_release: Option<String>,
    /// Slide link.
    pub slide_url: Option<String>,
    /// Recording link.
    pub recording_url: Option<String>,
}

/// A commitment read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentRow {
    /// Customer, by name.
    pub customer: String,
    /// Deal of that customer, by name.
    pub deal: Option<String>,
    /// Product of the feature, by name.
    pub product: Option<String>,
    /// The feature's menu path, when known.
    pub menu_path: Option<MenuPath>,
    /// The feature's title (the menu path's last level when absent).
    pub feature: String,
    /// How it was shown.
    pub shown_as: Option<Mode>,
    /// Who promised it.
    pub promised_by: Option<String>,
    /// When.
    pub promised_at: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Acceptance-critical.
    pub critical: bool,
    /// Status.
    pub status: Status,
    /// Acceptance criteria.
    pub criteria: Vec<CriterionRow>,
}

/// A customer read from a file, with one of its deals.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    /// Its name.
    pub customer: String,
    /// Its weight in the roadmap's demand (1.0 when the file has none).
    pub weight: Option<f64>,
    /// A deal of it, when the row names one.
    pub deal: Option<DealRow>,
}

/// A deal read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct DealRow {
    /// Its name.
    pub name: String,
    /// Its stage (`won` when the file has none: a deal with promises to keep was signed).
    pub stage: DealStage,
    /// Its contract value.
    pub contract_value: Money,
    /// Its acceptance date.
    pub acceptance_date: Option<NaiveDate>,
    /// A pilot (试点).
    pub pilot: bool,
}

/// An acceptance criterion read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionRow {
    /// Its words.
    pub text: String,
    /// Whether it was marked met (it starts with [`MET_MARK`] or `√`).
    pub met: bool,
}

/// Starts a met criterion in the `criteria` column of a file.
pub const MET_MARK: char = '✓';

struct Row<'a> {
    line: u64,
    cells: &'a [String],
    map: &'a ColumnMap,
}

impl<'a> Row<'a> {
    fn get(&self, field: Field) -> Option<&'a str> {
        self.map.get(self.cells, field)
    }

    /// A value of `field` that core refused (`e`, in English), and why in Chinese (`why_zh`).
    fn invalid(&self, e: ParseError, field: Field, why_zh: &str) -> RowError {
        let (_, zh) = field.label();
        RowError::new(self.line, e.to_string(), format!("“{zh}”无效：{why_zh}"))
    }

    /// A value of `field` that is none of `allowed`.
    fn not_one_of(&self, e: ParseError, field: Field, got: &str, allowed: &[&str]) -> RowError {
        self.invalid(
            e,
            field,
            &format!("“{got}”应为 {} 之一", allowed.join("、")),
        )
    }

    /// A menu path that core refused.
    fn bad_path(&self, e: ParseError, field: Field, path: &str) -> RowError {
        let levels: Vec<&str> = path.split(['/', '／', '>']).map(str::trim).collect();
        let why = if path.trim().is_empty() {
            "不能为空".to_string()
        } else if levels.iter().any(|l| l.is_empty()) {
            format!("“{path}”有空的层级，请写成 住院医生站/病历书写 这样的层级")
        } else if levels.len() > MenuPath::MAX_DEPTH {
            format!("最多 {} 级", MenuPath::MAX_DEPTH)
        } else {
            format!("最多 {} 个字", MenuPath::MAX_CHARS)
        };
        self.invalid(e, field, &why)
    }

    fn required(&self, field: Field) -> Result<&'a str, RowError> {
        self.get(field).ok_or_else(|| {
            let (en, zh) = field.label();
            RowError::new(self.line, format!("{en} is empty"), format!("“{zh}”为空"))
        })
    }

    fn name(&self, field: Field) -> Result<Option<String>, RowError> {
        match self.get(field) {
            None => Ok(None),
            Some(v) if v.chars().count() > MAX_NAME_CHARS => {
                let (en, zh) = field.label();
                Err(RowError::new(
                    self.line,
                    format!("{en} is longer than {MAX_NAME_CHARS} characters"),
                    format!("“{zh}”超过 {MAX_NAME_CHARS} 个字"),
                ))
            }
            Some(v) => Ok(Some(v.to_string())),
        }
    }

    fn long_text(&self, field: Field, max: usize) -> Result<Option<String>, RowError> {
        match self.get(field) {
            Some(v) if v.chars().count() > max => {
                let (en, zh) = field.label();
                Err(RowError::new(
                    self.line,
                    format!("{en} is longer than {max} characters"),
                    format!("“{zh}”超过 {max} 个字"),
                ))
            }
            v => Ok(v.map(str::to_string)),
        }
    }

    fn date(&self, field: Field) -> Result<Option<NaiveDate>, RowError> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        // A date and time (Excel, trackers) counts by its day.
        let day = v.split([' ', 'T']).next().unwrap_or(v);
        ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
            .map(Some)
            .ok_or_else(|| {
                let (en, zh) = field.label();
                RowError::new(
                    self.line,
                    format!("{en}: '{v}' is not a date like 2026-03-31"),
                    format!("“{zh}”的值“{v}”不是日期（如 2026-03-31）"),
                )
            })
    }
}

impl Row<'_> {
    /// A point in time, as `cunjin export` writes it (RFC 3339), or a date and time without a
    /// zone (read as UTC), or a date (its midnight, UTC); given back as RFC 3339 in UTC.
    fn timestamp(&self, field: Field) -> Result<Option<String>, RowError> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        let utc = chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.to_utc())
            .ok()
            .or_else(|| {
                [
                    "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%dT%H:%M:%S",
                    "%Y/%m/%d %H:%M:%S",
                    "%Y-%m-%d %H:%M",
                ]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
                .or_else(|| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .map(|t| t.and_utc())
            });
        match utc {
            Some(t) => Ok(Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))),
            None => {
                let (en, zh) = field.label();
                Err(RowError::new(
                    self.line,
                    format!("{en}: '{v}' is not a time like 2026-03-31T09:30:00Z"),
                    format!("“{zh}”的值“{v}”不是时间（如 2026-03-31T09:30:00Z）"),
                ))
            }
        }
    }
}

/// A decision as a file writes it: the contract name, or the inbox's Chinese or English label.
fn decision_of(v: &str) -> Result<Decision, ParseError> {
    let lower = v.trim().to_lowercase();
    let by_label = match lower.as_str() {
        "待处理" | "新" | "新建" => Some(Decision::New),
        "已接受" | "接受" => Some(Decision::Accepted),
        "暂缓" => Some(Decision::Deferred),
        "不做" | "拒绝" => Some(Decision::Declined),
        "重复" => Some(Decision::Duplicate),
        "需补充信息" | "待补充" | "needs information" => Some(Decision::NeedsInfo),
        _ => None,
    };
    match by_label {
        Some(d) => Ok(d),
        None => Decision::parse(&lower.replace(' ', "_")),
    }
}

/// Reads every row of `table` with `parse`. A row holding bytes the file's encoding cannot read
/// is refused with its line whatever `parse` would make of it: stored, it would say "�".
fn parse_each<T>(
    table: &Table,
    map: &ColumnMap,
    parse: impl Fn(&Row<'_>) -> Result<T, RowError>,
) -> Parsed<T> {
    let mut parsed = Parsed {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    if table.undecodable_header {
        parsed.errors.push(undecodable(1));
    }
    for r in &table.rows {
        let row = Row {
            line: r.line,
            cells: &r.cells,
            map,
        };
        let result = if r.undecodable {
            Err(undecodable(r.line))
        } else {
            parse(&row)
        };
        match result {
            Ok(v) => parsed.rows.push((r.line, v)),
            Err(e) => parsed.errors.push(e),
        }
    }
    parsed
}

fn undecodable(line: u64) -> RowError {
    RowError::new(
        line,
        "has bytes that are not UTF-8, GBK or GB18030 text: the file may be cut off or saved in another encoding",
        "含有无法识别的字节，不是 UTF-8、GBK 或 GB18030 文本：文件可能不完整，或以其他编码保存",
    )
}

fn need_any(map: &ColumnMap, fields: &[Field]) -> Result<(), ExchangeError> {
    if fields.iter().any(|f| map.has(*f)) {
        return Ok(());
    }
    let names: Vec<&str> = fields
        .iter()
        .flat_map(|f| names_of(map.dialect(), *f).iter().copied())
        .collect();
    let zh: Vec<&str> = names.iter().copied().filter(|n| !n.is_ascii()).collect();
    Err(ExchangeError::MissingColumn {
        en: names
            .iter()
            .copied()
            .filter(|n| n.is_ascii())
            .collect::<Vec<_>>()
            .join(" or "),
        zh: if zh.is_empty() {
            names.join("”或“")
        } else {
            zh.join("”或“")
        },
    })
}

/// Cuts text to `max` characters, ending with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

fn source_role(dialect: Dialect, v: Option<&str>) -> Result<SourceRole, ParseError> {
    let Some(v) = v else {
        return Ok(SourceRole::Product);
    };
    let lower = v.to_lowercase();
    let by_word = match lower.as_str() {
        "客户" | "用户" | "customer" | "user" => Some(SourceRole::Customer),
        "实施" | "技术支持" | "客服" | "运营" | "support" | "service" | "operation" => {
            Some(SourceRole::Implementation)
        }
        "研发" | "开发人员" | "测试人员" | "dev" | "tester" | "bug" => {
            Some(SourceRole::Rnd)
        }
        "销售" | "市场" | "合作伙伴" | "竞争对手" | "market" | "partner" | "competitor" => {
            Some(SourceRole::Sales)
        }
        "售前" => Some(SourceRole::Presales),
        "领导" | "管理层" => Some(SourceRole::Leadership),
        "产品" | "产品经理" | "po" => Some(SourceRole::Product),
        _ => None,
    };
    match (dialect, by_word) {
        (_, Some(r)) => Ok(r),
        (Dialect::Cunjin, None) => SourceRole::parse(&lower),
        // A tracker's own sources (forum, other…) are product management's inbox.
        (_, None) => Ok(SourceRole::Product),
    }
}

/// The feature a request row is linked to: its menu path, its title, or both.
fn feature_ref(row: &Row<'_>) -> Result<Option<FeatureRef>, RowError> {
    let menu_path = row
        .get(Field::FeatureMenuPath)
        .map(|p| MenuPath::parse(p).map_err(|e| row.bad_path(e, Field::FeatureMenuPath, p)))
        .transpose()?;
    let title = match row.get(Field::Feature) {
        Some(t) if t.chars().count() > 500 => {
            return Err(RowError::new(
                row.line,
                "feature is longer than 500 characters",
                "功能超过 500 个字",
            ))
        }
        t => t.map(str::to_string),
    };
    Ok((title.is_some() || menu_path.is_some()).then_some(FeatureRef { title, menu_path }))
}

/// Reads requests. Their text is the `text` column, or a title followed by its description
/// (trackers), cut to [`MAX_REQUEST_CHARS`].
pub fn parse_requests(
    table: &Table,
    dialect: Dialect,
) -> Result<Parsed<RequestRow>, ExchangeError> {
    let map = ColumnMap::new(&table.headers, dialect);
    need_any(&map, &[Field::Text, Field::Title])?;
    Ok(parse_each(
        table,
        &map,
        |row| -> Result<RequestRow, RowError> {
            let text = match row.get(Field::Text) {
                Some(t) if t.chars().count() > MAX_REQUEST_CHARS => {
                    return Err(RowError::new(
                        row.line,
                        format!("text is longer than {MAX_REQUEST_CHARS} characters"),
                        format!("内容超过 {MAX_REQUEST_CHARS} 个字"),
                    ))
                }
                Some(t) => t.to_string(),
                None => {
                    let title = row.required(Field::Title)?;
                    match row.get(Field::Description) {
                        Some(d) if d != title => cut(&format!("{title}\n{d}"), MAX_REQUEST_CHARS),
                        _ => cut(title, MAX_REQUEST_CHARS),
                    }
                }
            };
            Ok(RequestRow {
                text,
                source_role: source_role(dialect, row.get(Field::SourceRole)).map_err(|e| {
                    let mut allowed = SourceRole::ALL.map(SourceRole::as_str).to_vec();
                    allowed.extend(["客户", "实施", "研发", "销售", "售前", "领导", "产品"]);
                    let got = row.get(Field::SourceRole).unwrap_or_default();
                    row.not_one_of(e, Field::SourceRole, got, &allowed)
                })?,
                customer: row.name(Field::Customer)?,
                requester: row.name(Field::Requester)?.unwrap_or_default(),
                product: row.name(Field::Product)?,
                key: row.name(Field::Key)?,
                source_note: row.name(Field::SourceNote)?,
                contact: row.name(Field::Contact)?,
                created_at: row.timestamp(Field::CreatedAt)?,
                feature: feature_ref(row)?,
                decision: row
                    .get(Field::Decision)
                    .map(|d| {
                        decision_of(d).map_err(|e| {
                            row.not_one_of(
                                e,
                                Field::Decision,
                                d,
                                &Decision::ALL.map(Decision::as_str),
                            )
                        })
                    })
                    .transpose()?
                    .unwrap_or(Decision::New),
                reason: row.long_text(Field::Reason, MAX_REQUEST_CHARS)?,
                duplicate_of: row.name(Field::DuplicateOf)?,
                planned_release: row.name(Field::PlannedRelease)?,
                decided_by: row.name(Field::DecidedBy)?,
                decided_at: row.timestamp(Field::DecidedAt)?,
            })
        },
    ))
}

fn tracker_stage(dialect: Dialect, v: &str) -> Stage {
    let v = v.to_lowercase();
    let v = v.as_str();
    match dialect {
        Dialect::Zentao => match v {
            "已计划" | "planned" | "已立项" | "projected" => Stage::Designed,
            "研发中" | "developing" => Stage::Stubbed,
            "研发完毕" | "developed" | "测试中" | "testing" | "测试完毕" | "tested" | "已验收"
            | "verified" => Stage::Built,
            "已发布" | "released" => Stage::Released,
            _ => Stage::Idea,
        },
        _ => match v {
            "done" | "resolved" | "closed" | "完成" | "已完成" | "已解决" | "已关闭" => {
                Stage::Built
            }
            "in progress" | "in review" | "feedback" | "进行中" | "处理中" | "反馈" => {
                Stage::Stubbed
            }
            "selected for development" | "planned" | "已计划" => Stage::Designed,
            _ => Stage::Idea,
        },
    }
}

fn effort(row: &Row<'_>, dialect: Dialect) -> Result<Option<f64>, RowError> {
    let Some(v) = row.get(Field::Effort) else {
        return Ok(None);
    };
    // cunjin counts person-days; ZenTao and Redmine hours; Jira seconds. A working day is 8 h.
    let per_day = match dialect {
        Dialect::Cunjin => 1.0,
        Dialect::Zentao | Dialect::Redmine => 8.0,
        Dialect::Jira => 8.0 * 3600.0,
    };
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=100_000.0 * per_day).contains(&n) => Ok(Some(n / per_day)),
        _ => Err(RowError::new(
            row.line,
            format!("effort '{v}' is not a number between 0 and 100000 days"),
            format!("工作量“{v}”不是 0 到 100000 人天之间的数"),
        )),
    }
}

fn link(row: &Row<'_>, field: Field) -> Result<Option<String>, RowError> {
    row.get(field)
        .map(|l| {
            cunjin_core::web_link(field.label().0, l)
                .map_err(|e| row.invalid(e, field, &format!("“{}”不是 http(s) 网址", l.trim())))
        })
        .transpose()
}

/// Reads features. Trackers' features sit under their module or component in the menus.
pub fn parse_features(
    table: &Table,
    dialect: Dialect,
) -> Result<Parsed<FeatureRow>, ExchangeError> {
    let map = ColumnMap::new(&table.headers, dialect);
    need_any(&map, &[Field::Product])?;
    need_any(&map, &[Field::MenuPath, Field::Title])?;
    Ok(parse_each(
        table,
        &map,
        |row| -> Result<FeatureRow, RowError> {
            let product = row
                .name(Field::Product)?
                .ok_or_else(|| RowError::new(row.line, "product is empty", "“产品”为空"))?;
            let title = row.get(Field::Title);
            if let Some(t) = title {
                if t.chars().count() > 500 {
                    return Err(RowError::new(
                        row.line,
                        "title is longer than 500 characters",
                        "标题超过 500 个字",
                    ));
                }
            }
            let leaf =
                |t: &str| MenuPath::from_title(t).map_err(|e| row.bad_path(e, Field::Title, t));
            let path = match (row.get(Field::MenuPath), row.get(Field::Module), title) {
                (Some(p), _, _) => p.to_string(),
                (None, Some(m), Some(t)) if !m.trim_matches(['/', ' ']).is_empty() => {
                    format!("{}/{}", m.trim_matches(['/', ' ']), leaf(t)?)
                }
                (None, _, Some(t)) => leaf(t)?.to_string(),
                (None, _, None) => {
                    return Err(RowError::new(
                        row.line,
                        "menu_path and title are both empty",
                        "“菜单路径”和“标题”都为空",
                    ))
                }
            };
            let menu_path =
                MenuPath::parse(&path).map_err(|e| row.bad_path(e, Field::MenuPath, &path))?;
            let stage = match (dialect, row.get(Field::Stage)) {
                (_, None) => Stage::Idea,
                (Dialect::Cunjin, Some(s)) => Stage::parse(&s.to_lowercase()).map_err(|e| {
                    row.not_one_of(e, Field::Stage, s, &Stage::ALL.map(Stage::as_str))
                })?,
                (d, Some(s)) => tracker_stage(d, s),
            };
            Ok(FeatureRow {
                product,
                menu_path,
                title: title.map(str::to_string),
                stage,
                effort_days: effort(row, dialect)?,
                target_release: row.name(Field::TargetRelease)?,
                slide_url: link(row, Field::SlideUrl)?,
                recording_url: link(row, Field::RecordingUrl)?,
            })
        },
    ))
}

fn flag(row: &Row<'_>, field: Field) -> Result<bool, RowError> {
    match row.get(field).map(str::to_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "n" | "否" | "不是") => Ok(false),
        Some("1" | "true" | "yes" | "y" | "是" | "✓" | "√") => Ok(true),
        Some(v) => {
            let (en, zh) = field.label();
            Err(RowError::new(
                row.line,
                format!("{en}: '{v}' is not yes or no"),
                format!("“{zh}”的值“{v}”应为 是 或 否"),
            ))
        }
    }
}

/// Reads commitments, in cunjin's own columns only: trackers do not record promises.
pub fn parse_commitments(
    table: &Table,
    dialect: Dialect,
) -> Result<Parsed<CommitmentRow>, ExchangeError> {
    if dialect != Dialect::Cunjin {
        return Err(ExchangeError::Unsupported(format!(
            "commitments are imported from cunjin's own columns, not from a {} export / 承诺只能用寸进自己的列导入",
            dialect.as_str()
        )));
    }
    let map = ColumnMap::new(&table.headers, dialect);
    need_any(&map, &[Field::Customer])?;
    need_any(&map, &[Field::Feature, Field::MenuPath])?;
    Ok(parse_each(
        table,
        &map,
        |row| -> Result<CommitmentRow, RowError> {
            let customer = row
                .name(Field::Customer)?
                .ok_or_else(|| RowError::new(row.line, "customer is empty", "“客户”为空"))?;
            let menu_path = row
                .get(Field::MenuPath)
                .map(|p| MenuPath::parse(p).map_err(|e| row.bad_path(e, Field::MenuPath, p)))
                .transpose()?;
            let feature = match (row.get(Field::Feature), &menu_path) {
                (Some(f), _) if f.chars().count() > 500 => {
                    return Err(RowError::new(
                        row.line,
                        "feature is longer than 500 characters",
                        "功能超过 500 个字",
                    ))
                }
                (Some(f), _) => f.to_string(),
                (None, Some(p)) => p.leaf().to_string(),
                (None, None) => {
                    return Err(RowError::new(
                        row.line,
                        "feature and menu_path are both empty",
                        "“功能”和“菜单路径”都为空",
                    ))
                }
            };
            let shown_as = row
                .get(Field::ShownAs)
                .map(|m| {
                    Mode::parse(&m.to_lowercase()).map_err(|e| {
                        row.not_one_of(e, Field::ShownAs, m, &Mode::ALL.map(Mode::as_str))
                    })
                })
                .transpose()?;
            let status = row
                .get(Field::Status)
                .map(|s| {
                    Status::parse(&s.to_lowercase()).map_err(|e| {
                        row.not_one_of(e, Field::Status, s, &Status::ALL.map(Status::as_str))
                    })
                })
                .transpose()?
                .unwrap_or(Status::Open);
            let criteria = row
                .get(Field::Criteria)
                .map(|c| {
                    c.split(['\n', ';', '；'])
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(|c| match c.strip_prefix([MET_MARK, '√']) {
                            Some(rest) => CriterionRow {
                                text: rest.trim_start().to_string(),
                                met: true,
                            },
                            None => CriterionRow {
                                text: c.to_string(),
                                met: false,
                            },
                        })
                        .filter(|c| !c.text.is_empty())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            if criteria.len() > cunjin_core::MAX_CRITERIA {
                let (n, max) = (criteria.len(), cunjin_core::MAX_CRITERIA);
                return Err(RowError::new(
                    row.line,
                    format!("{n} acceptance criteria; a commitment carries at most {max}"),
                    format!("验收标准 {n} 条，一条承诺最多 {max} 条"),
                ));
            }
            if let Some(long) = criteria.iter().find(|c| c.text.chars().count() > 2000) {
                let start = cut(&long.text, 20);
                return Err(RowError::new(
                    row.line,
                    format!("a criterion is longer than 2000 characters: {start}"),
                    format!("某条验收标准超过 2000 个字：{start}"),
                ));
            }
            Ok(CommitmentRow {
                customer,
                deal: row.name(Field::Deal)?,
                product: row.name(Field::Product)?,
                menu_path,
                feature,
                shown_as,
                promised_by: row.name(Field::PromisedBy)?,
                promised_at: row.date(Field::PromisedAt)?,
                due_date: row.date(Field::DueDate)?,
                critical: flag(row, Field::Critical)?,
                status,
                criteria,
            })
        },
    ))
}

/// An amount as people write it in a sheet: `1200000`, `1,200,000.00`, `¥1,200,000`, `120万`
/// or `120 万元`.
fn money(row: &Row<'_>, field: Field) -> Result<Money, RowError> {
    let Some(v) = row.get(field) else {
        return Ok(Money::default());
    };
    let bad = || {
        let (en, zh) = field.label();
        RowError::new(
            row.line,
            format!("{en}: '{v}' is not an amount like 1200000 or 120万"),
            format!("“{zh}”的值“{v}”不是金额（如 1200000 或 120万）"),
        )
    };
    let plain: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '¥' | '￥' | ' ' | '元'))
        .collect();
    let (number, factor) = match plain.strip_suffix('万') {
        Some(n) => (n, 10_000.0),
        None => (plain.as_str(), 1.0),
    };
    let units = number.parse::<f64>().map_err(|_| bad())? * factor;
    Money::from_units(units).map_err(|_| bad())
}

/// Reads customers and their deals, one deal a row (a row without a deal is the customer
/// alone), in cunjin's own columns only.
pub fn parse_customers(
    table: &Table,
    dialect: Dialect,
) -> Result<Parsed<CustomerRow>, ExchangeError> {
    if dialect != Dialect::Cunjin {
        return Err(ExchangeError::Unsupported(format!(
            "customers are imported from cunjin's own columns, not from a {} export / 客户只能用寸进自己的列导入",
            dialect.as_str()
        )));
    }
    let map = ColumnMap::new(&table.headers, dialect);
    need_any(&map, &[Field::Customer])?;
    Ok(parse_each(
        table,
        &map,
        |row| -> Result<CustomerRow, RowError> {
            let customer = row
                .name(Field::Customer)?
                .ok_or_else(|| RowError::new(row.line, "customer is empty", "“客户”为空"))?;
            let weight = match row.get(Field::Weight) {
                None => None,
                Some(w) => match w.parse::<f64>() {
                    Ok(n) if n.is_finite() && (0.0..=1000.0).contains(&n) => Some(n),
                    _ => {
                        return Err(RowError::new(
                            row.line,
                            format!("weight '{w}' is not a number between 0 and 1000"),
                            format!("权重“{w}”不是 0 到 1000 之间的数"),
                        ))
                    }
                },
            };
            let deal = match row.name(Field::Deal)? {
                None => None,
                Some(name) => Some(DealRow {
                    name,
                    stage: row
                        .get(Field::DealStage)
                        .map(|s| {
                            DealStage::parse(&s.to_lowercase()).map_err(|e| {
                                row.not_one_of(
                                    e,
                                    Field::DealStage,
                                    s,
                                    &DealStage::ALL.map(DealStage::as_str),
                                )
                            })
                        })
                        .transpose()?
                        .unwrap_or(DealStage::Won),
                    contract_value: money(row, Field::ContractValue)?,
                    acceptance_date: row.date(Field::AcceptanceDate)?,
                    pilot: flag(row, Field::Pilot)?,
                }),
            };
            Ok(CustomerRow {
                customer,
                weight,
                deal,
            })
        },
    ))
}

/// A column of a file that the import does not read although it holds text: said in the report
/// (and the dry run), so that words a person typed are not dropped without a warning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnusedColumn {
    /// Its name in the header line.
    pub column: String,
    /// How many rows have text in it.
    pub rows: usize,
}

/// The fields an import of `kind` reads.
fn fields_read(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Requests => &[
            Field::Key,
            Field::Text,
            Field::Title,
            Field::Description,
            Field::SourceRole,
            Field::SourceNote,
            Field::Customer,
            Field::Requester,
            Field::Product,
            Field::Decision,
            Field::Reason,
            Field::DuplicateOf,
            Field::Feature,
            Field::FeatureMenuPath,
            Field::PlannedRelease,
            Field::Contact,
            Field::CreatedAt,
            Field::DecidedBy,
            Field::DecidedAt,
        ],
        Kind::Features => &[
            Field::Key,
            Field::Product,
            Field::MenuPath,
            Field::Module,
            Field::Title,
            Field::Stage,
            Field::Effort,
            Field::TargetRelease,
            Field::SlideUrl,
            Field::RecordingUrl,
        ],
        Kind::Customers => &[
            Field::Key,
            Field::Customer,
            Field::Weight,
            Field::Deal,
            Field::DealStage,
            Field::ContractValue,
            Field::AcceptanceDate,
            Field::Pilot,
        ],
        Kind::Commitments => &[
            Field::Key,
            Field::Customer,
            Field::Deal,
            Field::Product,
            Field::MenuPath,
            Field::Feature,
            Field::ShownAs,
            Field::PromisedBy,
            Field::PromisedAt,
            Field::DueDate,
            Field::Critical,
            Field::Status,
            Field::Criteria,
        ],
    }
}

/// Whether a cell reads as words (a description, criteria, a note) rather than a code, a number,
/// a date or a name: eight characters or more, with letters, and a space or a non-Latin letter.
fn looks_like_text(cell: &str) -> bool {
    cell.chars().count() >= 8
        && cell.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && cell
            .chars()
            .any(|c| c.is_whitespace() || (c.is_alphabetic() && !c.is_ascii()))
}

/// The columns that an import of `kind` in `dialect` leaves out although they hold text (in at
/// least one row in ten of those that fill them).
pub fn unused_text_columns(table: &Table, dialect: Dialect, kind: Kind) -> Vec<UnusedColumn> {
    let map = ColumnMap::new(&table.headers, dialect);
    let mut read: Vec<usize> = fields_read(kind)
        .iter()
        .flat_map(|f| map.positions(*f).iter().copied())
        .collect();
    read.sort_unstable();
    let mut unused = Vec::new();
    for (i, name) in table.headers.iter().enumerate() {
        if read.binary_search(&i).is_ok() || name.trim().is_empty() {
            continue;
        }
        let filled: Vec<&str> = table
            .rows
            .iter()
            .filter_map(|r| r.cells.get(i).map(|c| c.trim()))
            .filter(|c| !c.is_empty())
            .collect();
        let text = filled.iter().filter(|c| looks_like_text(c)).count();
        if text > 0 && text * 10 >= filled.len() {
            unused.push(UnusedColumn {
                column: name.trim_start_matches('\u{feff}').trim().to_string(),
                rows: text,
            });
        }
    }
    unused
}

/// What a kind's rows are, for messages.
pub fn kind_label(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Requests => ("requests", "需求"),
        Kind::Features => ("features", "功能"),
        Kind::Commitments => ("commitments", "承诺"),
        Kind::Customers => ("customers", "客户"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::TableRow;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| TableRow {
                    line: i as u64 + 2,
                    cells: r.iter().map(|s| s.to_string()).collect(),
                    undecodable: false,
                })
                .collect(),
            encoding: None,
            undecodable_header: false,
        }
    }

    #[test]
    fn request_text_is_title_and_description_cut_to_the_limit() {
        let long = "长".repeat(3000);
        let t = table(
            &["Summary", "Description"],
            &[&["DRG", "preview"], &["x", &long]],
        );
        let p = parse_requests(&t, Dialect::Jira).unwrap();
        assert_eq!(p.rows[0].1.text, "DRG\npreview");
        assert_eq!(p.rows[1].1.text.chars().count(), MAX_REQUEST_CHARS);
        assert!(p.rows[1].1.text.ends_with('…'));
        // cunjin's own `text` is never cut: too long is a bad row.
        let t = table(&["text"], &[&[&long]]);
        let p = parse_requests(&t, Dialect::Cunjin).unwrap();
        assert_eq!(p.errors[0].line, 2);
    }

    #[test]
    fn source_roles_in_both_languages_and_trackers() {
        let t = table(
            &["内容", "来源"],
            &[&["a", "客户"], &["b", "Sales"], &["c", ""], &["d", "火星"]],
        );
        let p = parse_requests(&t, Dialect::Cunjin).unwrap();
        let roles: Vec<&str> = p.rows.iter().map(|r| r.1.source_role.as_str()).collect();
        assert_eq!(roles, ["customer", "sales", "product"]);
        assert_eq!(p.errors[0].line, 5);
        assert!(
            p.errors[0].reason_zh.contains("来源角色"),
            "{}",
            p.errors[0]
        );
        let p = parse_requests(
            &table(&["需求名称", "来源"], &[&["a", "论坛"]]),
            Dialect::Zentao,
        )
        .unwrap();
        assert_eq!(p.rows[0].1.source_role.as_str(), "product");
    }

    #[test]
    fn a_row_with_more_criteria_than_a_commitment_carries_is_refused_with_its_line() {
        let many = (0..=cunjin_core::MAX_CRITERIA)
            .map(|i| format!("标准{i}"))
            .collect::<Vec<_>>()
            .join("；");
        let enough = many.rsplit_once('；').unwrap().0.to_string();
        let t = table(
            &["客户", "功能", "验收标准"],
            &[&["协和", "排班", &many], &["协和", "排班", &enough]],
        );
        let p = parse_commitments(&t, Dialect::Cunjin).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].1.criteria.len(), cunjin_core::MAX_CRITERIA);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].line, 2);
        let text = p.errors[0].to_string();
        assert!(text.contains("101") && text.contains("100"), "{text}");
    }

    #[test]
    fn commitment_flags_dates_and_criteria() {
        let t = table(
            &[
                "客户",
                "功能",
                "验收必须",
                "承诺日期",
                "到期日",
                "验收标准",
                "状态",
            ],
            &[
                &[
                    "协和",
                    "排班",
                    "是",
                    "2026/3/1",
                    "2026-06-30 00:00:00",
                    "a；✓ b\n√c",
                    "",
                ],
                &["协和", "排班", "maybe", "", "", "", ""],
                &["协和", "排班", "", "31.12.2026", "", "", ""],
                &["", "排班", "", "", "", "", ""],
                &["协和", "排班", "", "", "", "", "done"],
            ],
        );
        let p = parse_commitments(&t, Dialect::Cunjin).unwrap();
        let c = &p.rows[0].1;
        assert!(c.critical);
        assert_eq!(c.promised_at.unwrap().to_string(), "2026-03-01");
        assert_eq!(c.due_date.unwrap().to_string(), "2026-06-30");
        let texts: Vec<(&str, bool)> = c
            .criteria
            .iter()
            .map(|k| (k.text.as_str(), k.met))
            .collect();
        assert_eq!(texts, [("a", false), ("b", true), ("c", true)]);
        assert_eq!(c.status, Status::Open);
        let lines: Vec<u64> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(parse_commitments(&t, Dialect::Jira).is_err());
    }

    #[test]
    fn features_need_a_product_column_and_a_path_or_title() {
        let t = table(&["title"], &[&["x"]]);
        let e = parse_features(&t, Dialect::Cunjin).unwrap_err();
        assert!(
            e.to_string().contains("product") && e.to_string().contains("产品"),
            "{e}"
        );
        let t = table(
            &["product", "title", "stage"],
            &[&["HIS", "挂号/预约", "Built"]],
        );
        let p = parse_features(&t, Dialect::Cunjin).unwrap();
        assert_eq!(p.rows[0].1.menu_path.as_str(), "挂号-预约");
        assert_eq!(p.rows[0].1.stage, Stage::Built);
    }

    #[test]
    fn each_language_gets_its_own_reason() {
        let t = table(
            &["product", "menu_path", "stage", "slide_url"],
            &[
                &["HIS", "门诊/收费", "shipped", ""],
                &["HIS", "门诊//收费", "", ""],
                &["HIS", "门诊", "", "ftp://x"],
            ],
        );
        let p = parse_features(&t, Dialect::Cunjin).unwrap();
        let e = &p.errors[0];
        assert!(e.reason_en.contains("'shipped' is not one of"), "{e}");
        assert_eq!(
            e.reason_zh,
            "“阶段”无效：“shipped”应为 idea、designed、stubbed、built、released 之一"
        );
        assert!(
            p.errors[1].reason_zh.contains("有空的层级"),
            "{}",
            p.errors[1]
        );
        assert!(
            p.errors[2].reason_zh.contains("不是 http(s) 网址"),
            "{}",
            p.errors[2]
        );
        for e in &p.errors {
            assert!(
                !e.reason_zh.contains("is not") && !e.reason_zh.contains("has an"),
                "{e}"
            );
        }
        let long = format!("{}{}", "字".repeat(19), "x".repeat(2000));
        let t = table(
            &["customer", "feature", "criteria"],
            &[&["协和", "排班", &long]],
        );
        let e = &parse_commitments(&t, Dialect::Cunjin).unwrap().errors[0];
        let start = format!("{}…", "字".repeat(19));
        assert!(e.reason_en.ends_with(&format!(": {start}")), "{e}");
        assert!(!e.reason_en.contains("……"), "{e}");
        assert!(e.reason_zh.ends_with(&format!("：{start}")), "{e}");
    }

    #[test]
    fn undecodable_rows_are_bad_rows_of_every_kind() {
        let mut t = table(
            &["customer", "feature", "product", "text", "title"],
            &[
                &["协和", "排班", "HIS", "a", "排班"],
                &["协和", "排\u{FFFD}", "HIS", "b\u{FFFD}", "排\u{FFFD}"],
            ],
        );
        t.rows[1].undecodable = true;
        let r = parse_requests(&t, Dialect::Cunjin).unwrap();
        let f = parse_features(&t, Dialect::Cunjin).unwrap();
        let c = parse_commitments(&t, Dialect::Cunjin).unwrap();
        for errors in [&r.errors, &f.errors, &c.errors] {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].line, 3);
            assert!(errors[0].reason_en.contains("GBK"), "{}", errors[0]);
            assert!(
                errors[0].reason_zh.contains("无法识别的字节"),
                "{}",
                errors[0]
            );
        }
        assert_eq!((r.rows.len(), f.rows.len(), c.rows.len()), (1, 1, 1));
        t.undecodable_header = true;
        assert_eq!(
            parse_requests(&t, Dialect::Cunjin).unwrap().errors[0].line,
            1
        );
    }

    #[test]
    fn columns_with_text_that_no_field_reads_are_named() {
        let t = table(
            &[
                "需求名称",
                "描述",
                "验收标准",
                "创建日期",
                "指派给",
                "邮箱",
                "关键词",
            ],
            &[
                &[
                    "排班",
                    "按科室排班，可复制上周",
                    "可按周复制排班表",
                    "2026-01-05 10:00:00",
                    "张三",
                    "zhang@x.com",
                    "排班",
                ],
                &[
                    "挂号",
                    "",
                    "",
                    "2026-01-06 09:30:00",
                    "李四",
                    "li@x.com",
                    "",
                ],
            ],
        );
        let unused = unused_text_columns(&t, Dialect::Zentao, Kind::Requests);
        assert_eq!(
            unused,
            [UnusedColumn {
                column: "验收标准".into(),
                rows: 1
            }]
        );
        // The description is read by requests, not by features.
        let unused = unused_text_columns(&t, Dialect::Zentao, Kind::Features);
        let names: Vec<&str> = unused.iter().map(|u| u.column.as_str()).collect();
        assert_eq!(names, ["描述", "验收标准"]);
    }

    #[test]
    fn zentao_description_goes_by_several_names() {
        for name in ["需求描述", "描述", "详细描述"] {
            let t = table(
                &["需求名称", name, "来源备注"],
                &[&["电子病历质控", "三级查房提醒医生", "华西医院"]],
            );
            let p = parse_requests(&t, Dialect::Zentao).unwrap();
            assert_eq!(p.rows[0].1.text, "电子病历质控\n三级查房提醒医生", "{name}");
            assert_eq!(p.rows[0].1.source_note.as_deref(), Some("华西医院"));
            assert!(unused_text_columns(&t, Dialect::Zentao, Kind::Requests).is_empty());
        }
    }

    #[test]
    fn customers_with_their_deals_and_amounts_as_people_write_them() {
        let t = table(
            &[
                "客户",
                "权重",
                "商机",
                "商机阶段",
                "合同金额",
                "验收日期",
                "试点",
            ],
            &[
                &[
                    "华西",
                    "2",
                    "电子病历四级",
                    "won",
                    "1,200,000.50",
                    "2027-06-30",
                    "是",
                ],
                &["华西", "", "互联网医院", "", "120万", "", ""],
                &["协和", "", "", "", "", "", ""],
                &["协和", "x", "", "", "", "", ""],
                &["协和", "", "HIS", "signed", "¥3", "", ""],
                &["协和", "", "HIS", "", "很多", "", ""],
            ],
        );
        let p = parse_customers(&t, Dialect::Cunjin).unwrap();
        let d = p.rows[0].1.deal.as_ref().unwrap();
        assert_eq!(p.rows[0].1.weight, Some(2.0));
        assert_eq!(
            (d.stage, d.contract_value.cents(), d.pilot),
            (DealStage::Won, 120_000_050, true)
        );
        assert_eq!(d.acceptance_date.unwrap().to_string(), "2027-06-30");
        let d = p.rows[1].1.deal.as_ref().unwrap();
        assert_eq!(
            (d.stage, d.contract_value.units()),
            (DealStage::Won, 1_200_000.0)
        );
        assert!(p.rows[2].1.deal.is_none());
        let lines: Vec<u64> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 6, 7]);
        assert!(
            p.errors[2].reason_zh.contains("不是金额"),
            "{}",
            p.errors[2]
        );
        assert!(parse_customers(&t, Dialect::Jira).is_err());
    }

    #[test]
    fn tracker_stages() {
        assert_eq!(tracker_stage(Dialect::Zentao, "已发布"), Stage::Released);
        assert_eq!(tracker_stage(Dialect::Zentao, "developing"), Stage::Stubbed);
        assert_eq!(tracker_stage(Dialect::Jira, "Done"), Stage::Built);
        assert_eq!(tracker_stage(Dialect::Redmine, "新建"), Stage::Idea);
        assert_eq!(tracker_stage(Dialect::Redmine, "已解决"), Stage::Built);
    }
}
