//! Deviation tables as bids write them, built here: a Word bid with other tables around the
//! deviation table, a category merged over its rows, a heading row, the table run over a page
//! break with its header repeated (and once without); the same in a workbook and in GBK CSV.

use cunjin_core::tender::{Deviation, Evidence, Marker};
use cunjin_exchange::tender::{read_tender, TenderFile, TenderRow};
use docx_rs::{BreakType, Docx, Paragraph, Run, Table, TableCell, TableRow as DocxRow, VMergeType};

const HEADER: [&str; 8] = [
    "序号",
    "招标文件条款号",
    "功能模块",
    "招标技术要求",
    "指标属性",
    "投标响应",
    "偏离情况",
    "证明材料所在页",
];

fn text_cell(s: &str) -> TableCell {
    TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text(s)))
}

fn row(cells: &[&str]) -> DocxRow {
    DocxRow::new(cells.iter().map(|c| text_cell(c)).collect())
}

/// A row whose category cell starts or continues a vertical merge.
fn merged_row(cells: [&str; 8], merge: VMergeType) -> DocxRow {
    DocxRow::new(
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 2 {
                    let cell = if merge == VMergeType::Restart {
                        text_cell(c)
                    } else {
                        TableCell::new().add_paragraph(Paragraph::new())
                    };
                    cell.vertical_merge(merge)
                } else {
                    text_cell(c)
                }
            })
            .collect(),
    )
}

fn paragraph(s: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(s))
}

fn page_break() -> Paragraph {
    Paragraph::new().add_run(Run::new().add_break(BreakType::Page))
}

fn pack(docx: Docx) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build().pack(&mut out).expect("pack the document");
    out.into_inner()
}

/// A bid as a Word document: a qualification table first, then the deviation table over two
/// pages (header repeated), then a commercial table of another shape.
fn word_bid() -> Vec<u8> {
    let qualifications = Table::new(vec![
        row(&["资质名称", "证书编号", "有效期"]),
        row(&["ISO 9001", "00123Q", "2028-01-01"]),
    ]);
    let heading = DocxRow::new(vec![text_cell("一、门诊医生站").grid_span(8)]);
    let page1 = Table::new(vec![
        row(&HEADER),
        heading,
        merged_row(
            [
                "1",
                "3.1.1",
                "门诊病历",
                "★支持结构化门诊病历模板",
                "",
                "支持",
                "无偏离",
                "《技术册》P46 功能截图",
            ],
            VMergeType::Restart,
        ),
        merged_row(
            [
                "2",
                "3.1.2",
                "",
                "支持病历质控实时提示",
                "▲",
                "支持，实时提示缺项",
                "正偏离",
                "功能演示录屏",
            ],
            VMergeType::Continue,
        ),
        row(&[
            "3",
            "3.1.3",
            "处方",
            "支持处方前置审核",
            "★",
            "部分支持",
            "负偏离",
            "P50",
        ]),
    ]);
    let page2 = Table::new(vec![
        row(&HEADER),
        row(&[
            "4",
            "3.2.1",
            "处方",
            "支持互联网医院处方流转",
            "一般",
            "支持",
            "无偏离",
            "见承诺函",
        ]),
    ]);
    let page3 = Table::new(vec![row(&[
        "5",
        "3.2.2",
        "处方",
        "支持中药处方煎配",
        "",
        "支持",
        "无偏离",
        "",
    ])]);
    let commercial = Table::new(vec![
        row(&["序号", "商务条款", "招标要求", "投标响应", "偏离"]),
        row(&["1", "付款方式", "验收后付款", "同意", "无偏离"]),
    ]);
    pack(
        Docx::new()
            .add_paragraph(paragraph("第三章 资格证明文件"))
            .add_table(qualifications)
            .add_paragraph(paragraph("第五章 技术偏离表"))
            .add_table(page1)
            .add_paragraph(page_break())
            .add_table(page2)
            .add_paragraph(page_break())
            .add_table(page3)
            .add_paragraph(paragraph("第六章 商务偏离表"))
            .add_table(commercial),
    )
}

