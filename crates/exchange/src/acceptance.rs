//! The acceptance papers of a deal as Word documents the customer edits, signs and seals: the
//! acceptance plan (验收方案: the checks to run, criterion by criterion) and the acceptance
//! report (验收报告: what was checked against which criterion and the result, the open problems and
//! their rectification, the panel's conclusion, signatures and seals of both parties).
//!
//! The text is chosen here in Chinese or English; the data comes from the ledger. Fonts are
//! named so that Word and WPS pick a Chinese face (宋体 / SimSun) and LibreOffice its substitute.

use chrono::NaiveDate;
use cunjin_core::{Mode, Money, Status};
use docx_rs::{
    AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow, WidthType,
};

use crate::table::Sheet;
use crate::ExchangeError;

/// Which paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 验收方案: the checks to run.
    Plan,
    /// 验收报告: the checks and their results.
    Report,
}

/// The language of a paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperLang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

/// One criterion of a commitment and how it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionLine {
    /// The criterion, as agreed.
    pub text: String,
    /// Whether it is met.
    pub met: bool,
    /// Who found it met.
    pub met_by: Option<String>,
    /// When (a date).
    pub met_on: Option<NaiveDate>,
    /// A link to the evidence (a recording, a screenshot, a ticket).
    pub evidence: Option<String>,
}

/// One commitment under acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptanceItem {
    /// The tender's clause number, when the deal came from a bid.
    pub clause: Option<String>,
    /// The feature, as the customer knows it (title and menu path).
    pub feature: String,
    /// Whether acceptance depends on it.
    pub critical: bool,
    /// Its criteria; none means the feature is checked as delivered and usable.
    pub criteria: Vec<CriterionLine>,
}

/// A problem left open at acceptance, with its rectification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem {
    /// The feature.
    pub feature: String,
    /// What is not yet as agreed.
    pub problem: String,
    /// The release that is to fix it, if planned.
    pub planned_release: Option<String>,
}

/// Everything a paper says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptanceDoc {
    /// Plan or report.
    pub paper: Paper,
    /// Its language.
    pub lang: PaperLang,
    /// The project: the deal's name.
    pub project: String,
    /// The customer (甲方).
    pub customer: String,
    /// The vendor (乙方).
    pub vendor: String,
    /// The contract number, if known.
    pub contract_number: Option<String>,
    /// The contract value.
    pub contract_value: Option<Money>,
    /// The payment milestone the acceptance releases, with its amount.
    pub milestone: Option<(String, Money)>,
    /// The date of the paper.
    pub date: NaiveDate,
    /// The commitments under acceptance.
    pub items: Vec<AcceptanceItem>,
    /// The problems left open.
    pub open_items: Vec<OpenItem>,
}

/// An amount as a contract writes it: ¥1,234,567.00.
pub fn yuan(m: Money) -> String {
    let cents = m.cents();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("¥{grouped}.{:02}", cents % 100)
}

/// The words of a paper in its language.
struct Words {
    zh: bool,
}

impl Words {
    fn w<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.zh {
            zh
        } else {
            en
        }
    }
}

fn fonts() -> RunFonts {
    RunFonts::new()
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
        .east_asia("宋体")
}

fn run(text: &str) -> Run {
    Run::new().add_text(text).fonts(fonts())
}

fn para(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text))
}

fn heading(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text).bold().size(28))
}

fn cell(text: &str) -> TableCell {
    // A cell with several lines keeps them as paragraphs.
    let mut c = TableCell::new();
    for line in text.split('\n') {
        c = c.add_paragraph(para(line));
    }
    c
}

fn head_cell(text: &str) -> TableCell {
    TableCell::new().add_paragraph(Paragraph::new().add_run(run(text).bold()))
}

/// The width of the text on an A4 page with Word's default margins, in twentieths of a point.
const TEXT_WIDTH: usize = 8800;

