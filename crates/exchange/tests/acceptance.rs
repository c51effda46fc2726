//! The acceptance papers as a customer opens them: the text of the generated Word document,
//! read back, says the project, the contract, every criterion with its result, the open problems
//! with their planned release, and leaves the conclusion and the seals to the panel.

use chrono::NaiveDate;
use cunjin_core::Money;
use cunjin_exchange::acceptance::{
    acceptance_docx, yuan, AcceptanceDoc, AcceptanceItem, CriterionLine, OpenItem, Paper, PaperLang,
};
use cunjin_exchange::docx::document_text;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn doc(paper: Paper, lang: PaperLang) -> AcceptanceDoc {
    AcceptanceDoc {
        paper,
        lang,
        project: "市一医院电子病历升级项目".into(),
        customer: "市第一人民医院".into(),
        vendor: "云杉医疗软件有限公司".into(),
        contract_number: Some("SYY-2026-017".into()),
        contract_value: Some(Money::from_cents(123_456_700)),
        milestone: Some(("上线款".into(), Money::from_cents(74_074_020))),
        date: day("2026-12-20"),
        items: vec![
            AcceptanceItem {
                clause: Some("3.1.1".into()),
                feature: "门诊病历 / 结构化模板".into(),
                critical: true,
                criteria: vec![
                    CriterionLine {
                        text: "内科 12 个科室模板上线".into(),
                        met: true,
                        met_by: Some("张主任".into()),
                        met_on: Some(day("2026-12-18")),
                        evidence: Some("https://demo.example/rec/17".into()),
                    },
                    CriterionLine {
                        text: "模板修改无需厂商参与".into(),
                        met: false,
                        met_by: None,
                        met_on: None,
                        evidence: None,
                    },
                ],
            },
            AcceptanceItem {
                clause: None,
                feature: "处方前置审核".into(),
                critical: false,
                criteria: vec![],
            },
        ],
        open_items: vec![OpenItem {
            feature: "门诊病历 / 结构化模板".into(),
            problem: "模板修改无需厂商参与".into(),
            planned_release: Some("v5.3".into()),
        }],
    }
}

#[test]
fn the_report_in_chinese_says_what_was_checked_and_what_is_left() {
    let bytes = acceptance_docx(&doc(Paper::Report, PaperLang::Zh)).expect("write");
    assert!(bytes.starts_with(b"PK\x03\x04"), "a .docx is a ZIP archive");
    let text = document_text(&bytes).expect("read back");
    for expected in [
        "市一医院电子病历升级项目验收报告",
        "SYY-2026-017",
        "¥1,234,567.00",
        "上线款 ¥740,740.20",
        "招标条款号",
        "3.1.1",
        "门诊病历 / 结构化模板（关键）",
        "内科 12 个科室模板上线",
        "通过",
        "张主任",
        "2026-12-18",
        "https://demo.example/rec/17",
        "未通过",
        "按合同约定交付并可正常使用",
        "二、存在问题与整改建议",
        "v5.3",
        "三、验收结论",
        "甲方：市第一人民医院",
        "乙方：云杉医疗软件有限公司",
        "（盖章）",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("Acceptance"),
        "no English in the Chinese paper"
    );
}

#[test]
fn the_plan_in_english_lists_the_checks_without_results() {
    let mut d = doc(Paper::Plan, PaperLang::En);
    d.open_items.clear();
    for item in &mut d.items {
        item.clause = None;
    }
    let text = document_text(&acceptance_docx(&d).expect("write")).expect("read back");
    for expected in [
        "Acceptance plan: 市一医院电子病历升级项目",
        "How it is checked",
        "内科 12 个科室模板上线",
        "Delivered as agreed and usable",
        "2. Open problems and their rectification",
        "(none)",
        "(seal)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    for absent in ["Met\n", "张主任", "Tender clause", "验收"] {
        assert!(
            !text.contains(absent),
            "{absent:?} should not be in:\n{text}"
        );
    }
}

