//! Writers that meet: instances starting together on an empty database, and many writes of
//! different kinds on one workspace at once. Run on SQLite and on PostgreSQL with the same code.

use cunjin_core::{CustomerId, DealId, DealStage, MenuPath, Money, Stage};
use cunjin_store::delivery::releases::NewRelease;
use cunjin_store::ledger::catalogue::{FeatureChange, NewFeature};
use cunjin_store::ledger::commitments::{FeatureRef, NewCommitment};
use cunjin_store::ledger::customers::NewDeal;
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_store::{Store, StoreError};

/// Runs each test body once per engine, with a fresh empty database (not yet migrated).
macro_rules! on_both_engines {
    ($($name:ident($db:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { let $db = TestDb::new(TestEngine::Sqlite).await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { let $db = TestDb::new(TestEngine::Postgres).await.unwrap(); $body } )* }
    };
}

/// Instances started together: each opens its own `Store` (its own pools, as separate processes
/// would) on the same fresh database, migrates it and makes sure there is an administrator.
const INSTANCES: usize = 6;

/// Concurrent writes of every kind in the second test.
const WRITERS: usize = 48;

async fn count(store: &Store, table: &str) -> i64 {
    let rows = cunjin_store::testing::row_counts(store).await.unwrap();
    rows[table]
}

on_both_engines! {
    instances_starting_together_on_an_empty_database_make_one_workspace_and_one_administrator(db) {
        let mut starts = Vec::new();
        for _ in 0..INSTANCES {
            let url = db.url.clone();
            starts.push(tokio::spawn(async move {
                let store = Store::open(&url).await?;
                let first = store.ensure_first_admin(Some("s3cret-pass")).await?;
                store.close().await;
                Ok::<_, StoreError>(first.is_some())
            }));
        }
        let mut created = 0;
        for s in starts {
            if s.await.unwrap().expect("every instance starts") {
                created += 1;
            }
        }
        assert_eq!(created, 1, "one instance creates the administrator");
        let store = db.store().await.unwrap();
        assert_eq!(store.list_workspaces().await.unwrap().len(), 1, "one default workspace");
        assert_eq!(store.count_users().await.unwrap(), 1, "one administrator");
        assert!(store.verify_login("admin@localhost", "s3cret-pass").await.unwrap().is_some());
        // The other verbs that make the default workspace on an empty database use that one.
        let ws = store.first_or_new_workspace("其他 Other").await.unwrap();
        assert_eq!(ws.id, store.list_workspaces().await.unwrap()[0].id);
    }

    the_default_workspace_is_made_once_however_many_ask_at_once(db) {
        let mut asks = Vec::new();
        for _ in 0..INSTANCES {
            let url = db.url.clone();
            asks.push(tokio::spawn(async move {
                let store = Store::open(&url).await?;
                let ws = store.first_or_new_workspace("默认工作区 Default workspace").await?;
                store.close().await;
                Ok::<_, StoreError>(ws.id)
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        for a in asks {
            ids.insert(a.await.unwrap().expect("every caller gets the workspace"));
        }
        assert_eq!(ids.len(), 1, "every caller got the same workspace: {ids:?}");
        let store = db.store().await.unwrap();
        assert_eq!(store.list_workspaces().await.unwrap().len(), 1);
    }

    many_writes_of_every_kind_on_one_workspace_at_once_all_succeed(db) {
        let store = db.store().await.unwrap();
        let ws = store.create_workspace("并发厂商").await.unwrap().id;
        let product = store.create_product(ws, "电子病历 EMR").await.unwrap().id;
        let mut features = Vec::new();
        for i in 0..8 {
            let f = store
                .create_feature(ws, "pm@x", NewFeature {
                    product_id: product,
                    menu_path: MenuPath::parse(&format!("住院/模块{i}/功能{i}")).unwrap(),
                    title: None,
                    stage: Stage::Built,
                    effort_days: Some(5.0),
                    target_release: None,
                    slide_url: None,
                    recording_url: None,
                })
                .await
                .unwrap();
            features.push(f.id);
        }
        let mut customers = Vec::new();
        for i in 0..4 {
            let c = store.create_customer(ws, &format!("医院{i}"), None).await.unwrap().id;
            let d = store
                .create_deal(ws, NewDeal {
                    customer_id: c,
                    name: format!("合同{i}"),
                    stage: DealStage::Won,
                    contract_value: Money::from_units(1_000_000.0).unwrap(),
                    acceptance_date: None,
                    pilot: i == 0,
                })
                .await
                .unwrap()
                .id;
            customers.push((c, d));
        }
        let promise = |customer: (CustomerId, DealId), feature: i64| NewCommitment {
            customer_id: customer.0.get(),
            deal_id: Some(customer.1.get()),
            feature: FeatureRef::Id(feature),
            shown_as: None,
            promised_by: None,
            promised_at: None,
            due_date: None,
            critical: false,
            criteria: vec!["能打印 prints".into(), "能导出 exports".into()],
        };
        let mut commitments = Vec::new();
        for (i, &c) in customers.iter().enumerate() {
            for &f in &features {
                if (f as usize + i).is_multiple_of(2) {
                    commitments.push(store.record_promise(ws, "pm@x", promise(c, f)).await.unwrap());
                }
            }
        }
        let early = store
            .create_release(ws, "pm@x", NewRelease {
                version: "v-early".into(),
                date: cunjin_store::today(),
                feature_ids: features[..2].to_vec(),
            })
            .await
            .unwrap()
            .id;

        // Writers of every kind: each takes rows of features, commitments, criteria, deals and
        // customers in its own order, and every one of them moves the workspace's report version.
        let mut writers: Vec<tokio::task::JoinHandle<Result<&'static str, StoreError>>> = Vec::new();
        for n in 0..WRITERS {
            let s = store.clone();
            let features = features.clone();
            let customers = customers.clone();
            let commitment = commitments[n % commitments.len()].clone();
            writers.push(tokio::spawn(async move {
                match n % 8 {
                    0 => {
                        // A release moves several features at once, in id order.
                        let ids = vec![features[n % 8], features[(n + 3) % 8], features[(n + 5) % 8]];
                        s.create_release(ws, "pm@x", NewRelease { version: format!("v{n}"), date: cunjin_store::today(), feature_ids: ids }).await?;
                        Ok("release")
                    }
                    1 => {
                        // A feature changed by hand, from the highest id down.
                        let f = features[7 - n % 8];
                        s.update_feature(ws, "pm@x", f, FeatureChange { effort_days: Some(Some(n as f64)), title: Some(format!("功能 {n}")), ..Default::default() }).await?;
                        Ok("feature")
                    }
                    2 => {
                        let k = commitment.criteria[0].id;
                        s.set_criterion(ws, "impl@x", commitment.id, k, n % 16 < 8).await?;
                        Ok("criterion")
                    }
                    3 => {
                        s.add_criterion(ws, "impl@x", commitment.id, &format!("验收点 {n}")).await?;
                        Ok("new criterion")
                    }
                    4 => {
                        s.record_promise(ws, "presales@x", promise(customers[n % 4], features[(n * 3) % 8])).await?;
                        Ok("promise")
                    }
                    5 => {
                        let (c, _) = customers[n % 4];
                        s.create_deal(ws, NewDeal { customer_id: c, name: format!("增补{n}"), stage: DealStage::Negotiation, contract_value: Money::from_units(n as f64).unwrap(), acceptance_date: None, pilot: false }).await?;
                        Ok("deal")
                    }
                    6 => {
                        let ids: Vec<i64> = customers.iter().rev().map(|c| c.0.get()).collect();
                        s.deliver_release(ws, "impl@x", early, &ids).await?;
                        Ok("delivery")
                    }
                    _ => {
                        s.create_customer(ws, &format!("新医院{n}"), Some(2.0)).await?;
                        Ok("customer")
                    }
                }
            }));
        }
        let mut failures = Vec::new();
        for w in writers {
            match w.await.unwrap() {
                Ok(_) => {}
                Err(e) => failures.push(e.to_string()),
            }
        }
        assert!(failures.is_empty(), "{} of {WRITERS} writes failed: {failures:#?}", failures.len());
        assert_eq!(count(&store, "releases").await, 1 + WRITERS as i64 / 8);
        let version = store.report_version(ws).await.unwrap();
        assert!(version > WRITERS as i64, "every write moved the report version ({version})");
    }
}