/// A table with a bold header row and columns of the given shares of the text width (Word reads
/// each cell's width, LibreOffice the table's grid: both are set).
fn table(header: &[&str], rows: Vec<Vec<String>>, shares: &[usize]) -> Table {
    let total: usize = shares.iter().sum();
    let widths: Vec<usize> = shares
        .iter()
        .map(|s| s * TEXT_WIDTH / total.max(1))
        .collect();
    let sized =
        |c: TableCell, i: usize| c.width(widths.get(i).copied().unwrap_or(0), WidthType::Dxa);
    let mut all = vec![TableRow::new(
        header
            .iter()
            .enumerate()
            .map(|(i, h)| sized(head_cell(h), i))
            .collect(),
    )];
    for r in rows {
        all.push(TableRow::new(
            r.iter()
                .enumerate()
                .map(|(i, c)| sized(cell(c), i))
                .collect(),
        ));
    }
    Table::new(all).set_grid(widths)
}

/// The paper as a .docx file.
pub fn acceptance_docx(doc: &AcceptanceDoc) -> Result<Vec<u8>, ExchangeError> {
    let t = Words {
        zh: doc.lang == PaperLang::Zh,
    };
    let title = match (doc.paper, doc.lang) {
        (Paper::Plan, PaperLang::Zh) => format!("{}验收方案", doc.project),
        (Paper::Report, PaperLang::Zh) => format!("{}验收报告", doc.project),
        (Paper::Plan, PaperLang::En) => format!("Acceptance plan: {}", doc.project),
        (Paper::Report, PaperLang::En) => format!("Acceptance report: {}", doc.project),
    };
    let none = t.w("（无）", "(none)");
    let mut d = Docx::new()
        .default_fonts(fonts())
        .default_size(21)
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run(&title).bold().size(36)),
        );

    // The project and the contract.
    let mut facts = vec![
        (t.w("项目名称", "Project"), doc.project.clone()),
        (t.w("甲方（客户）", "Customer"), doc.customer.clone()),
        (t.w("乙方（供应商）", "Vendor"), doc.vendor.clone()),
        (
            t.w("合同编号", "Contract number"),
            doc.contract_number.clone().unwrap_or_else(|| none.into()),
        ),
        (
            t.w("合同金额", "Contract value"),
            doc.contract_value.map(yuan).unwrap_or_else(|| none.into()),
        ),
    ];
    if let Some((name, amount)) = &doc.milestone {
        facts.push((
            t.w("付款节点", "Payment milestone"),
            format!("{name} {}", yuan(*amount)),
        ));
    }
    facts.push((
        match doc.paper {
            Paper::Plan => t.w("编制日期", "Date"),
            Paper::Report => t.w("验收日期", "Date of acceptance"),
        },
        doc.date.to_string(),
    ));
    let (name_w, value_w) = (TEXT_WIDTH / 4, TEXT_WIDTH - TEXT_WIDTH / 4);
    let fact_rows = facts
        .into_iter()
        .map(|(k, v)| {
            TableRow::new(vec![
                head_cell(k).width(name_w, WidthType::Dxa),
                cell(&v).width(value_w, WidthType::Dxa),
            ])
        })
        .collect();
    d = d.add_table(Table::new(fact_rows).set_grid(vec![name_w, value_w]));

    // The checks.
    let with_clauses = doc.items.iter().any(|i| i.clause.is_some());
    d = d.add_paragraph(heading(match doc.paper {
        Paper::Plan => t.w("一、验收内容及标准", "1. What is checked, and against what"),
        Paper::Report => t.w("一、验收内容及结果", "1. What was checked, and the result"),
    }));
    let mut header = vec![t.w("序号", "No.")];
    if with_clauses {
        header.push(t.w("招标条款号", "Tender clause"));
    }
    header.push(t.w("功能", "Feature"));
    header.push(t.w("验收标准", "Criterion"));
    match doc.paper {
        Paper::Plan => {
            header.push(t.w("验收方法", "How it is checked"));
            header.push(t.w("结果", "Result"));
        }
        Paper::Report => {
            header.push(t.w("结果", "Result"));
            header.push(t.w("证明材料", "Evidence"));
        }
    }
    let mut rows = Vec::new();
    let mut n = 0;
    for item in &doc.items {
        let feature = if item.critical {
            format!("{}{}", item.feature, t.w("（关键）", " (critical)"))
        } else {
            item.feature.clone()
        };
        let lines: Vec<CriterionLine> = if item.criteria.is_empty() {
            vec![CriterionLine {
                text: t
                    .w(
                        "按合同约定交付并可正常使用",
                        "Delivered as agreed and usable",
                    )
                    .into(),
                met: false,
                met_by: None,
                met_on: None,
                evidence: None,
            }]
        } else {
            item.criteria.clone()
        };
        for line in lines {
            n += 1;
            let mut row = vec![n.to_string()];
            if with_clauses {
                row.push(item.clause.clone().unwrap_or_default());
            }
            row.push(feature.clone());
            row.push(line.text.clone());
            match doc.paper {
                Paper::Plan => {
                    row.push(String::new());
                    row.push(String::new());
                }
                Paper::Report => {
                    let result = if line.met {
                        let mut s = t.w("通过", "Met").to_string();
                        if let Some(by) = &line.met_by {
                            s.push_str(&format!("\n{by}"));
                        }
                        if let Some(on) = line.met_on {
                            s.push_str(&format!("\n{on}"));
                        }
                        s
                    } else {
                        t.w("未通过", "Not met").to_string()
                    };
                    row.push(result);
                    row.push(line.evidence.clone().unwrap_or_default());
                }
            }
            rows.push(row);
        }
    }
    let shares: &[usize] = if with_clauses {
        &[6, 11, 19, 29, 13, 12]
    } else {
        &[6, 22, 33, 16, 13]
    };
    d = d.add_table(table(&header, rows, shares));

    // Open problems and their rectification.
    d = d.add_paragraph(heading(t.w(
        "二、存在问题与整改建议",
        "2. Open problems and their rectification",
    )));
    if doc.open_items.is_empty() {
        d = d.add_paragraph(para(none));
    } else {
        let rows = doc
            .open_items
            .iter()
            .enumerate()
            .map(|(i, o)| {
                vec![
                    (i + 1).to_string(),
                    o.feature.clone(),
                    o.problem.clone(),
                    o.planned_release
                        .clone()
                        .unwrap_or_else(|| t.w("待定", "not yet planned").into()),
                ]
            })
            .collect();
        d = d.add_table(table(
            &[
                t.w("序号", "No."),
                t.w("功能", "Feature"),
                t.w("问题", "Problem"),
                t.w("整改计划（版本）", "Rectification (release)"),
            ],
            rows,
            &[6, 24, 45, 25],
        ));
    }

    // The conclusion, left to the panel, and the signatures.
    d = d
        .add_paragraph(heading(t.w("三、验收结论", "3. Conclusion of the panel")))
        .add_paragraph(para(&"_".repeat(60)))
        .add_paragraph(para(&"_".repeat(60)))
        .add_paragraph(heading(t.w("四、签字盖章", "4. Signatures and seals")));
    let party = |who: &str| {
        format!(
            "{who}\n\n{}\n\n{}\n\n{}",
            t.w("代表签字：", "Signed:"),
            t.w("（盖章）", "(seal)"),
            t.w("日期：    年   月   日", "Date:"),
        )
    };
    let sign = Table::new(vec![TableRow::new(vec![
        cell(&party(&format!(
            "{}{}",
            t.w("甲方：", "Customer: "),
            doc.customer
        ))),
        cell(&party(&format!(
            "{}{}",
            t.w("乙方：", "Vendor: "),
            doc.vendor
        ))),
    ])])
    .width(5000, WidthType::Pct);
    d = d.add_table(sign);

    let mut out = std::io::Cursor::new(Vec::new());
    d.build()
        .pack(&mut out)
        .map_err(|e| ExchangeError::Write(e.to_string()))?;
    Ok(out.into_inner())
}

