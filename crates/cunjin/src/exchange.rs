//! `cunjin import` and `cunjin export`: files of requests, features and commitments in and out.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cunjin_core::CustomerId;
use cunjin_exchange::{
    parse_commitments, parse_customers, parse_features, parse_requests, read_table,
    unused_text_columns, write_csv, write_xlsx, Container, Dialect, Kind, RowError, Sheet, Table,
    UnusedColumn, MET_MARK,
};
use cunjin_store::imports::{Apply, ImportReport};
use cunjin_store::Store;
use serde::Serialize;

/// Who imported, as recorded on imported requests and in the audit trail.
const ACTOR: &str = "import";

/// The `--format` of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// cunjin's own columns, comma-separated text.
    Csv,
    /// cunjin's own columns, an Excel workbook.
    Xlsx,
    /// A ZenTao (禅道) story export, CSV or .xlsx.
    Zentao,
    /// A Jira CSV export.
    Jira,
    /// A Redmine issue export, CSV or .xlsx.
    Redmine,
}

/// The `--format` of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated text, UTF-8 with BOM (opens in Excel).
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// What a file holds, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Requests (需求).
    Requests,
    /// Features of the catalogue (功能).
    Features,
    /// Commitments to customers (承诺).
    Commitments,
    /// Customers and their deals (客户与商机): import them before their commitments.
    Customers,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Requests => Kind::Requests,
            KindArg::Features => Kind::Features,
            KindArg::Commitments => Kind::Commitments,
            KindArg::Customers => Kind::Customers,
        }
    }
}

/// What `--json` prints for an import.
#[derive(Debug, Serialize)]
struct ImportOutput<'a> {
    kind: Kind,
    file: String,
    container: Container,
    dialect: Dialect,
    encoding: Option<cunjin_exchange::TextEncoding>,
    dry_run: bool,
    rows: usize,
    /// Columns with text that the import does not read.
    unused_columns: &'a [UnusedColumn],
    #[serde(flatten)]
    report: &'a ImportReport,
}

/// The options of an import.
pub struct ImportArgs<'a> {
    /// What the file holds.
    pub kind: Kind,
    /// The file.
    pub file: &'a Path,
    /// Its format, when not guessed.
    pub format: Option<ImportFormat>,
    /// Check only.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// No progress.
    pub quiet: bool,
}