#[test]
fn amounts_are_written_as_contracts_write_them() {
    assert_eq!(yuan(Money::from_cents(0)), "¥0.00");
    assert_eq!(yuan(Money::from_cents(99_905)), "¥999.05");
    assert_eq!(yuan(Money::from_cents(100_000_000)), "¥1,000,000.00");
}

/// Runs a command of the test machine, failing loudly when it is not installed.
fn run(program: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{program} is needed to prove the paper renders ({e}); install Debian's \
                 libreoffice-writer-nogui and poppler-utils (scripts/test.sh does)"
            )
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_report_renders_to_pdf_with_its_chinese_text() {
    let dir = std::env::temp_dir().join(format!("cunjin-paper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docx = dir.join("report.docx");
    std::fs::write(
        &docx,
        acceptance_docx(&doc(Paper::Report, PaperLang::Zh)).unwrap(),
    )
    .unwrap();
    // A profile of its own, so that a LibreOffice already open elsewhere does not take the job.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.join("profile").display()
    );
    run(
        "soffice",
        &[
            &profile,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.to_str().unwrap(),
            docx.to_str().unwrap(),
        ],
    );
    let pdf = dir.join("report.pdf");
    let text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in [
        "市一医院电子病历升级项目验收报告",
        "存在问题与整改建议",
        "（盖章）",
        "¥1,234,567.00",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?}:\n{text}"
        );
    }
    // Chinese text needs a Chinese font embedded, or it prints as boxes.
    let fonts = run("pdffonts", &[pdf.to_str().unwrap()]);
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(
        fonts.contains("CJK"),
        "no Chinese font in the PDF:\n{fonts}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn promises(lang: PaperLang) -> cunjin_exchange::acceptance::PromiseReport {
    use cunjin_core::{Mode, Status};
    use cunjin_exchange::acceptance::{PromiseLine, PromiseReport};
    PromiseReport {
        lang,
        customer: "市第一人民医院".into(),
        vendor: "云杉医疗软件有限公司".into(),
        date: day("2026-12-20"),
        lines: vec![
            PromiseLine {
                clause: Some("3.1.1".into()),
                feature: "结构化门诊病历".into(),
                shown_as: Mode::Live,
                promised_on: day("2026-03-02"),
                due: Some(day("2026-10-01")),
                release: Some("v5.2".into()),
                delivered_on: Some(day("2026-09-20")),
                status: Status::Accepted,
                criteria: (2, 2),
            },
            PromiseLine {
                clause: None,
                feature: "CDSS 嵌入第三方系统".into(),
                shown_as: Mode::Menu,
                promised_on: day("2026-03-02"),
                due: None,
                release: None,
                delivered_on: None,
                status: Status::Open,
                criteria: (0, 3),
            },
        ],
    }
}

#[test]
fn the_promise_report_tells_the_customer_what_they_saw_not_how_far_we_were() {
    let report = promises(PaperLang::Zh);
    let sheet = report.sheet();
    assert_eq!(sheet.headers[1], "招标条款号");
    assert_eq!(
        sheet.rows[0],
        [
            "1",
            "3.1.1",
            "结构化门诊病历",
            "现场演示",
            "2026-03-02",
            "2026-10-01",
            "v5.2",
            "2026-09-20",
            "2/2",
            "已验收"
        ]
    );
    // An empty menu shown in the demo reads as a presentation of the plan.
    assert_eq!(sheet.rows[1][3], "方案介绍");
    assert_eq!(sheet.rows[1][8], "0/3");
    assert_eq!(sheet.rows[1][9], "待交付");
    let text = document_text(&report.docx().unwrap()).unwrap();
    assert!(text.contains("市第一人民医院承诺兑现清单"), "{text}");
    assert!(text.contains("CDSS 嵌入第三方系统"));
    for internal in ["仅菜单", "menu", "想法", "idea"] {
        assert!(!text.contains(internal), "{internal:?} in:\n{text}");
    }
    let english = promises(PaperLang::En).sheet();
    assert_eq!(english.rows[1][3], "Presented as a plan");
    assert_eq!(english.headers[3], "How it was shown");
}
