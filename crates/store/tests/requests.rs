//! Requests in storage: search (Chinese and English, the same answers on both engines),
//! similar requests, decisions and the demand they feed into the roadmap.

use cunjin_core::{Decision, MenuPath, SourceRole, Stage};
use cunjin_exchange::RequestRow;
use cunjin_store::imports::Apply;
use cunjin_store::ledger::catalogue::NewFeature;
use cunjin_store::requests::{
    BulkRequest, FeatureLink, NewDecision, NewRequest, RequestFilter, Via,
};
use cunjin_store::search::DocKind;
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_store::{Store, StoreError};

const TEXTS: &[&str] = &[
    "电子病历书写时希望能自动引用检验结果",
    "门诊医生站增加医保结算清单上传功能",
    "希望门诊医生站能上传医保结算清单",
    "护士排班支持按周复制",
    "DRG分组实时预警",
    "drg 分组器要支持 2024 版细分组",
    "Export the DRG grouping report to Excel",
    "export DRG grouping report as excel",
    "病案首页质控规则可以由病案科自行配置",
    "互联网医院复诊续方需要对接医保电子处方流转",
    "用药提醒",
];

fn new_request(text: &str, customer_id: Option<i64>) -> NewRequest {
    NewRequest {
        text: text.to_string(),
        source_role: SourceRole::Customer,
        customer_id,
        requester: "王主任".into(),
        contact: String::new(),
        product_id: None,
        feature_id: None,
    }
}

async fn seeded(engine: TestEngine) -> (TestDb, Store, i64, Vec<i64>) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let mut ids = Vec::new();
    for t in TEXTS {
        let r = store
            .create_request(ws, "pm@test.cn", Via::Api, new_request(t, None))
            .await
            .unwrap();
        ids.push(r.id);
    }
    (db, store, ws, ids)
}

async fn texts_found(store: &Store, ws: i64, q: &str) -> Vec<String> {
    let filter = RequestFilter {
        q: Some(q.to_string()),
        ..Default::default()
    };
    store
        .list_requests(ws, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.text)
        .collect()
}

/// Every query's answer, to compare the engines.
async fn answers(engine: TestEngine) -> Vec<(String, Vec<String>)> {
    let (_db, store, ws, _) = seeded(engine).await;
    let mut out = Vec::new();
    for q in [
        "病历",
        "医保",
        "排班",
        "DRG 分组",
        "drg",
        "Excel",
        "医生站 医保",
        "药",
        "病",
        "2024",
        "不存在的词",
        "",
        "！",
    ] {
        out.push((q.to_string(), texts_found(&store, ws, q).await));
    }
    out
}