/// Runs an import: exit 0 when written (or a clean dry run), 1 when any row is bad (nothing is
/// written), 2 when the file cannot be read at all.
pub async fn import(store: &Store, ws: i64, args: ImportArgs<'_>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(args.file)
        .with_context(|| format!("cannot read {} / 无法读取文件", args.file.display()))?;
    let container = match args.format {
        Some(ImportFormat::Csv) => Container::Csv,
        Some(ImportFormat::Xlsx) => Container::Xlsx,
        // A workbook is a ZIP archive whatever its name; anything else is read as text.
        _ => Container::sniff(&bytes),
    };
    let table = read_table(&bytes, container)?;
    drop(bytes);
    let dialect = match args.format {
        Some(ImportFormat::Zentao) => Dialect::Zentao,
        Some(ImportFormat::Jira) => Dialect::Jira,
        Some(ImportFormat::Redmine) => Dialect::Redmine,
        Some(ImportFormat::Csv | ImportFormat::Xlsx) => Dialect::Cunjin,
        None => Dialect::detect(&table.headers),
    };
    let unused = unused_text_columns(&table, dialect, args.kind);
    let progress = Progress::new(args.quiet);
    // With bad rows nothing is written, but the good ones are still checked against the
    // database so that every problem of the file is reported at once.
    let apply = |errors: &[RowError]| {
        if args.dry_run || !errors.is_empty() {
            Apply::DryRun
        } else {
            Apply::Commit
        }
    };
    let bar = progress.clone();
    let set = |done| bar.set(done);
    let (mut report, mut errors) = match args.kind {
        Kind::Requests => {
            let p = parse_requests(&table, dialect)?;
            tracing::debug!(rows = p.rows.len(), elapsed = ?started.elapsed(), "file read");
            progress.start(p.rows.len());
            let r = store
                .import_requests(ws, ACTOR, &p.rows, apply(&p.errors), set)
                .await?;
            (r, p.errors)
        }
        Kind::Features => {
            let p = parse_features(&table, dialect)?;
            progress.start(p.rows.len());
            let r = store
                .import_features(ws, ACTOR, &p.rows, apply(&p.errors), set)
                .await?;
            (r, p.errors)
        }
        Kind::Commitments => {
            let p = parse_commitments(&table, dialect)?;
            progress.start(p.rows.len());
            let r = store
                .import_commitments(ws, ACTOR, &p.rows, apply(&p.errors), set)
                .await?;
            (r, p.errors)
        }
        Kind::Customers => {
            let p = parse_customers(&table, dialect)?;
            progress.start(p.rows.len());
            let r = store
                .import_customers(ws, ACTOR, &p.rows, apply(&p.errors), set)
                .await?;
            (r, p.errors)
        }
    };
    // The file's errors and the database's, each in line order, merged in line order.
    report.errors.append(&mut errors);
    report.errors.sort_by_key(|e| e.line);
    progress.finish();
    let code = if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        let out = ImportOutput {
            kind: args.kind,
            file: args.file.display().to_string(),
            container,
            dialect,
            encoding: table.encoding,
            dry_run: args.dry_run,
            rows: table.rows.len(),
            unused_columns: &unused,
            report: &report,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(code);
    }
    print_report(&table, args.kind, dialect, args.dry_run, &unused, &report);
    Ok(code)
}

fn print_report(
    table: &Table,
    kind: Kind,
    dialect: Dialect,
    dry_run: bool,
    unused: &[UnusedColumn],
    report: &ImportReport,
) {
    let c = &report.created;
    let (en, zh) = cunjin_exchange::rows::kind_label(kind);
    let main = match kind {
        Kind::Requests => c.requests,
        Kind::Features => c.features,
        Kind::Commitments => c.commitments,
        Kind::Customers => c.customers,
    };
    let mut also = Vec::new();
    for (n, en, zh) in [
        (c.features, "features", "功能"),
        (c.criteria, "criteria", "验收标准"),
        (c.deals, "deals", "商机"),
        (c.customers, "customers", "客户"),
        (c.products, "products", "产品"),
    ] {
        if n > 0 && en != cunjin_exchange::rows::kind_label(kind).0 {
            also.push((n, en, zh));
        }
    }
    let also_en: Vec<String> = also.iter().map(|(n, en, _)| format!("{n} {en}")).collect();
    let also_zh: Vec<String> = also
        .iter()
        .map(|(n, _, zh)| format!("{zh} {n} 个"))
        .collect();
    let (what_en, what_zh) = if also.is_empty() {
        (format!("{main} {en}"), format!("{zh} {main} 条"))
    } else {
        (
            format!("{main} {en} ({})", also_en.join(", ")),
            format!("{zh} {main} 条（{}）", also_zh.join("，")),
        )
    };
    println!(
        "read {} rows as {} columns / 按 {} 列读取 {} 行",
        table.rows.len(),
        dialect.as_str(),
        dialect.as_str(),
        table.rows.len()
    );
    for u in unused {
        println!(
            "column {} is not imported, though {} rows have text in it / 列“{}”未导入，其中 {} 行有文字",
            crate::printable(&u.column),
            u.rows,
            crate::printable(&u.column),
            u.rows
        );
    }
    if report.existing > 0 {
        println!(
            "{} already there, left as they are / {} 条已存在，保持不变",
            report.existing, report.existing
        );
    }
    for e in &report.errors {
        eprintln!("{}", crate::printable(&e.to_string()));
    }
    if dry_run {
        println!(
            "dry run, nothing written: would create {what_en} / 试运行，未写入：将创建{what_zh}"
        );
    }
    if !report.errors.is_empty() {
        eprintln!(
            "{} bad rows: nothing was imported / 有 {} 行有误：未导入任何数据",
            report.errors.len(),
            report.errors.len()
        );
    } else if !dry_run {
        println!("imported {what_en} / 已导入{what_zh}");
        if kind == Kind::Requests && main > 0 {
            println!(
                "`cunjin serve` indexes them for search in the background; until then search reads \
                 their text / `cunjin serve` 会在后台为其建立搜索索引，完成前搜索直接读取原文"
            );
        }
    }
}

