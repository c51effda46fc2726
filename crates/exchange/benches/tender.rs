//! Reading a large bid: a Word document with a 2,000-clause deviation table (large HIS tenders
//! have that many), its category merged over each module's rows and a heading row per module,
//! among other tables. `cargo bench -p cunjin-exchange`; figures in docs/performance.md.
//! This is the file half of "parsed, matched and ready for review"; matching is the store's.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use cunjin_exchange::tender::read_tender;
use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow, VMergeType};

fn text_cell(s: &str) -> TableCell {
    TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text(s)))
}

/// A bid of `clauses` rows in modules of 40.
fn bid(clauses: usize) -> Vec<u8> {
    let header = [
        "序号",
        "招标文件条款号",
        "功能模块",
        "招标技术要求",
        "指标属性",
        "投标响应",
        "偏离情况",
        "证明材料所在页",
    ];
    let mut rows = vec![TableRow::new(header.iter().map(|h| text_cell(h)).collect())];
    for i in 0..clauses {
        let module = i / 40;
        if i % 40 == 0 {
            rows.push(TableRow::new(vec![
                text_cell(&format!("模块 {module}")).grid_span(8)
            ]));
        }
        let marker = ["★", "▲", "", ""][i % 4];
        let category = if i % 40 == 0 {
            text_cell(&format!("子系统 {module}")).vertical_merge(VMergeType::Restart)
        } else {
            TableCell::new()
                .add_paragraph(Paragraph::new())
                .vertical_merge(VMergeType::Continue)
        };
        rows.push(TableRow::new(vec![
            text_cell(&(i + 1).to_string()),
            text_cell(&format!("3.{module}.{}", i % 40 + 1)),
            category,
            text_cell(&format!(
                "支持第 {i} 项功能：门诊医生站结构化病历模板、处方前置审核与医保结算接口"
            )),
            text_cell(marker),
            text_cell("完全支持，详见技术册"),
            text_cell(["无偏离", "正偏离", "无偏离", "负偏离"][i % 4]),
            text_cell(&format!("《技术册》P{} 功能截图", i + 10)),
        ]));
    }
    let other = Table::new(vec![TableRow::new(vec![
        text_cell("资质名称"),
        text_cell("证书编号"),
    ])]);
    let mut out = std::io::Cursor::new(Vec::new());
    Docx::new()
        .add_table(other)
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("技术偏离表")))
        .add_table(Table::new(rows))
        .build()
        .pack(&mut out)
        .expect("pack");
    out.into_inner()
}

fn read_a_large_bid(c: &mut Criterion) {
    let bytes = bid(2_000);
    let read = read_tender(&bytes, "bid.docx").expect("read");
    assert_eq!(read.rows.len(), 2_000);
    println!("2,000-clause bid: {} KB as .docx", bytes.len() / 1024);
    c.bench_function("tender: read a 2,000-clause Word bid", |b| {
        b.iter(|| read_tender(black_box(&bytes), "bid.docx").expect("read"))
    });
}

criterion_group!(benches, read_a_large_bid);
criterion_main!(benches);