async fn search_finds_chinese_and_english(engine: TestEngine) {
    let (_db, store, ws, _) = seeded(engine).await;
    assert_eq!(
        texts_found(&store, ws, "病历").await,
        ["电子病历书写时希望能自动引用检验结果"]
    );
    assert_eq!(
        texts_found(&store, ws, "医保").await,
        [
            "互联网医院复诊续方需要对接医保电子处方流转",
            "希望门诊医生站能上传医保结算清单",
            "门诊医生站增加医保结算清单上传功能",
        ],
        "newest first"
    );
    assert_eq!(
        texts_found(&store, ws, "排班").await,
        ["护士排班支持按周复制"]
    );
    assert_eq!(
        texts_found(&store, ws, "DRG 分组").await,
        ["drg 分组器要支持 2024 版细分组", "DRG分组实时预警"]
    );
    assert_eq!(
        texts_found(&store, ws, "excel").await.len(),
        2,
        "case-insensitive"
    );
    assert_eq!(
        texts_found(&store, ws, "药").await,
        ["用药提醒"],
        "one character finds the words it starts"
    );
    assert!(texts_found(&store, ws, "不存在的词").await.is_empty());
    assert!(
        texts_found(&store, ws, "病历 排班").await.is_empty(),
        "every term must match"
    );

    // Features are searched by title and menu path.
    let product = store.create_product(ws, "HIS").await.unwrap();
    let f = store
        .create_feature(
            ws,
            "rnd@test.cn",
            NewFeature {
                product_id: product.id,
                menu_path: MenuPath::parse("排班管理/护士排班").unwrap(),
                title: Some("护士排班(APN)".into()),
                stage: Stage::Stubbed,
                effort_days: None,
                target_release: None,
                slide_url: None,
                recording_url: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .search_ids(ws, DocKind::Feature, "排班管理", 10)
            .await
            .unwrap(),
        [f.id]
    );
    assert_eq!(
        store
            .search_ids(ws, DocKind::Feature, "apn", 10)
            .await
            .unwrap(),
        [f.id]
    );
    // Another workspace sees none of it.
    let other = store.create_workspace("other").await.unwrap().id;
    assert!(texts_found(&store, other, "医保").await.is_empty());
}

async fn similar_requests_are_near_duplicates(engine: TestEngine) {
    let (_db, store, ws, ids) = seeded(engine).await;
    let similar = store
        .similar_requests(ws, "门诊医生站上传医保结算清单", None, 5)
        .await
        .unwrap();
    let found: Vec<i64> = similar.iter().map(|s| s.request.id).collect();
    assert_eq!(found.len(), 2, "{similar:?}");
    assert!(found.contains(&ids[1]) && found.contains(&ids[2]));
    assert!(similar[0].similarity >= similar[1].similarity);
    let english = store
        .similar_requests(ws, TEXTS[6], Some(ids[6]), 5)
        .await
        .unwrap();
    assert_eq!(english.len(), 1);
    assert_eq!(english[0].request.id, ids[7]);
    assert!(store
        .similar_requests(ws, "完全无关的内容", None, 5)
        .await
        .unwrap()
        .is_empty());
}

async fn decisions_follow_the_rules_and_feed_the_roadmap(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let a = store
        .create_customer(ws, "甲医院", Some(1.0))
        .await
        .unwrap();
    let b = store
        .create_customer(ws, "乙医院", Some(2.0))
        .await
        .unwrap();
    let c = store.create_customer(ws, "丙医院", None).await.unwrap();
    let product = store.create_product(ws, "EMR").await.unwrap();
    let r1 = store
        .create_request(
            ws,
            "x",
            Via::Api,
            new_request("病历模板科室自行维护", Some(a.id.get())),
        )
        .await
        .unwrap();
    let r2 = store
        .create_request(
            ws,
            "x",
            Via::Api,
            new_request("科室能自己维护病历模板", Some(b.id.get())),
        )
        .await
        .unwrap();
    let r3 = store
        .create_request(
            ws,
            "x",
            Via::Api,
            new_request("病历模板导出 PDF", Some(c.id.get())),
        )
        .await
        .unwrap();
    let decide = |d: Decision| NewDecision {
        decision: d,
        reason: None,
        feature: None,
        duplicate_of: None,
        planned_release: None,
    };
    let err = store
        .decide_request(ws, "pm", r1.id, decide(Decision::Accepted))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let accepted = store
        .decide_request(
            ws,
            "pm",
            r1.id,
            NewDecision {
                feature: Some(FeatureLink::Create {
                    title: "科室自维护病历模板".into(),
                    product_id: Some(product.id),
                }),
                planned_release: Some("v5.3".into()),
                ..decide(Decision::Accepted)
            },
        )
        .await
        .unwrap();
    let feature_id = accepted.feature_id.expect("linked");
    assert_eq!(accepted.planned_release.as_deref(), Some("v5.3"));
    // r2 repeats r1: its customer's demand moves to r1's feature.
    store
        .decide_request(
            ws,
            "pm",
            r2.id,
            NewDecision {
                duplicate_of: Some(r1.id),
                ..decide(Decision::Duplicate)
            },
        )
        .await
        .unwrap();
    // r1 cannot now become a duplicate of r2: a cycle.
    let err = store
        .decide_request(
            ws,
            "pm",
            r1.id,
            NewDecision {
                duplicate_of: Some(r2.id),
                ..decide(Decision::Duplicate)
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
    // r3 is declined: its customer adds nothing.
    store
        .decide_request(
            ws,
            "pm",
            r3.id,
            NewDecision {
                feature: Some(FeatureLink::Id(feature_id)),
                reason: Some("导出由打印模块提供".into()),
                ..decide(Decision::Declined)
            },
        )
        .await
        .unwrap();
    let roadmap = store.roadmap(ws, cunjin_store::today()).await.unwrap();
    assert_eq!(
        roadmap.len(),
        1,
        "a feature with demand and no promise is on the roadmap"
    );
    let t = &roadmap[0].terms;
    let names: Vec<&str> = t.requesters.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["乙医院", "甲医院"]);
    assert_eq!(t.demand, 3.0);
    // (0 + 10,000 × 3) / max(no effort, 1).
    assert_eq!(roadmap[0].score, 30_000.0);
    // Another workspace cannot name r1 as an original.
    let other = store.create_workspace("other").await.unwrap().id;
    let o = store
        .create_request(other, "x", Via::Api, new_request("病历模板", None))
        .await
        .unwrap();
    let err = store
        .decide_request(
            other,
            "pm",
            o.id,
            NewDecision {
                duplicate_of: Some(r1.id),
                ..decide(Decision::Duplicate)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

async fn the_demo_has_requests_from_every_role(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("demo").await.unwrap().id;
    let summary = store
        .seed_demo(ws, cunjin_store::today())
        .await
        .unwrap()
        .unwrap();
    assert!(summary.requests >= 40, "{}", summary.requests);
    let all = store
        .list_requests(ws, &RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), summary.requests);
    for role in SourceRole::ALL {
        assert!(
            all.iter().any(|r| r.source_role == role),
            "no request from {role}"
        );
    }
    for d in Decision::ALL {
        assert!(all.iter().any(|r| r.decision == d), "no request {d}");
    }
    assert!(all.iter().any(|r| r.text.is_ascii()), "a few in English");
    assert!(all
        .iter()
        .filter(|r| r.decision == Decision::Declined)
        .all(|r| r.reason.is_some()));
    // Demand reaches the roadmap, duplicates counting for their originals; a released feature
    // that no promise waits on is not listed, however many customers ask for it.
    let roadmap = store.roadmap(ws, cunjin_store::today()).await.unwrap();
    assert!(
        roadmap.iter().any(|e| e.terms.requesters.len() >= 2),
        "a feature asked for by several customers is on the roadmap"
    );
    assert!(roadmap.iter().all(|e| e.score != 0.0));
    let cite = roadmap.iter().find(|e| e.title == "检验检查结果一键引用");
    assert!(cite.is_none(), "released, nothing waits on it: {cite:?}");
    assert_eq!(texts_found(&store, ws, "排班").await.len(), 3);
}

async fn features_written_before_search_are_indexed_on_migrate(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let product = store.create_product(ws, "DRG").await.unwrap();
    let f = store
        .create_feature(
            ws,
            "rnd@test.cn",
            NewFeature {
                product_id: product.id,
                menu_path: MenuPath::parse("医保/结算清单").unwrap(),
                title: None,
                stage: Stage::Idea,
                effort_days: None,
                target_release: None,
                slide_url: None,
                recording_url: None,
            },
        )
        .await
        .unwrap();
    // As a database from before the search index: the feature has no terms.
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("DELETE FROM search_terms")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(store
        .search_ids(ws, DocKind::Feature, "结算清单", 10)
        .await
        .unwrap()
        .is_empty());
    store.migrate().await.unwrap();
    assert_eq!(
        store
            .search_ids(ws, DocKind::Feature, "结算清单", 10)
            .await
            .unwrap(),
        [f.id]
    );
}

/// A request for `Store::bulk_insert_requests` from implementation, with no customer.
fn bulk_request(text: String) -> BulkRequest {
    BulkRequest {
        text,
        source_role: SourceRole::Implementation,
        customer_id: None,
        requester: "实施".into(),
        product_id: None,
        feature_id: None,
    }
}

async fn bulk_loading_is_searchable(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let batch: Vec<BulkRequest> = (0..1000)
        .map(|i| bulk_request(format!("第{i}号需求：医保结算清单 batch{i}")))
        .collect();
    let ids = store
        .bulk_insert_requests(ws, "bench", &batch)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1000);
    assert_eq!(
        store
            .search_ids(ws, DocKind::Request, "batch999", 10)
            .await
            .unwrap(),
        [ids[999]]
    );
    // A request filed afterwards gets a fresh id on both engines.
    let r = store
        .create_request(ws, "x", Via::Api, new_request("之后的需求", None))
        .await
        .unwrap();
    assert!(r.id > ids[999]);
}

async fn a_query_is_driven_by_its_sparsest_term(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    // 丙丁 in all 6,000 requests, 甲乙 in every second one, 戊己 in ten: all three past the
    // count at which counting stops for the first two (2,000).
    let batch: Vec<BulkRequest> = (0..6000usize)
        .map(|i| {
            bulk_request(format!(
                "丙丁 {}{}n{i}",
                if i.is_multiple_of(2) { "甲乙 " } else { "" },
                if i.is_multiple_of(600) { "戊己 " } else { "" }
            ))
        })
        .collect();
    let ids = store
        .bulk_insert_requests(ws, "bench", &batch)
        .await
        .unwrap();
    store.refresh_search_statistics().await.unwrap();
    let plan = |q: &'static str| {
        let store = &store;
        async move {
            cunjin_store::testing::search_plan(store, ws, DocKind::Request, q)
                .await
                .unwrap()
        }
    };
    // Both common: the one whose newest postings reach further back (the sparser) drives,
    // although it sorts after the other.
    assert_eq!(plan("丙丁 甲乙").await, ["甲乙", "丙丁"]);
    assert_eq!(plan("甲乙 丙丁 戊己").await, ["戊己", "甲乙", "丙丁"]);
    assert!(plan("丙丁 庚辛").await.is_empty(), "a term in no request");
    // And the answers are right: the newest 50 with both terms, newest first.
    let expected: Vec<i64> = ids
        .iter()
        .copied()
        .enumerate()
        .rev()
        .filter(|(i, _)| i.is_multiple_of(2))
        .map(|(_, id)| id)
        .take(50)
        .collect();
    assert_eq!(
        store
            .search_ids(ws, DocKind::Request, "丙丁 甲乙", 50)
            .await
            .unwrap(),
        expected
    );
    let found: Vec<i64> = store
        .list_requests(
            ws,
            &RequestFilter {
                q: Some("戊己 甲乙".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    let expected: Vec<i64> = ids
        .iter()
        .copied()
        .enumerate()
        .rev()
        .filter(|(i, _)| i.is_multiple_of(600))
        .map(|(_, id)| id)
        .collect();
    assert_eq!(found, expected);
}

/// Rows of an import file: one in five about 医保 上传, one in seven of the rest about 排班
/// 导出, some about ＤＲＧ in full-width letters, every other one from implementation, three
/// customers; each with its own number.
fn import_rows(n: u64) -> Vec<(u64, RequestRow)> {
    (0..n)
        .map(|i| {
            let text = if i.is_multiple_of(5) {
                format!("门诊医生站医保结算清单上传 第{i}号")
            } else if i.is_multiple_of(7) {
                format!("护士排班 导出 第{i}号")
            } else if i % 11 == 3 {
                // Full-width letters: their term is `drg`, which the text does not contain.
                format!("ＤＲＧ分组 实时预警 第{i}号")
            } else {
                format!("检验报告 打印 第{i}号")
            };
            let row = RequestRow {
                text,
                source_role: if i.is_multiple_of(2) {
                    SourceRole::Customer
                } else {
                    SourceRole::Implementation
                },
                customer: Some(format!("医院{}", i % 3)),
                requester: "王主任".into(),
                product: None,
                ..Default::default()
            };
            (i + 2, row)
        })
        .collect()
}

/// The ids a query must find, worked out from the texts themselves: every term of `q` among
/// the text's terms (a single Chinese character: a term starting with it); newest first, then
/// cut.
fn expected_ids(
    all: &[cunjin_store::requests::Request],
    q: &str,
    role: Option<SourceRole>,
    offset: usize,
    limit: usize,
) -> Vec<i64> {
    let want = cunjin_core::search::terms(q);
    let mut ids: Vec<i64> = all
        .iter()
        .filter(|r| {
            let have = cunjin_core::search::terms(&r.text);
            want.iter().all(|t| {
                if cunjin_core::search::is_prefix_term(t) {
                    have.iter().any(|h| h.starts_with(t.as_str()))
                } else {
                    have.contains(t)
                }
            }) && role.is_none_or(|role| r.source_role == role)
        })
        .map(|r| r.id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.into_iter().skip(offset).take(limit).collect()
}

async fn listed(
    store: &Store,
    ws: i64,
    q: &str,
    role: Option<SourceRole>,
    offset: i64,
    limit: i64,
) -> Vec<i64> {
    let filter = RequestFilter {
        q: Some(q.into()),
        source_role: role,
        offset: Some(offset),
        limit: Some(limit),
        ..Default::default()
    };
    store
        .list_requests(ws, &filter)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect()
}

async fn imported_requests_are_found_before_and_after_their_terms_are_written(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let early = store
        .create_request(
            ws,
            "pm",
            Via::Api,
            new_request("门诊医生站 医保 上传 早", None),
        )
        .await
        .unwrap();
    let report = store
        .import_requests(ws, "import", &import_rows(2500), Apply::Commit, |_| {})
        .await
        .unwrap();
    assert_eq!(report.created.requests, 2500);
    let late = store
        .create_request(
            ws,
            "pm",
            Via::Api,
            new_request("门诊医生站 医保 上传 晚", None),
        )
        .await
        .unwrap();
    // A second import of the same rows, and another workspace with its own import.
    store
        .import_requests(ws, "import", &import_rows(300), Apply::Commit, |_| {})
        .await
        .unwrap();
    let other = store.create_workspace("other vendor").await.unwrap().id;
    store
        .import_requests(other, "import", &import_rows(500), Apply::Commit, |_| {})
        .await
        .unwrap();
    assert_eq!(
        store.search_backlog_len().await.unwrap(),
        3300,
        "the imports wrote no terms"
    );
    let all = store.all_requests(ws).await.unwrap();
    assert_eq!(all.len(), 2802);

    // (query, role, offset, limit): filed requests and imported ones together, pages, a filter,
    // imported ones alone, a term that only imported requests have, Latin letters written
    // full-width, and one-character queries.
    let cases: &[(&str, Option<SourceRole>, usize, usize)] = &[
        ("医保 上传", None, 0, 50),
        ("医保 上传", None, 40, 30),
        ("医保 上传", None, 0, 5000),
        ("医保 上传", Some(SourceRole::Implementation), 0, 20),
        ("排班 导出", None, 0, 5000),
        ("1234", None, 0, 10),
        ("299", None, 0, 10),
        ("医保 排班", None, 0, 10),
        ("drg 分组", None, 0, 100),
        ("DRG", Some(SourceRole::Customer), 3, 10),
        ("排", None, 0, 100),
        ("晚", None, 0, 100),
    ];
    let check = |when: &'static str| {
        let (store, all) = (&store, &all);
        async move {
            for &(q, role, offset, limit) in cases {
                let expected = expected_ids(all, q, role, offset, limit);
                let found = listed(store, ws, q, role, offset as i64, limit as i64).await;
                assert_eq!(
                    found, expected,
                    "{when}: list of {q} {role:?} {offset}+{limit}"
                );
                if role.is_none() && offset == 0 {
                    let ids = store
                        .search_ids(ws, DocKind::Request, q, limit as i64)
                        .await
                        .unwrap();
                    assert_eq!(ids, expected, "{when}: search of {q}");
                }
            }
        }
    };
    let both = expected_ids(&all, "医保 上传", None, 0, 5000);
    assert_eq!(both.len(), 562);
    assert!(both.contains(&early.id) && both.contains(&late.id));
    assert_eq!(expected_ids(&all, "1234", None, 0, 10).len(), 1);
    assert_eq!(
        expected_ids(&all, "299", None, 0, 10).len(),
        2,
        "in both imports"
    );
    assert!(expected_ids(&all, "drg 分组", None, 0, 100).len() > 10);
    assert!(expected_ids(&all, "排", None, 0, 100).len() > 50);
    assert_eq!(expected_ids(&all, "晚", None, 0, 100), [late.id]);
    check("before indexing").await;

    // The oldest part of the first import first; then everything.
    assert_eq!(
        store.index_backlog().await.unwrap(),
        cunjin_store::search::backlog::BACKLOG_CHUNK
    );
    assert_eq!(store.search_backlog_len().await.unwrap(), 2300);
    check("partly indexed").await;
    let mut covered = cunjin_store::search::backlog::BACKLOG_CHUNK;
    loop {
        let n = store.index_backlog().await.unwrap();
        if n == 0 {
            break;
        }
        assert!(n <= cunjin_store::search::backlog::BACKLOG_CHUNK);
        covered += n;
    }
    assert_eq!(covered, 3300);
    assert_eq!(store.search_backlog_len().await.unwrap(), 0);
    check("after indexing").await;
    // The terms are in the index now: similar requests (which read only the index) find them.
    let similar = store
        .similar_request_ids(ws, "检验报告 打印 第1号", None, 5)
        .await
        .unwrap();
    assert!(!similar.is_empty(), "imported requests are in the index");
}

/// An import larger than one statement writes each row as it was in the file, whole statements
/// and the remainder alike.
async fn an_import_writes_every_field_of_every_row(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("vendor").await.unwrap().id;
    let mut rows = import_rows(5_300);
    for (n, (_, row)) in rows.iter_mut().enumerate() {
        row.requester = format!("请求人{n}");
        row.product = n.is_multiple_of(4).then(|| format!("产品{}", n % 3));
    }
    let report = store
        .import_requests(ws, "importer", &rows, Apply::Commit, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            report.created.requests,
            report.created.customers,
            report.created.products
        ),
        (5_300, 3, 3)
    );
    let all = store.all_requests(ws).await.unwrap();
    assert_eq!(all.len(), rows.len());
    let mut products = std::collections::HashMap::new();
    for (r, (_, row)) in all.iter().zip(&rows) {
        assert_eq!(r.text, row.text);
        assert_eq!(r.source_role, row.source_role, "{}", r.text);
        assert_eq!(r.customer_name, row.customer, "{}", r.text);
        assert_eq!(r.requester, row.requester);
        assert_eq!(r.product_id.is_some(), row.product.is_some(), "{}", r.text);
        if let (Some(id), Some(name)) = (r.product_id, &row.product) {
            // The same product name is the same product on every row.
            assert_eq!(*products.entry(name.clone()).or_insert(id), id, "{name}");
        }
        assert_eq!((r.feature_id, r.decision), (None, Decision::New));
        assert_eq!((r.via.as_str(), r.created_by.as_str()), ("api", "importer"));
    }
    assert_eq!(products.len(), 3);
    let links: std::collections::HashSet<&str> =
        all.iter().map(|r| r.status_url.as_str()).collect();
    assert_eq!(
        links.len(),
        all.len(),
        "each request has its own status link"
    );
    // The next request filed by hand follows the imported ones.
    let next = store
        .create_request(ws, "pm", Via::Api, new_request("之后提交的需求", None))
        .await
        .unwrap();
    assert_eq!(next.id, all.last().unwrap().id + 1);
}

async fn two_instances_index_each_part_once(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let one = db.store().await.unwrap();
    let two = db.store().await.unwrap();
    let ws = one.create_workspace("vendor").await.unwrap().id;
    one.import_requests(ws, "import", &import_rows(3500), Apply::Commit, |_| {})
        .await
        .unwrap();
    // Both read the oldest part; the first to claim it indexes it, the other gets nothing.
    let (first, second) = cunjin_store::testing::index_backlog_race(&one, &two)
        .await
        .unwrap();
    assert_eq!(
        (first, second),
        (cunjin_store::search::backlog::BACKLOG_CHUNK, 0)
    );
    assert_eq!(one.search_backlog_len().await.unwrap(), 2500);
    // Then both at once until the backlog is empty: together they cover each id once.
    let drain = |store: &Store| {
        let store = store.clone();
        async move {
            let mut covered = 0;
            loop {
                let n = store.index_backlog().await.unwrap();
                covered += n;
                if n == 0 && store.search_backlog_len().await.unwrap() == 0 {
                    return covered;
                }
                tokio::task::yield_now().await;
            }
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(drain(&one)), tokio::spawn(drain(&two)));
    assert_eq!(a.unwrap() + b.unwrap(), 2500);
    let all = one.all_requests(ws).await.unwrap();
    for q in ["医保 上传", "排班 导出", "3499"] {
        assert_eq!(
            one.search_ids(ws, DocKind::Request, q, 5000).await.unwrap(),
            expected_ids(&all, q, None, 0, 5000),
            "{q}"
        );
    }
}

#[tokio::test]
async fn search_is_the_same_on_both_engines() {
    let sqlite = answers(TestEngine::Sqlite).await;
    let postgres = answers(TestEngine::Postgres).await;
    assert_eq!(sqlite, postgres);
    assert!(sqlite.iter().filter(|(_, found)| !found.is_empty()).count() >= 8);
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Sqlite).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Postgres).await } )* }
    };
}

on_both!(
    search_finds_chinese_and_english,
    similar_requests_are_near_duplicates,
    decisions_follow_the_rules_and_feed_the_roadmap,
    the_demo_has_requests_from_every_role,
    features_written_before_search_are_indexed_on_migrate,
    bulk_loading_is_searchable,
    a_query_is_driven_by_its_sparsest_term,
    imported_requests_are_found_before_and_after_their_terms_are_written,
    an_import_writes_every_field_of_every_row,
    two_instances_index_each_part_once
);