fn by_position<'a>(rows: &'a [TenderRow], pos: &str) -> &'a TenderRow {
    rows.iter()
        .find(|r| r.position.as_deref() == Some(pos))
        .unwrap_or_else(|| panic!("row {pos} missing: {rows:#?}"))
}

#[test]
fn a_word_bid_gives_its_deviation_table_row_by_row() {
    let t = read_tender(&word_bid(), "投标文件.docx").expect("read");
    assert_eq!(t.file, TenderFile::Docx);
    assert!(t.errors.is_empty(), "{:#?}", t.errors);
    let positions: Vec<_> = t.rows.iter().map(|r| r.position.clone().unwrap()).collect();
    // The commercial table and the qualifications are not read; the three pieces are one table.
    assert_eq!(positions, ["1", "2", "3", "4", "5"]);

    let first = by_position(&t.rows, "1");
    assert_eq!(first.clause.as_deref(), Some("3.1.1"));
    assert_eq!(first.requirement, "支持结构化门诊病历模板");
    assert_eq!(
        first.marker,
        Marker::Mandatory,
        "★ at the start of the text"
    );
    assert_eq!(first.deviation, Deviation::None);
    assert_eq!(first.evidence, Evidence::Screenshot);
    assert_eq!(
        first.evidence_page.as_deref(),
        Some("《技术册》P46 功能截图")
    );
    assert_eq!(first.response.as_deref(), Some("支持"));
    // The row numbers are the table's, the header being row 1 and the heading row 2.
    assert_eq!(first.line, 3);

    let second = by_position(&t.rows, "2");
    assert_eq!(
        second.category.as_deref(),
        Some("门诊病历"),
        "merged category cell"
    );
    assert_eq!(second.marker, Marker::Important);
    assert_eq!(second.deviation, Deviation::Positive);
    assert_eq!(second.evidence, Evidence::Recording);

    let third = by_position(&t.rows, "3");
    assert_eq!(third.deviation, Deviation::Negative);
    assert_eq!(third.marker, Marker::Mandatory, "★ in the marker column");
    assert_eq!(third.category.as_deref(), Some("处方"));

    let fourth = by_position(&t.rows, "4");
    assert_eq!(fourth.marker, Marker::Ordinary);
    assert_eq!(fourth.evidence, Evidence::Letter);
    // Row 4 of the table is on the second page, after the repeated header (row 6).
    assert_eq!(fourth.line, 7);
    let fifth = by_position(&t.rows, "5");
    assert_eq!(
        fifth.requirement, "支持中药处方煎配",
        "the page without a header"
    );
    assert_eq!(fifth.evidence, Evidence::None);
}

#[test]
fn a_heading_row_gives_the_category_when_there_is_no_category_column() {
    let header = ["序号", "技术参数要求", "响应情况", "偏离情况"];
    let table = Table::new(vec![
        row(&header),
        DocxRow::new(vec![text_cell("二、住院护士站").grid_span(4)]),
        row(&["1", "▲支持移动护理", "支持", "无偏离"]),
    ]);
    let t = read_tender(&pack(Docx::new().add_table(table)), "bid.docx").expect("read");
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].category.as_deref(), Some("二、住院护士站"));
    assert_eq!(t.rows[0].marker, Marker::Important);
    assert_eq!(t.rows[0].requirement, "支持移动护理");
}

