//! `cunjin import` and `cunjin export`, run as a user runs them, on SQLite and PostgreSQL:
//! every encoding and every tracker's columns, bad rows, dry runs, round trips and a crash in
//! the middle of an import.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cunjin_store::requests::RequestFilter;
use cunjin_store::testing::{row_counts, TestDb, TestEngine};
use cunjin_store::Store;

fn cunjin(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cunjin"))
        .args(args)
        .env("CUNJIN_DB", db)
        .env("CUNJIN_LOG", "warn")
        .output()
        .expect("cunjin runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A database with one workspace, its store and a directory for files.
async fn setup(db: &TestDb) -> (Store, i64, tempfile::TempDir) {
    let o = cunjin(&db.url, &["workspace", "add", "医疗信息部"]);
    assert!(o.status.success(), "{o:?}");
    let ws: i64 = out(&o).trim().parse().unwrap();
    (db.store().await.unwrap(), ws, tempfile::tempdir().unwrap())
}

fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn import(db: &TestDb, kind: &str, path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", kind, path.to_str().unwrap()];
    args.extend_from_slice(extra);
    cunjin(&db.url, &args)
}

fn gbk(s: &str) -> Vec<u8> {
    let (b, _, unmappable) = encoding_rs::GBK.encode(s);
    assert!(!unmappable, "the fixture is GBK-encodable");
    b.into_owned()
}

fn gb18030(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

async fn texts(store: &Store, ws: i64, q: &str) -> Vec<String> {
    let mut t: Vec<String> = store
        .list_requests(
            ws,
            &RequestFilter {
                q: Some(q.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.text)
        .collect();
    t.sort();
    t
}

macro_rules! on_both_engines {
    ($($name:ident($db:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Sqlite).await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Postgres).await.unwrap(); $body } )* }
    };
}

const OWN_REQUESTS: &str = "标题,内容,客户,来源角色,提出人\n\
    ,医保结算清单导出要按月汇总,华西第一人民医院,客户,王主任\n\
    ,住院病历质控提醒,华西第一人民医院,implementation,实施-李工\n";

on_both_engines! {
    requests_in_every_encoding_are_searchable(db) {
        let (store, ws, dir) = setup(&db).await;
        let utf8 = OWN_REQUESTS.as_bytes().to_vec();
        let bom = [b"\xEF\xBB\xBF".as_slice(), OWN_REQUESTS.as_bytes()].concat();
        let files = [
            ("utf8.csv", utf8),
            ("bom.csv", bom),
            ("gbk.csv", gbk(OWN_REQUESTS)),
            // A character outside GBK (𠀀) proves GB18030's four-byte forms are read.
            ("gb18030.csv", gb18030(&OWN_REQUESTS.replace("王主任", "王𠀀"))),
        ];
        for (i, (name, bytes)) in files.iter().enumerate() {
            let path = file(&dir, name, bytes);
            let o = import(&db, "requests", &path, &[]);
            assert!(o.status.success(), "{name}: {}", err(&o));
            assert!(out(&o).contains("imported 2 requests"), "{name}: {}", out(&o));
            let found = texts(&store, ws, "医保").await;
            assert_eq!(found.len(), i + 1, "{name}: {found:?}");
            assert!(found.iter().all(|t| t == "医保结算清单导出要按月汇总"), "{found:?}");
        }
        let all = store.list_requests(ws, &RequestFilter::default()).await.unwrap();
        assert_eq!(all.len(), 8);
        assert!(all.iter().any(|r| r.requester == "王𠀀"));
        assert!(all.iter().all(|r| r.customer_name.as_deref() == Some("华西第一人民医院")));
        assert!(all.iter().any(|r| r.source_role.as_str() == "implementation"));
        // The customer was created once, not once per file.
        assert_eq!(store.list_customers(ws).await.unwrap().len(), 1);
    }

    zentao_jira_and_redmine_exports_are_read_with_their_columns(db) {
        let (store, ws, dir) = setup(&db).await;
        // ZenTao story export, GBK as Chinese Windows writes it; ids after the names.
        let zentao = "编号,所属产品,所属模块,需求名称,需求描述,来源,优先级,预计工时,状态,阶段,由谁创建\n\
            12,住院医生站(#1),/病历书写/模板(#7),结构化病历模板,支持按科室配置,客户,1,16,激活,研发中,张三\n\
            13,住院医生站(#1),/(#0),临床路径,,市场,2,,草稿,未开始,李四\n";
        let path = file(&dir, "zentao.csv", &gbk(zentao));
        let o = import(&db, "features", &path, &[]);
        assert!(o.status.success(), "{}", err(&o));
        let o = import(&db, "requests", &path, &["--format", "zentao"]);
        assert!(o.status.success(), "{}", err(&o));
        let products = store.list_products(ws).await.unwrap();
        assert_eq!(products.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["住院医生站"]);
        let features = store.list_features(ws, &Default::default()).await.unwrap();
        let f = features.iter().find(|f| f.title == "结构化病历模板").expect("imported");
        assert_eq!(f.menu_path, "病历书写/模板/结构化病历模板");
        assert_eq!(f.stage.as_str(), "stubbed");
        assert_eq!(f.effort_days, Some(2.0), "16 hours are 2 days");
        let f = features.iter().find(|f| f.title == "临床路径").expect("imported");
        assert_eq!((f.menu_path.as_str(), f.stage.as_str()), ("临床路径", "idea"));
        let r = texts(&store, ws, "病历模板").await;
        assert_eq!(r, ["结构化病历模板\n支持按科室配置"]);
        let all = store.list_requests(ws, &RequestFilter::default()).await.unwrap();
        let zhang = all.iter().find(|r| r.requester == "张三").unwrap();
        assert_eq!(zhang.source_role.as_str(), "customer");
        assert_eq!(zhang.product_id, Some(products[0].id));
        assert_eq!(all.iter().find(|r| r.requester == "李四").unwrap().source_role.as_str(), "sales");

        // Jira: repeated Component/s columns, a description over several lines.
        let jira = "Summary,Issue key,Issue id,Issue Type,Status,Project name,Reporter,Component/s,Component/s,Fix Version/s,Description\n\
            DRG grouping preview,HIS-101,10001,Story,In Progress,HIS,li.na,,Billing,v3.2,\"Show the DRG group\nbefore discharge\"\n\
            Ward round list,HIS-102,10002,Story,Done,HIS,wang,Wards,,,\n";
        let path = file(&dir, "jira.csv", jira.as_bytes());
        let o = import(&db, "features", &path, &[]);
        assert!(o.status.success(), "{}", err(&o));
        let o = import(&db, "requests", &path, &["--json"]);
        assert!(o.status.success(), "{}", err(&o));
        let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(report["dialect"], "jira");
        assert_eq!(report["created"]["requests"], 2);
        let features = store.list_features(ws, &Default::default()).await.unwrap();
        let drg = features.iter().find(|f| f.title == "DRG grouping preview").unwrap();
        assert_eq!(drg.menu_path, "Billing/DRG grouping preview");
        assert_eq!(drg.target_release.as_deref(), Some("v3.2"));
        assert_eq!(drg.stage.as_str(), "stubbed");
        let ward = features.iter().find(|f| f.title == "Ward round list").unwrap();
        assert_eq!((ward.menu_path.as_str(), ward.stage.as_str()), ("Wards/Ward round list", "built"));
        assert_eq!(texts(&store, ws, "discharge").await, ["DRG grouping preview\nShow the DRG group\nbefore discharge"]);

        // Redmine in Chinese, as an Excel workbook with a typed number cell.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["#", "项目", "跟踪", "状态", "主题", "作者", "类别", "预期时间", "描述"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in ["7", "互联网医院", "功能", "已解决", "在线复诊续方", "赵医生", "门诊"].iter().enumerate() {
            sheet.write_string(1, c as u16, *v).unwrap();
        }
        sheet.write_number(1, 7, 12.0).unwrap();
        sheet.write_string(1, 8, "复诊患者在线开药").unwrap();
        let path = file(&dir, "redmine.xlsx", &book.save_to_buffer().unwrap());
        let o = import(&db, "features", &path, &[]);
        assert!(o.status.success(), "{}", err(&o));
        let o = import(&db, "requests", &path, &[]);
        assert!(o.status.success(), "{}", err(&o));
        let features = store.list_features(ws, &Default::default()).await.unwrap();
        let f = features.iter().find(|f| f.title == "在线复诊续方").unwrap();
        assert_eq!((f.menu_path.as_str(), f.stage.as_str(), f.effort_days), ("门诊/在线复诊续方", "built", Some(1.5)));
        assert_eq!(texts(&store, ws, "续方").await, ["在线复诊续方\n复诊患者在线开药"]);
        let all = store.list_requests(ws, &RequestFilter::default()).await.unwrap();
        assert!(all.iter().any(|r| r.requester == "赵医生"));
    }

    one_bad_row_imports_nothing_and_names_its_line(db) {
        let (store, ws, dir) = setup(&db).await;
        let before = row_counts(&store).await.unwrap();
        // Line 2 spans two lines (a quoted newline): the bad row after it is on line 4.
        let csv = "product,menu_path,stage,effort_days\n\
            HIS,\"门诊/挂号\n预约\",built,3\n\
            HIS,门诊/收费,shipped,2\n\
            HIS,住院/医嘱,designed,-1\n\
            ,住院/护理,idea,\n";
        let path = file(&dir, "features.csv", csv.as_bytes());
        for extra in [&[][..], &["--dry-run"][..]] {
            let o = import(&db, "features", &path, extra);
            assert_eq!(o.status.code(), Some(1), "{o:?}");
            let e = err(&o);
            assert!(e.contains("line 4: stage: 'shipped'") && e.contains("第 4 行"), "{e}");
            assert!(e.contains("line 5: effort") && e.contains("第 5 行：工作量"), "{e}");
            assert!(e.contains("line 6: product is empty") && e.contains("第 6 行：“产品”为空"), "{e}");
            assert!(!e.contains("line 2") && !e.contains("line 3"), "{e}");
            assert!(e.contains("nothing was imported"), "{e}");
            assert_eq!(row_counts(&store).await.unwrap(), before, "nothing written");
        }
        // The JSON report lists the same lines.
        let o = import(&db, "features", &path, &["--json"]);
        let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(report["committed"], false);
        let lines: Vec<i64> = report["errors"].as_array().unwrap().iter().map(|e| e["line"].as_i64().unwrap()).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert!(report["errors"][0]["reason_zh"].as_str().unwrap().contains("阶段"));
        // A file missing a needed column is refused as a whole.
        let path = file(&dir, "nocol.csv", "菜单路径\n门诊/挂号\n".as_bytes());
        let o = import(&db, "features", &path, &[]);
        assert_eq!(o.status.code(), Some(2));
        assert!(err(&o).contains("no column product") && err(&o).contains("产品"), "{}", err(&o));
        assert_eq!(row_counts(&store).await.unwrap(), before);
        let _ = ws;
    }

    dry_run_counts_what_would_be_created_and_writes_nothing(db) {
        let (store, ws, dir) = setup(&db).await;
        let before = row_counts(&store).await.unwrap();
        let path = file(&dir, "r.csv", OWN_REQUESTS.as_bytes());
        let o = import(&db, "requests", &path, &["--dry-run"]);
        assert!(o.status.success(), "{}", err(&o));
        assert!(out(&o).contains("would create 2 requests (1 customers)"), "{}", out(&o));
        assert!(out(&o).contains("将创建需求 2 条（客户 1 个）"), "{}", out(&o));
        assert_eq!(row_counts(&store).await.unwrap(), before);
        assert!(store.list_customers(ws).await.unwrap().is_empty());
    }

    commitments_find_their_features_and_deals(db) {
        let (store, ws, dir) = setup(&db).await;
        let features = "产品,菜单路径,阶段\nEMR,住院医生站/病历书写/结构化模板,built\n";
        let o = import(&db, "features", &file(&dir, "f.csv", features.as_bytes()), &[]);
        assert!(o.status.success(), "{}", err(&o));
        let hosp = store.create_customer(ws, "华西第一人民医院", None).await.unwrap();
        store.create_deal(ws, cunjin_store::ledger::customers::NewDeal {
            customer_id: hosp.id,
            name: "电子病历四级".into(),
            stage: cunjin_core::DealStage::parse("won").unwrap(),
            contract_value: cunjin_core::Money::from_cents(0),
            acceptance_date: chrono_date("2027-06-30"),
            pilot: false,
        }).await.unwrap();
        let csv = "customer,deal,product,menu_path,feature,shown_as,promised_by,promised_at,due_date,critical,status,criteria\n\
            华西第一人民医院,电子病历四级,EMR,住院医生站/病历书写/结构化模板,,,售前-周,2026-03-01,,是,,\"三级查房模板\n按科室配置\"\n\
            华西第一人民医院,,,,AI 病历质控,,,,2026-12-31,否,,\n";
        let before = row_counts(&store).await.unwrap();
        let path = file(&dir, "c.csv", csv.as_bytes());
        let bad = csv.replace("电子病历四级", "不存在的商机");
        let o = import(&db, "commitments", &file(&dir, "bad.csv", bad.as_bytes()), &[]);
        assert_eq!(o.status.code(), Some(1));
        assert!(err(&o).contains("line 2: customer '华西第一人民医院' has no deal named '不存在的商机'"), "{}", err(&o));
        assert_eq!(row_counts(&store).await.unwrap(), before);
        let o = import(&db, "commitments", &path, &[]);
        assert!(o.status.success(), "{}", err(&o));
        assert!(out(&o).contains("imported 2 commitments (1 features, 2 criteria, 1 products)"), "{}", out(&o));
        let list = store.list_commitments(ws, &Default::default()).await.unwrap();
        assert_eq!(list.len(), 2);
        let c = list.iter().find(|c| c.menu_path.ends_with("结构化模板")).unwrap();
        assert_eq!(c.shown_as.as_str(), "unverified", "a built feature not probed");
        assert!(c.critical);
        assert_eq!(c.due_date.map(|d| d.to_string()).as_deref(), Some("2027-06-30"), "the deal's acceptance date");
        assert_eq!(c.criteria.iter().map(|k| k.text.as_str()).collect::<Vec<_>>(), ["三级查房模板", "按科室配置"]);
        let idea = list.iter().find(|c| c.feature_title == "AI 病历质控").unwrap();
        assert_eq!((idea.stage.as_str(), idea.shown_as.as_str()), ("idea", "promise"));
        assert_eq!(idea.promised_by, "import");
        let gap = store.gap_for_customer(ws, hosp.id.get()).await.unwrap();
        assert_eq!((gap.chi, gap.open_commitments), (5, 2), "1 for built + 4 for the idea");
    }

    export_then_import_gives_the_same_files(db) {
        let (store, ws, dir) = setup(&db).await;
        let _ = (&store, ws);
        let features = "product,menu_path,title,stage,effort_days,target_release\n\
            HIS,门诊/挂号/预约挂号,预约挂号,released,3.5,v1\n\
            HIS,门诊/收费,=SUM(A1),designed,,\n";
        assert!(import(&db, "features", &file(&dir, "f.csv", features.as_bytes()), &[]).status.success());
        assert!(import(&db, "requests", &file(&dir, "r.csv", OWN_REQUESTS.as_bytes()), &[]).status.success());
        // A met criterion is exported with ✓ and read back as met.
        let commitments = "customer,product,menu_path,critical,criteria,status,promised_at\n\
            华西第一人民医院,HIS,门诊/挂号/预约挂号,true,当天可约；✓ 支持医保卡,delivered,2026-01-05\n\
            华西第一人民医院,HIS,门诊/挂号/预约挂号,false,\"打印挂号单\n退号\",accepted,2026-01-06\n";
        assert!(import(&db, "commitments", &file(&dir, "c.csv", commitments.as_bytes()), &[]).status.success());
        let engine = if db.url.starts_with("postgres") { TestEngine::Postgres } else { TestEngine::Sqlite };
        for ext in ["csv", "xlsx"] {
            // Each format is imported into a database of its own.
            let other = TestDb::new(engine).await.unwrap();
            let (s2, ws2, _) = setup(&other).await;
            for kind in ["features", "requests", "commitments"] {
                let first = dir.path().join(format!("{kind}-1.{ext}"));
                let o = cunjin(&db.url, &["export", kind, first.to_str().unwrap()]);
                assert!(o.status.success(), "{}", err(&o));
                let o = import(&other, kind, &first, &[]);
                assert!(o.status.success(), "{kind}.{ext}: {}", err(&o));
                let second = dir.path().join(format!("{kind}-2.{ext}"));
                assert!(cunjin(&other.url, &["export", kind, second.to_str().unwrap()]).status.success());
                let read = |p: &Path| {
                    let bytes = std::fs::read(p).unwrap();
                    let t = cunjin_exchange::read_table(&bytes, cunjin_exchange::Container::sniff(&bytes)).unwrap();
                    // Ids and creation times belong to each database.
                    let keep: Vec<usize> = t.headers.iter().enumerate().filter(|(_, h)| *h != "id" && *h != "created_at").map(|(i, _)| i).collect();
                    t.rows.iter().map(|r| keep.iter().map(|&i| r.cells[i].clone()).collect::<Vec<_>>()).collect::<Vec<_>>()
                };
                let (a, b) = (read(&first), read(&second));
                assert_eq!(a, b, "{kind}.{ext}");
                assert!(!a.is_empty());
                if kind == "features" {
                    // CSV defuses a formula with an apostrophe that the import takes off.
                    let cell = if ext == "csv" { "'=SUM(A1)" } else { "=SUM(A1)" };
                    assert!(a.iter().any(|r| r.contains(&cell.to_string())), "text kept: {a:?}");
                }
                if kind == "commitments" {
                    let criteria: Vec<&String> = a.iter().map(|r| r.last().unwrap()).collect();
                    assert!(criteria.contains(&&"当天可约\n✓ 支持医保卡".to_string()), "{a:?}");
                    assert!(criteria.contains(&&"✓ 打印挂号单\n✓ 退号".to_string()), "{a:?}");
                }
            }
            let met: Vec<(String, bool)> = s2
                .all_commitments(ws2)
                .await
                .unwrap()
                .iter()
                .flat_map(|c| c.criteria.iter().map(|k| (k.text.clone(), k.met)))
                .collect();
            assert_eq!(met.len(), 4, "{ext}: {met:?}");
            for (text, met) in &met {
                assert_eq!(*met, text != "当天可约", "{ext}: {text}");
            }
        }
        let csv = std::fs::read_to_string(dir.path().join("features-1.csv")).unwrap();
        assert!(csv.contains("'=SUM(A1)"), "a formula is defused in CSV: {csv}");
    }

    zentao_column_variants_keep_every_text_and_unread_text_is_named(db) {
        let (store, ws, dir) = setup(&db).await;
        let hosp = store.create_customer(ws, "华西第一人民医院", None).await.unwrap();
        // 描述 instead of 需求描述, a 来源备注 naming a customer or a person, and 验收标准, which
        // requests do not read.
        let zentao = "编号,所属产品,所属模块,需求名称,描述,来源,来源备注,验收标准,由谁创建\n\
            1,HIS(#1),/(#0),医保结算清单导出,按月汇总并可导出为 Excel 表格,客户,华西第一人民医院 王主任,导出后可直接上传医保平台,张三\n\
            2,HIS(#1),/(#0),排班复制,可复制上周的排班表到本周,用户,护士长李娟,,李四\n";
        let path = file(&dir, "zentao.csv", &gbk(zentao));
        for extra in [&["--dry-run"][..], &[][..]] {
            let o = import(&db, "requests", &path, extra);
            assert!(o.status.success(), "{}", err(&o));
            assert!(
                out(&o).contains("column 验收标准 is not imported, though 1 rows have text in it")
                    && out(&o).contains("列“验收标准”未导入，其中 1 行有文字"),
                "{}", out(&o)
            );
        }
        let o = import(&db, "requests", &path, &["--json", "--dry-run"]);
        let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(report["unused_columns"], serde_json::json!([{"column": "验收标准", "rows": 1}]));
        let all = store.list_requests(ws, &RequestFilter::default()).await.unwrap();
        let export = all.iter().find(|r| r.text.starts_with("医保结算清单导出")).unwrap();
        assert_eq!(export.text, "医保结算清单导出\n按月汇总并可导出为 Excel 表格", "the description is kept");
        assert_eq!(export.customer_id, Some(hosp.id.get()), "the note names the customer");
        assert_eq!(export.requester, "张三");
        let copy = all.iter().find(|r| r.text.starts_with("排班复制")).unwrap();
        assert_eq!(copy.text, "排班复制\n可复制上周的排班表到本周");
        assert_eq!((copy.customer_id, copy.requester.as_str()), (None, "护士长李娟"), "the note says who asked");
        assert_eq!(store.list_customers(ws).await.unwrap().len(), 1, "a note creates no customer");
    }

    a_file_cut_inside_a_character_is_refused_with_its_line(db) {
        let (store, _ws, dir) = setup(&db).await;
        let before = row_counts(&store).await.unwrap();
        let bytes = gbk(OWN_REQUESTS);
        // Cut inside the last character (任, two bytes in GBK) of the last row, after its newline.
        let cut = &bytes[..bytes.len() - 2];
        let path = file(&dir, "cut.csv", cut);
        for extra in [&[][..], &["--dry-run"][..]] {
            let o = import(&db, "requests", &path, extra);
            assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
            let e = err(&o);
            assert!(e.contains("line 3: has bytes that are not UTF-8, GBK or GB18030 text"), "{e}");
            assert!(e.contains("第 3 行：含有无法识别的字节"), "{e}");
            assert!(!e.contains("line 2"), "{e}");
            assert_eq!(row_counts(&store).await.unwrap(), before, "nothing written");
        }
        // The same for UTF-8 cut inside its last character.
        let utf8 = OWN_REQUESTS.trim_end().as_bytes();
        let path = file(&dir, "cut-utf8.csv", &utf8[..utf8.len() - 1]);
        let o = import(&db, "requests", &path, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        assert!(err(&o).contains("line 3: has bytes"), "{}", err(&o));
        assert_eq!(row_counts(&store).await.unwrap(), before);
    }

    request_decisions_in_a_file_follow_the_rules_of_deciding(db) {
        let (store, ws, dir) = setup(&db).await;
        let features = "product,menu_path,stage\nHIS,门诊/排班,designed\n";
        assert!(import(&db, "features", &file(&dir, "f.csv", features.as_bytes()), &[]).status.success());
        let before = row_counts(&store).await.unwrap();
        let bad = "id,text,product,decision,reason,duplicate_of,feature_menu_path\n\
            7,门诊排班,HIS,accepted,,,门诊/排班\n\
            8,排班,HIS,duplicate,,7,\n\
            9,排班导出,HIS,declined,,,\n\
            10,排班打印,HIS,accepted,,,\n\
            11,挂号,HIS,duplicate,,99,\n\
            11,收费,HIS,,,,\n\
            12,护理,HIS,accepted,,,住院/护理\n\
            13,自己,HIS,duplicate,,13,\n\
            14,发票,HIS,maybe,,,\n";
        let o = import(&db, "requests", &file(&dir, "bad.csv", bad.as_bytes()), &[]);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        let e = err(&o);
        for (line, en, zh) in [
            (4, "decision declined: declining a request needs a reason", "“不做”须写明理由"),
            (5, "decision accepted: accepting a request needs a feature", "须关联功能"),
            (6, "duplicate_of: no request with id 99 in the file", "文件中没有编号为 99 的需求"),
            (7, "id 11 is also the id of line 6", "编号 11 与第 6 行重复"),
            (8, "no feature '住院/护理' in the catalogue: import the features first", "请先导入功能"),
            (9, "decision duplicate: a request cannot be a duplicate of itself", "不能重复于它自己"),
            (10, "decision: 'maybe' is not one of", "“决定”无效"),
        ] {
            assert!(e.contains(&format!("line {line}: {en}")), "{en}: {e}");
            assert!(e.contains(&format!("第 {line} 行：")) && e.contains(zh), "{zh}: {e}");
        }
        assert!(!e.contains("line 2:") && !e.contains("line 3:"), "{e}");
        // A reference not found is said once, not again as a broken rule.
        assert_eq!(e.matches("第 6 行：").count(), 1, "{e}");
        assert_eq!(e.matches("第 8 行：").count(), 1, "{e}");
        assert_eq!(row_counts(&store).await.unwrap(), before, "nothing written");
        // The good rows alone: the duplicate's demand goes to its original's feature.
        let good: String = bad.lines().take(3).map(|l| format!("{l}\n")).collect();
        let o = import(&db, "requests", &file(&dir, "good.csv", good.as_bytes()), &[]);
        assert!(o.status.success(), "{}", err(&o));
        let all = store.list_requests(ws, &RequestFilter::default()).await.unwrap();
        let original = all.iter().find(|r| r.text == "门诊排班").unwrap();
        let dup = all.iter().find(|r| r.text == "排班").unwrap();
        assert_eq!((original.decision.as_str(), dup.decision.as_str()), ("accepted", "duplicate"));
        assert_eq!(dup.duplicate_of, Some(original.id));
        assert!(original.feature_id.is_some());
        assert_eq!((original.decided_by.as_deref(), dup.decided_by.as_deref()), (Some("import"), Some("import")));
    }

    a_whole_workspace_moves_to_a_fresh_database_with_nothing_lost(db) {
        let (store, ws, dir) = setup(&db).await;
        store.seed_demo(ws, chrono_date("2026-11-20").unwrap()).await.unwrap().expect("seeded");
        let before = ledger_by_name(&store, ws).await;
        // The sample has what an export used to lose: decisions of every kind, duplicates and
        // feature links (the roadmap's demand), met criteria, customer weights.
        let requests = before["requests"].as_array().unwrap();
        for decision in ["accepted", "declined", "duplicate", "deferred"] {
            assert!(requests.iter().any(|r| r[6] == decision), "the sample has {decision} requests");
        }
        assert!(requests.iter().any(|r| !r[9].is_null()), "linked requests");
        assert!(before["roadmap"].as_array().unwrap().iter().any(|e| e[2].as_f64().unwrap() > 0.0), "demand");
        let engine = if db.url.starts_with("postgres") { TestEngine::Postgres } else { TestEngine::Sqlite };
        for ext in ["csv", "xlsx"] {
            let other = TestDb::new(engine).await.unwrap();
            let (s2, ws2, _) = setup(&other).await;
            // Features first, then customers and their deals, then what refers to them.
            for kind in ["features", "customers", "commitments", "requests"] {
                let path = dir.path().join(format!("{kind}.{ext}"));
                let o = cunjin(&db.url, &["export", kind, path.to_str().unwrap()]);
                assert!(o.status.success(), "{}", err(&o));
                let o = import(&other, kind, &path, &["--quiet"]);
                assert!(o.status.success(), "{kind}.{ext}: {}{}", out(&o), err(&o));
                assert!(!out(&o).contains("not imported"), "every column is read: {}", out(&o));
            }
            let after = ledger_by_name(&s2, ws2).await;
            for part in ["features", "customers", "deals", "commitments", "requests", "gap", "roadmap"] {
                assert_eq!(after[part], before[part], "{ext}: {part}");
            }
        }
    }

    commitments_keep_the_status_rules(db) {
        let (store, ws, dir) = setup(&db).await;
        let features = "product,menu_path,stage\nHIS,门诊/挂号,built\nHIS,门诊/收费,idea\n";
        assert!(import(&db, "features", &file(&dir, "f.csv", features.as_bytes()), &[]).status.success());
        let good = "customer,product,menu_path,feature,status,criteria\n\
            协和医院,HIS,门诊/挂号,,accepted,\"可预约\n可退号\"\n\
            协和医院,HIS,门诊/收费,,open,✓ 可打印发票；可退费\n";
        let bad = format!("{good}\
            协和医院,HIS,门诊/收费,,delivered,\n\
            协和医院,,,AI 病历质控,accepted,\n");
        let before = row_counts(&store).await.unwrap();
        let o = import(&db, "commitments", &file(&dir, "bad.csv", bad.as_bytes()), &[]);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let e = err(&o);
        // Line 2 spans two lines (a quoted newline).
        assert!(e.contains("line 5: status delivered: the feature is only at stage idea"), "{e}");
        assert!(e.contains("第 5 行：状态“delivered”不可用：功能只在“idea”阶段"), "{e}");
        // A feature the import would create is an idea too.
        assert!(e.contains("line 6: status accepted: the feature is only at stage idea"), "{e}");
        assert!(!e.contains("line 2") && !e.contains("line 4"), "{e}");
        assert_eq!(row_counts(&store).await.unwrap(), before, "nothing written");

        // A dry run counts what the import then creates.
        let path = file(&dir, "good.csv", good.as_bytes());
        let o = import(&db, "commitments", &path, &["--dry-run", "--json"]);
        assert!(o.status.success(), "{}", err(&o));
        let dry: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(dry["committed"], false);
        assert_eq!(row_counts(&store).await.unwrap(), before, "a dry run writes nothing");
        let o = import(&db, "commitments", &path, &["--json"]);
        assert!(o.status.success(), "{}", err(&o));
        let done: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(done["committed"], true);
        assert_eq!(dry["created"], done["created"]);
        assert_eq!(done["created"]["commitments"], 2);
        assert_eq!(done["created"]["criteria"], 4);
        assert_eq!(done["created"]["customers"], 1);

        let list = store.all_commitments(ws).await.unwrap();
        let accepted = list.iter().find(|c| c.status.as_str() == "accepted").unwrap();
        // Acceptance means every criterion was met.
        assert_eq!(accepted.criteria.len(), 2);
        assert!(accepted.criteria.iter().all(|k| k.met && k.met_by.as_deref() == Some("import")), "{:?}", accepted.criteria);
        let open = list.iter().find(|c| c.status.as_str() == "open").unwrap();
        let met: Vec<(&str, bool)> = open.criteria.iter().map(|k| (k.text.as_str(), k.met)).collect();
        assert_eq!(met, [("可打印发票", true), ("可退费", false)]);
        assert!(open.criteria[1].met_at.is_none() && open.criteria[0].met_at.is_some());
    }

    a_killed_import_leaves_nothing_and_a_rerun_imports_all(db) {
        let (store, ws, dir) = setup(&db).await;
        let n = 200_000;
        let mut csv = String::from("text,customer,source_role\n");
        for i in 0..n {
            csv.push_str(&format!("第{i}号：医保结算清单按病种汇总 batch{i},医院{},customer\n", i % 50));
        }
        let path = file(&dir, "big.csv", csv.as_bytes());
        let before = row_counts(&store).await.unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cunjin"))
            .args(["import", "requests", path.to_str().unwrap()])
            .env("CUNJIN_DB", &db.url)
            .env("CUNJIN_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push(line.clone());
            // Kill -9 once rows are being written, well before the end.
            if line.contains("rows written") {
                break;
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed mid-way: {seen:?}");
        assert!(seen.iter().any(|l| l.starts_with("5000 rows written")), "{seen:?}");
        // A fresh connection sees exactly what was there before.
        let store = Store::open(&db.url).await.unwrap();
        assert_eq!(row_counts(&store).await.unwrap(), before);
        let o = import(&db, "requests", &path, &["--quiet"]);
        assert!(o.status.success(), "{}", err(&o));
        let after = row_counts(&store).await.unwrap();
        assert_eq!(after["requests"], before["requests"] + n as i64);
        assert_eq!(after["customers"], 50);
        assert_eq!(texts(&store, ws, "batch199999").await.len(), 1);
    }
}

/// Everything a workspace holds that its files carry, by names and texts instead of ids (which
/// belong to each database), sorted: two workspaces are the same when these are equal.
async fn ledger_by_name(store: &Store, ws: i64) -> serde_json::Value {
    use serde_json::json;
    let products: std::collections::HashMap<i64, String> = store
        .list_products(ws)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let customers = store.list_customers(ws).await.unwrap();
    let customer = |id: i64| {
        customers
            .iter()
            .find(|c| c.id.get() == id)
            .unwrap()
            .name
            .clone()
    };
    let deals = store.list_deals(ws, None).await.unwrap();
    let deal = |id: Option<i64>| {
        id.map(|id| {
            deals
                .iter()
                .find(|d| d.id.get() == id)
                .unwrap()
                .name
                .clone()
        })
    };
    let features = store.list_features(ws, &Default::default()).await.unwrap();
    let path = |id: i64| {
        let f = features.iter().find(|f| f.id == id).unwrap();
        format!("{}:{}", products[&f.product_id], f.menu_path)
    };
    let mut f: Vec<_> = features
        .iter()
        .map(|f| {
            json!([
                path(f.id),
                f.title,
                f.stage.as_str(),
                f.effort_days,
                f.target_release,
                f.slide_url,
                f.recording_url
            ])
        })
        .collect();
    let mut c: Vec<_> = customers
        .iter()
        .map(|c| json!([c.name, c.weight]))
        .collect();
    let mut d: Vec<_> = deals
        .iter()
        .map(|d| {
            json!([
                customer(d.customer_id.get()),
                d.name,
                d.stage.as_str(),
                d.contract_value,
                d.acceptance_date,
                d.pilot
            ])
        })
        .collect();
    let mut k: Vec<_> = store
        .all_commitments(ws)
        .await
        .unwrap()
        .iter()
        .map(|k| {
            let criteria: Vec<_> = k.criteria.iter().map(|x| json!([x.text, x.met])).collect();
            json!([
                customer(k.customer_id),
                deal(k.deal_id),
                path(k.feature_id),
                k.feature_title,
                k.shown_as.as_str(),
                k.promised_by,
                k.promised_at,
                k.due_date,
                k.critical,
                k.status.as_str(),
                criteria
            ])
        })
        .collect();
    let requests = store.all_requests(ws).await.unwrap();
    // A duplicate's original by its words and filing time.
    let original = |id: Option<i64>| {
        id.map(|id| {
            let o = requests.iter().find(|r| r.id == id).unwrap();
            format!("{} @ {}", o.text, o.created_at)
        })
    };
    let mut r: Vec<_> = requests
        .iter()
        .map(|r| {
            json!([
                r.text,
                r.source_role.as_str(),
                r.customer_name,
                r.requester,
                r.contact,
                r.product_id.map(|p| products[&p].clone()),
                r.decision.as_str(),
                r.reason,
                original(r.duplicate_of),
                r.feature_id.map(path),
                r.planned_release,
                r.created_at,
                r.decided_by,
                r.decided_at
            ])
        })
        .collect();
    for list in [&mut f, &mut c, &mut d, &mut k, &mut r] {
        list.sort_by_key(|v| v.to_string());
    }
    let gap = store.gap(ws, None).await.unwrap();
    // The roadmap on a fixed day: every term, demand included, by feature.
    let mut roadmap: Vec<_> = store
        .roadmap(ws, chrono_date("2026-12-01").unwrap())
        .await
        .unwrap()
        .iter()
        .map(|e| {
            json!([
                path(e.feature_id),
                e.score,
                e.terms.demand,
                e.terms.value_urgency
            ])
        })
        .collect();
    roadmap.sort_by_key(|v| v.to_string());
    json!({"features": f, "customers": c, "deals": d, "commitments": k, "requests": r,
        "gap": [gap.chi, gap.cun], "roadmap": roadmap})
}

fn chrono_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