/// A progress bar on a terminal; a line per batch otherwise (logs, CI); nothing with --quiet.
#[derive(Clone)]
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            bar: (!quiet && terminal).then(|| {
                let bar = indicatif::ProgressBar::new(0);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} rows 行 ({per_sec}, {eta})",
                ) {
                    bar.set_style(style);
                }
                bar
            }),
            plain: !quiet && !terminal,
        }
    }

    fn start(&self, total: usize) {
        let total = total as u64;
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
        if self.plain {
            eprintln!("importing {total} rows / 正在导入 {total} 行");
        }
    }

    fn set(&self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
        if self.plain {
            eprintln!("{done} rows written / 已写入 {done} 行");
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn cell(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Runs an export; the format follows `--format` or the file's extension (CSV otherwise).
pub async fn export(
    store: &Store,
    ws: i64,
    kind: Kind,
    file: &Path,
    format: Option<ExportFormat>,
) -> anyhow::Result<ExitCode> {
    let format = format.unwrap_or(match Container::from_file_name(&file.to_string_lossy()) {
        Some(Container::Xlsx) => ExportFormat::Xlsx,
        _ => ExportFormat::Csv,
    });
    let sheet = match kind {
        Kind::Requests => requests_sheet(store, ws).await?,
        Kind::Features => features_sheet(store, ws).await?,
        Kind::Commitments => commitments_sheet(store, ws).await?,
        Kind::Customers => customers_sheet(store, ws).await?,
    };
    let bytes = match format {
        ExportFormat::Csv => write_csv(&sheet),
        ExportFormat::Xlsx => write_xlsx(&sheet)?,
    };
    // Written under a temporary name and renamed: a half-written export never has the name.
    let tmp = file.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .with_context(|| format!("cannot write {} / 无法写入文件", tmp.display()))?;
    std::fs::rename(&tmp, file)
        .with_context(|| format!("cannot write {} / 无法写入文件", file.display()))?;
    let (en, zh) = cunjin_exchange::rows::kind_label(kind);
    let n = sheet.rows.len();
    println!(
        "exported {n} {en} to {} / 已导出 {zh} {n} 条",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn headers(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

async fn product_names(store: &Store, ws: i64) -> anyhow::Result<HashMap<i64, String>> {
    Ok(store
        .list_products(ws)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

async fn requests_sheet(store: &Store, ws: i64) -> anyhow::Result<Sheet> {
    let products = product_names(store, ws).await?;
    let feature_paths: HashMap<i64, String> = store
        .list_features(ws, &Default::default())
        .await?
        .into_iter()
        .map(|f| (f.id, f.menu_path))
        .collect();
    let rows = store
        .all_requests(ws)
        .await?
        .into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.text,
                r.source_role.as_str().to_string(),
                cell(r.customer_name),
                r.requester,
                r.contact,
                cell(r.product_id.and_then(|p| products.get(&p))),
                r.decision.as_str().to_string(),
                cell(r.reason),
                cell(r.duplicate_of),
                cell(r.feature_title),
                cell(r.feature_id.and_then(|f| feature_paths.get(&f))),
                cell(r.planned_release),
                r.created_at,
                cell(r.decided_by),
                cell(r.decided_at),
            ]
        })
        .collect();
    Ok(Sheet {
        headers: headers(&[
            "id",
            "text",
            "source_role",
            "customer",
            "requester",
            "contact",
            "product",
            "decision",
            "reason",
            "duplicate_of",
            "feature_title",
            "feature_menu_path",
            "planned_release",
            "created_at",
            "decided_by",
            "decided_at",
        ]),
        rows,
    })
}

async fn features_sheet(store: &Store, ws: i64) -> anyhow::Result<Sheet> {
    let products = product_names(store, ws).await?;
    let rows = store
        .list_features(ws, &Default::default())
        .await?
        .into_iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                cell(products.get(&f.product_id)),
                f.menu_path,
                f.title,
                f.stage.as_str().to_string(),
                cell(f.effort_days),
                cell(f.target_release),
                cell(f.slide_url),
                cell(f.recording_url),
            ]
        })
        .collect();
    Ok(Sheet {
        headers: headers(&[
            "id",
            "product",
            "menu_path",
            "title",
            "stage",
            "effort_days",
            "target_release",
            "slide_url",
            "recording_url",
        ]),
        rows,
    })
}

async fn customers_sheet(store: &Store, ws: i64) -> anyhow::Result<Sheet> {
    let customers = store.list_customers(ws).await?;
    let mut deals: HashMap<CustomerId, Vec<cunjin_store::ledger::customers::Deal>> = HashMap::new();
    for d in store.list_deals(ws, None).await? {
        deals.entry(d.customer_id).or_default().push(d);
    }
    let mut rows = Vec::new();
    for c in customers {
        let customer = |deal: Option<&cunjin_store::ledger::customers::Deal>| {
            vec![
                c.name.clone(),
                c.weight.to_string(),
                cell(deal.map(|d| &d.name)),
                cell(deal.map(|d| d.stage.as_str())),
                cell(deal.map(|d| d.contract_value)),
                cell(deal.and_then(|d| d.acceptance_date)),
                cell(deal.map(|d| d.pilot)),
            ]
        };
        match deals.get(&c.id) {
            None => rows.push(customer(None)),
            Some(list) => rows.extend(list.iter().map(|d| customer(Some(d)))),
        }
    }
    Ok(Sheet {
        headers: headers(&[
            "customer",
            "weight",
            "deal",
            "deal_stage",
            "contract_value",
            "acceptance_date",
            "pilot",
        ]),
        rows,
    })
}

async fn commitments_sheet(store: &Store, ws: i64) -> anyhow::Result<Sheet> {
    let products = product_names(store, ws).await?;
    let customers: HashMap<i64, String> = store
        .list_customers(ws)
        .await?
        .into_iter()
        .map(|c| (c.id.get(), c.name))
        .collect();
    let deals: HashMap<i64, String> = store
        .list_deals(ws, None)
        .await?
        .into_iter()
        .map(|d| (d.id.get(), d.name))
        .collect();
    let feature_product: HashMap<i64, i64> = store
        .list_features(ws, &Default::default())
        .await?
        .into_iter()
        .map(|f| (f.id, f.product_id))
        .collect();
    let rows = store
        .all_commitments(ws)
        .await?
        .into_iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                cell(customers.get(&c.customer_id)),
                cell(c.deal_id.and_then(|d| deals.get(&d))),
                cell(
                    feature_product
                        .get(&c.feature_id)
                        .and_then(|p| products.get(p)),
                ),
                c.menu_path,
                c.feature_title,
                c.shown_as.as_str().to_string(),
                c.promised_by,
                c.promised_at.to_string(),
                cell(c.due_date),
                c.critical.to_string(),
                c.status.as_str().to_string(),
                // A met criterion starts with ✓, which the import reads back.
                c.criteria
                    .iter()
                    .map(|k| {
                        if k.met {
                            format!("{MET_MARK} {}", k.text)
                        } else {
                            k.text.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect();
    Ok(Sheet {
        headers: headers(&[
            "id",
            "customer",
            "deal",
            "product",
            "menu_path",
            "feature",
            "shown_as",
            "promised_by",
            "promised_at",
            "due_date",
            "critical",
            "status",
            "criteria",
        ]),
        rows,
    })
}
