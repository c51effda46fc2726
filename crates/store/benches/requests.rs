//! Search and similar requests at scale: loads N generated requests (1,000,000 by default) into
//! a fresh database and measures the latency of searches and of similar-request look-ups.
//!
//! Run through `scripts/bench-requests.sh` (SQLite, and PostgreSQL with `BENCH_PG=1`).
//! Environment: `BENCH_N` (requests), `BENCH_DB` (database URL; a temporary SQLite file by
//! default), `BENCH_ROUNDS` (timed look-ups per kind, default 400).
//!
//! The generator is seeded: every run loads the same texts, so figures compare across engines
//! and machines. Timings are printed, never asserted.

use std::time::{Duration, Instant};

use cunjin_core::SourceRole;
use cunjin_store::requests::{BulkRequest, RequestFilter};
use cunjin_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MODULES: &[&str] = &[
    "门诊医生站",
    "住院医生站",
    "护士站",
    "移动护理",
    "电子病历",
    "病案首页",
    "医保结算",
    "DRG 分组",
    "DIP 分值",
    "排班管理",
    "检验 LIS",
    "检查 PACS",
    "药房",
    "收费处",
    "互联网医院",
    "预约挂号",
    "手术麻醉",
    "临床路径",
    "CDSS",
    "院感监测",
    "体检中心",
    "财务报表",
    "物资管理",
    "HRP 绩效",
];
const ASKS: &[&str] = &[
    "希望",
    "能否",
    "需要",
    "建议",
    "要求",
    "麻烦",
    "客户反馈",
    "院长要求",
    "实施现场提出",
    "科室主任希望",
];
const ACTIONS: &[&str] = &[
    "增加", "支持", "优化", "自动", "批量", "实时", "导出", "打印", "上传", "对接", "配置", "提醒",
];
const OBJECTS: &[&str] = &[
    "医保结算清单上传",
    "检验结果一键引用",
    "按周复制排班",
    "Excel 导出",
    "分组结果预警",
    "病历书写时限提醒",
    "结构化病历模板",
    "处方前置审核",
    "电子签名",
    "移动端查看",
    "消息推送",
    "病案首页质控规则",
    "费用明细核对",
    "医嘱闭环",
    "危急值上报",
    "护理评估量表",
    "体征录入",
    "报表自定义字段",
    "权限按科室分配",
    "历史数据迁移",
    "接口日志查询",
    "患者360视图",
    "科室绩效统计",
    "耗材扫码出库",
    "病历归档",
    "复诊续方",
    "电子处方流转",
    "智能导诊",
];
const TAILS: &[&str] = &[
    "",
    "",
    "",
    "，越快越好",
    "，验收前必须完成",
    "，和省平台保持一致",
    "，现在手工做太慢",
    "，参考某三甲医院的做法",
    "，支持按院区区分",
    "（急）",
];
const ENGLISH: &[&str] = &[
    "Export the DRG grouping report to Excel",
    "Allow nurses to copy the weekly schedule",
    "Show lab results inside the EMR editor",
    "Upload the medical insurance settlement list automatically",
    "Add an audit log for prescription reviews",
    "Support single sign-on with the hospital portal",
    "Let departments maintain their own record templates",
    "Send critical value alerts to the doctor's phone",
];

/// One generated request text.
fn request_text(rng: &mut StdRng) -> String {
    if rng.random_ratio(1, 10) {
        let base = ENGLISH[rng.random_range(0..ENGLISH.len())];
        return format!("{base} for ward {}", rng.random_range(1..400));
    }
    let pick = |rng: &mut StdRng, xs: &[&'static str]| xs[rng.random_range(0..xs.len())];
    format!(
        "{}{}{}{}{}",
        pick(rng, ASKS),
        pick(rng, MODULES),
        pick(rng, ACTIONS),
        pick(rng, OBJECTS),
        pick(rng, TAILS)
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{name:<34} n={:<5} p50={:>8.2} ms  p99={:>8.2} ms  max={:>8.2} ms",
        times.len(),
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let dir = tempfile::tempdir()?;
    let url = std::env::var("BENCH_DB").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let store = Store::open(&url).await?;
    println!("engine: {:?}, requests: {n}", store.engine());
    let ws = store.create_workspace("bench").await?.id;
    let mut customers = Vec::new();
    for i in 0..200 {
        customers.push(
            store
                .create_customer(ws, &format!("第{i}人民医院"), None)
                .await?
                .id,
        );
    }

    let mut rng = StdRng::seed_from_u64(20261124);
    let started = Instant::now();
    let mut loaded = 0usize;
    while loaded < n {
        let size = (n - loaded).min(20_000);
        let batch: Vec<BulkRequest> = (0..size)
            .map(|_| BulkRequest {
                text: request_text(&mut rng),
                source_role: SourceRole::ALL[rng.random_range(0..SourceRole::ALL.len())],
                customer_id: rng
                    .random_ratio(7, 10)
                    .then(|| customers[rng.random_range(0..customers.len())].get()),
                requester: "bench".into(),
                product_id: None,
                feature_id: None,
            })
            .collect();
        store.bulk_insert_requests(ws, "bench", &batch).await?;
        loaded += size;
        if loaded.is_multiple_of(100_000) {
            println!(
                "  loaded {loaded} in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    store.refresh_search_statistics().await?;
    let load = started.elapsed();
    println!(
        "load: {n} requests in {:.1} s ({:.0} requests/s)",
        load.as_secs_f64(),
        n as f64 / load.as_secs_f64()
    );

    let queries = [
        "病历",
        "医保",
        "排班",
        "DRG 分组",
        "结算清单 上传",
        "excel",
        "门诊医生站 医保 上传",
        "危急值",
        "患者360视图",
        "single sign-on",
        "院感 预警 省平台",
        "没有这个词",
    ];
    // Warm the caches once, as a running server has them.
    for q in queries {
        let f = RequestFilter {
            q: Some(q.into()),
            limit: Some(50),
            ..Default::default()
        };
        store.list_requests(ws, &f).await?;
    }
    let mut per_query: Vec<(String, Vec<Duration>, usize)> = Vec::new();
    let mut all = Vec::new();
    for q in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..(rounds / queries.len()).max(1) {
            let f = RequestFilter {
                q: Some(q.into()),
                limit: Some(50),
                ..Default::default()
            };
            let t = Instant::now();
            found = store.list_requests(ws, &f).await?.len();
            times.push(t.elapsed());
        }
        all.extend(times.iter().copied());
        per_query.push((q.to_string(), times, found));
    }
    report("search (first 50, every query)", all);
    for (q, times, found) in per_query {
        report(&format!("  q={q:?} → {found}"), times);
    }

    // Similar: texts from a different seed, so they are near (not exact) duplicates.
    let mut other = StdRng::seed_from_u64(7);
    let mut times = Vec::new();
    let mut hits = 0usize;
    for _ in 0..rounds {
        let text = request_text(&mut other);
        let t = Instant::now();
        let similar = store.similar_requests(ws, &text, None, 5).await?;
        times.push(t.elapsed());
        hits += usize::from(!similar.is_empty());
    }
    report(&format!("similar (top 5; {hits}/{rounds} found)"), times);
    store.close().await;
    Ok(())
}