/// One promise in the promise-vs-delivery report (承诺兑现清单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseLine {
    /// The tender's clause number, when the promise came from a bid.
    pub clause: Option<String>,
    /// The feature, as the customer knows it.
    pub feature: String,
    /// How it was shown when it was promised.
    pub shown_as: Mode,
    /// The day it was promised.
    pub promised_on: NaiveDate,
    /// The date it is due, if agreed.
    pub due: Option<NaiveDate>,
    /// The release that brings it, if planned or shipped.
    pub release: Option<String>,
    /// The day it was deployed at the customer.
    pub delivered_on: Option<NaiveDate>,
    /// Where it stands.
    pub status: Status,
    /// Criteria met, and how many there are.
    pub criteria: (u32, u32),
}

/// The promise-vs-delivery report of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseReport {
    /// Its language.
    pub lang: PaperLang,
    /// The customer.
    pub customer: String,
    /// The vendor.
    pub vendor: String,
    /// The date of the report.
    pub date: NaiveDate,
    /// Every promise, in the order they were made.
    pub lines: Vec<PromiseLine>,
}

/// How a promise was shown, in the words the customer may read: the report goes to the
/// customer, so it says what they saw (a live system, a recording, a presentation, a written
/// promise), not how far the feature was from built.
pub fn shown_as_for_customer(mode: Mode, zh: bool) -> &'static str {
    let (z, e) = match mode {
        Mode::Live | Mode::Unverified => ("现场演示", "Live demonstration"),
        Mode::Fallback => ("录屏或截图", "Recording or screenshot"),
        Mode::Menu | Mode::Slides | Mode::Words => ("方案介绍", "Presented as a plan"),
        Mode::Promise => ("承诺", "Commitment"),
    };
    if zh {
        z
    } else {
        e
    }
}

