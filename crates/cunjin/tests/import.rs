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
        store.create_deal(ws, cunjin_store::customers::NewDeal {
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
        let gap = store.gap_for_customer(ws, hosp.id).await.unwrap();
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

fn chrono_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