#[test]
fn unreadable_rows_are_named_with_their_row_and_reason_in_both_languages() {
    let table = Table::new(vec![
        row(&HEADER),
        row(&["1", "3.1", "门诊", "支持A", "很重要", "支持", "无偏离", ""]),
        row(&["2", "3.2", "门诊", "支持B", "", "支持", "", ""]),
        row(&["3", "3.3", "门诊", "支持C", "", "支持", "差不多", ""]),
        row(&["4", "3.4", "门诊", "", "", "支持", "无偏离", ""]),
        row(&["5", "3.5", "门诊", "支持E", "", "支持", "无偏离", ""]),
    ]);
    let t = read_tender(&pack(Docx::new().add_table(table)), "bid.docx").expect("read");
    assert_eq!(t.rows.len(), 1, "only row 5 is readable");
    let lines: Vec<u64> = t.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5]);
    assert!(t.errors[0].reason_zh.contains("很重要") && t.errors[0].reason_en.contains("marker"));
    assert!(t.errors[1].reason_zh.contains("偏离情况为空"));
    assert!(t.errors[2].reason_en.contains("差不多"));
    assert!(t.errors[3].reason_zh.contains("招标要求"));
}

#[test]
fn a_file_without_a_deviation_table_says_what_it_looked_for() {
    let table = Table::new(vec![row(&["资质名称", "证书编号"]), row(&["ISO", "1"])]);
    let err = read_tender(&pack(Docx::new().add_table(table)), "bid.docx").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("招标要求") && text.contains("requirement"),
        "{text}"
    );

    let err = read_tender(b"PK\x03\x04 not a zip", "bid.docx").unwrap_err();
    assert!(err.to_string().contains("另存为 .docx"), "{err}");
    let err = read_tender(b"\xD0\xCF\x11\xE0 old word", "bid.doc").unwrap_err();
    assert!(err.to_string().contains(".doc"), "{err}");
}

#[test]
fn a_gbk_csv_with_a_title_line_and_english_headers_read_alike() {
    let csv = "技术偏离表,,,,\n序号,条款号,采购需求,投标响应,偏离情况,说明\n1,2.1,★支持医保结算,支持,无偏离,详见承诺函\n2,2.2,支持电子发票,支持,正偏离,\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let t = read_tender(&gbk, "偏离表.csv").expect("read");
    assert_eq!(t.file, TenderFile::Csv);
    assert!(t.errors.is_empty(), "{:#?}", t.errors);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].requirement, "支持医保结算");
    assert_eq!(t.rows[0].marker, Marker::Mandatory);
    assert_eq!(
        t.rows[0].evidence,
        Evidence::Letter,
        "the letter named in the note"
    );
    assert_eq!(t.rows[0].line, 3, "the file's own line");

    let english = "No.,Clause,Requirement,Marker,Response,Deviation,Evidence\n1,4.1,Single sign-on,*,Yes,none,screenshot p. 12\n";
    let t = read_tender(english.as_bytes(), "bid.csv").expect("read");
    assert_eq!(t.rows[0].marker, Marker::Mandatory);
    assert_eq!(t.rows[0].evidence, Evidence::Screenshot);
    assert_eq!(t.rows[0].clause.as_deref(), Some("4.1"));
}

#[test]
fn a_workbook_with_a_merged_category_fills_every_row_of_the_module() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        ["1", "3.1", "", "支持A", "★", "支持", "无偏离", ""],
        ["2", "3.2", "", "支持B", "", "支持", "无偏离", ""],
        ["3", "3.3", "", "支持C", "▲", "支持", "负偏离", ""],
    ];
    for (r, cells) in rows.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    sheet
        .merge_range(1, 2, 3, 2, "检验系统", &rust_xlsxwriter::Format::new())
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let t = read_tender(&bytes, "bid.xlsx").expect("read");
    assert_eq!(t.file, TenderFile::Xlsx);
    assert!(t.errors.is_empty(), "{:#?}", t.errors);
    let categories: Vec<_> = t.rows.iter().map(|r| r.category.clone().unwrap()).collect();
    assert_eq!(categories, ["检验系统"; 3]);
    assert_eq!(t.rows[2].deviation, Deviation::Negative);
    assert_eq!(t.rows[1].line, 3, "Excel's own row number");
}