fn status_words(status: Status, zh: bool) -> &'static str {
    let (z, e) = match status {
        Status::Open => ("待交付", "To be delivered"),
        Status::Delivered => ("已交付，待验收", "Delivered, awaiting acceptance"),
        Status::Accepted => ("已验收", "Accepted"),
        Status::Waived => ("已变更", "Changed by agreement"),
    };
    if zh {
        z
    } else {
        e
    }
}

impl PromiseReport {
    fn header(&self) -> Vec<&'static str> {
        let t = Words {
            zh: self.lang == PaperLang::Zh,
        };
        let mut h = vec![t.w("序号", "No.")];
        if self.lines.iter().any(|l| l.clause.is_some()) {
            h.push(t.w("招标条款号", "Tender clause"));
        }
        h.extend([
            t.w("功能", "Feature"),
            t.w("演示方式", "How it was shown"),
            t.w("承诺日期", "Promised on"),
            t.w("约定交付", "Due"),
            t.w("版本", "Release"),
            t.w("交付日期", "Delivered on"),
            t.w("验收标准", "Criteria met"),
            t.w("状态", "Status"),
        ]);
        h
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let zh = self.lang == PaperLang::Zh;
        let with_clauses = self.lines.iter().any(|l| l.clause.is_some());
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        self.lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut r = vec![(i + 1).to_string()];
                if with_clauses {
                    r.push(l.clause.clone().unwrap_or_default());
                }
                r.extend([
                    l.feature.clone(),
                    shown_as_for_customer(l.shown_as, zh).to_string(),
                    l.promised_on.to_string(),
                    date(l.due),
                    l.release.clone().unwrap_or_default(),
                    date(l.delivered_on),
                    if l.criteria.1 == 0 {
                        String::new()
                    } else {
                        format!("{}/{}", l.criteria.0, l.criteria.1)
                    },
                    status_words(l.status, zh).to_string(),
                ]);
                r
            })
            .collect()
    }

    /// The report as a sheet, for .xlsx or .csv.
    pub fn sheet(&self) -> Sheet {
        Sheet {
            headers: self.header().into_iter().map(String::from).collect(),
            rows: self.rows(),
        }
    }

    /// The report as a .docx file.
    pub fn docx(&self) -> Result<Vec<u8>, ExchangeError> {
        let t = Words {
            zh: self.lang == PaperLang::Zh,
        };
        let title = if t.zh {
            format!("{}承诺兑现清单", self.customer)
        } else {
            format!("Promises and delivery: {}", self.customer)
        };
        let header = self.header();
        let mut shares = vec![5];
        if header.len() == 10 {
            shares.push(9);
        }
        shares.extend([20, 11, 11, 11, 8, 11, 7, 12]);
        let d = Docx::new()
            .default_fonts(fonts())
            .default_size(18)
            .add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(run(&title).bold().size(32)),
            )
            .add_paragraph(para(&format!(
                "{}{}    {}{}",
                t.w("供应商：", "Vendor: "),
                self.vendor,
                t.w("日期：", "Date: "),
                self.date
            )))
            .add_table(table(&header, self.rows(), &shares));
        let mut out = std::io::Cursor::new(Vec::new());
        d.build()
            .pack(&mut out)
            .map_err(|e| ExchangeError::Write(e.to_string()))?;
        Ok(out.into_inner())
    }
}
