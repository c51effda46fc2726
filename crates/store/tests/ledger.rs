//! Repository tests, run on SQLite and on PostgreSQL with the same code.

use chrono::NaiveDate;
use cunjin_core::{CustomerId, DealStage, Email, MenuPath, Mode, Money, Role, Stage, Status};
use cunjin_store::ledger::catalogue::{FeatureChange, FeatureFilter, NewFeature};
use cunjin_store::ledger::commitments::{CommitmentFilter, FeatureRef, NewCommitment};
use cunjin_store::ledger::customers::NewDeal;
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_store::{Store, StoreError};

/// Runs each test body once per engine.
macro_rules! on_both_engines {
    ($($name:ident($store:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let db = TestDb::new(TestEngine::Sqlite).await.unwrap(); let $store = db.store().await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let db = TestDb::new(TestEngine::Postgres).await.unwrap(); let $store = db.store().await.unwrap(); $body } )* }
    };
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

struct Fixture {
    ws: i64,
    customer: i64,
    deal: i64,
    slide_feature: i64,
}

async fn fixture(store: &Store) -> Fixture {
    let ws = store.create_workspace("测试厂商").await.unwrap().id;
    let product = store.create_product(ws, "电子病历 EMR").await.unwrap();
    let f = store
        .create_feature(
            ws,
            "pm@x",
            NewFeature {
                product_id: product.id,
                menu_path: MenuPath::parse("住院医生站/病历书写/结构化模板").unwrap(),
                title: None,
                stage: Stage::Designed,
                effort_days: Some(10.0),
                target_release: None,
                slide_url: Some("https://slides/emr".into()),
                recording_url: None,
            },
        )
        .await
        .unwrap();
    let customer = store
        .create_customer(ws, "华西第一人民医院", None)
        .await
        .unwrap();
    let deal = store
        .create_deal(
            ws,
            NewDeal {
                customer_id: customer.id,
                name: "电子病历升级".into(),
                stage: DealStage::Won,
                contract_value: Money::from_units(3_800_000.0).unwrap(),
                acceptance_date: Some(day("2027-03-31")),
                pilot: true,
            },
        )
        .await
        .unwrap();
    Fixture {
        ws,
        customer: customer.id.get(),
        deal: deal.id.get(),
        slide_feature: f.id,
    }
}

fn promise(fx: &Fixture, feature: FeatureRef, criteria: &[&str]) -> NewCommitment {
    NewCommitment {
        customer_id: fx.customer,
        deal_id: Some(fx.deal),
        feature,
        shown_as: None,
        promised_by: Some("张销售".into()),
        promised_at: None,
        due_date: None,
        critical: true,
        criteria: criteria.iter().map(|s| s.to_string()).collect(),
    }
}

on_both_engines! {
    a_page_of_commitments_carries_exactly_its_own_criteria(store) {
        let fx = fixture(&store).await;
        let other = store.create_customer(fx.ws, "第二人民医院", None).await.unwrap().id.get();
        for i in 0..5 {
            let mine = [format!("c{i}-a"), format!("c{i}-b")];
            let mine: Vec<&str> = mine.iter().map(String::as_str).collect();
            let title = FeatureRef::Title { title: format!("功能{i}"), product_id: None };
            store.record_promise(fx.ws, "pm@x", promise(&fx, title, &mine)).await.unwrap();
            let theirs = NewCommitment {
                customer_id: other,
                deal_id: None,
                criteria: vec![format!("x{i}")],
                ..promise(&fx, FeatureRef::Title { title: format!("他的功能{i}"), product_id: None }, &[])
            };
            store.record_promise(fx.ws, "pm@x", theirs).await.unwrap();
        }
        let own = |list: &[cunjin_store::ledger::commitments::Commitment]| {
            for c in list {
                let i = c.feature_title.trim_start_matches("他的功能").trim_start_matches("功能");
                let texts: Vec<&str> = c.criteria.iter().map(|k| k.text.as_str()).collect();
                if c.customer_id == fx.customer {
                    assert_eq!(texts, [format!("c{i}-a"), format!("c{i}-b")], "{}", c.feature_title);
                } else {
                    assert_eq!(texts, [format!("x{i}")], "{}", c.feature_title);
                }
            }
        };
        let list = |customer_id: Option<i64>, limit: i64, offset: i64| {
            let store = &store;
            async move {
                store.list_commitments(fx.ws, &CommitmentFilter { customer_id, limit: Some(limit), offset: Some(offset), ..Default::default() }).await.unwrap()
            }
        };
        // The whole list of one customer, a page of it, a full first page, and a page of all.
        let whole = list(Some(fx.customer), 100, 0).await;
        assert_eq!(whole.len(), 5);
        own(&whole);
        let page = list(Some(fx.customer), 2, 1).await;
        assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), [whole[1].id, whole[2].id]);
        own(&page);
        let first = list(Some(fx.customer), 2, 0).await;
        assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), [whole[0].id, whole[1].id]);
        own(&first);
        let all = list(None, 3, 2).await;
        assert_eq!(all.len(), 3);
        own(&all);
        own(&list(None, 100, 0).await);
    }

    the_example_of_the_design_closes_inch_by_inch(store) {
        let fx = fixture(&store).await;
        let c = store
            .record_promise(fx.ws, "pm@x", promise(&fx, FeatureRef::Id(fx.slide_feature), &["模板可自定义", "三级质控"]))
            .await
            .unwrap();
        assert_eq!(c.shown_as, Mode::Slides, "a designed feature is shown on slides by default");
        assert_eq!(c.due_date, Some(day("2027-03-31")), "due on the deal's acceptance date");
        assert_eq!((c.gap.chi, c.gap.cun), (3, 3));
        let g = store.gap(fx.ws, None).await.unwrap();
        assert_eq!((g.chi, g.cun), (3, 3));
        assert!(g.customers[0].pilot);

        store
            .update_feature(fx.ws, "rnd@x", fx.slide_feature, FeatureChange { stage: Some(Stage::Released), ..Default::default() })
            .await
            .unwrap();
        let c = store.transition_commitment(fx.ws, "impl@x", c.id, Status::Delivered, None).await.unwrap();
        let first = c.criteria[0].id;
        let c = store.set_criterion(fx.ws, "impl@x", c.id, first, true).await.unwrap();
        assert_eq!((c.gap.chi, c.gap.cun), (0, 1));
        let g = store.gap_for_customer(fx.ws, fx.customer).await.unwrap();
        assert_eq!((g.chi, g.cun), (0, 1));

        let err = store.transition_commitment(fx.ws, "impl@x", c.id, Status::Accepted, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Transition(_)), "{err}");
        let second = c.criteria[1].id;
        store.set_criterion(fx.ws, "impl@x", c.id, second, true).await.unwrap();
        let c = store.transition_commitment(fx.ws, "pm@x", c.id, Status::Accepted, None).await.unwrap();
        assert_eq!(c.status, Status::Accepted);
        assert!(c.gap.is_closed());
        assert_eq!(store.gap(fx.ws, None).await.unwrap().chi, 0);

        let trail = store.audit_trail(fx.ws, "commitment", c.id).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "transition", "criterion", "criterion", "transition"]);
        assert_eq!(trail[1].actor, "impl@x");
        assert_eq!(trail[1].before.as_ref().unwrap()["status"], "open");
        assert_eq!(trail[1].after.as_ref().unwrap()["status"], "delivered");
    }

    a_free_text_promise_creates_an_idea_once(store) {
        let fx = fixture(&store).await;
        let title = FeatureRef::Title { title: "DRG 分组 实时预警".into(), product_id: None };
        let a = store.record_promise(fx.ws, "pm@x", promise(&fx, title.clone(), &[])).await.unwrap();
        assert_eq!(a.stage, Stage::Idea);
        assert_eq!(a.shown_as, Mode::Promise);
        assert_eq!((a.gap.chi, a.gap.cun), (4, 1));
        let b = store
            .record_promise(fx.ws, "pm@x", promise(&fx, FeatureRef::Title { title: "drg 分组 实时预警".into(), product_id: None }, &[]))
            .await
            .unwrap();
        assert_eq!(a.feature_id, b.feature_id, "the same words reuse the idea");
        let ideas = store.list_features(fx.ws, &FeatureFilter { stage: Some(Stage::Idea), ..Default::default() }).await.unwrap();
        assert_eq!(ideas.len(), 1);
    }

    waiving_needs_a_reason_and_nothing_is_written_without_one(store) {
        let fx = fixture(&store).await;
        let c = store.record_promise(fx.ws, "pm@x", promise(&fx, FeatureRef::Id(fx.slide_feature), &[])).await.unwrap();
        let err = store.transition_commitment(fx.ws, "pm@x", c.id, Status::Waived, Some(" ")).await.unwrap_err();
        assert!(matches!(err, StoreError::Transition(_)));
        assert_eq!(store.get_commitment(fx.ws, c.id).await.unwrap().status, Status::Open);
        assert_eq!(store.audit_trail(fx.ws, "commitment", c.id).await.unwrap().len(), 1);
        let c = store.transition_commitment(fx.ws, "pm@x", c.id, Status::Waived, Some("改为二期")).await.unwrap();
        assert!(c.gap.is_closed());
        let trail = store.audit_trail(fx.ws, "commitment", c.id).await.unwrap();
        assert_eq!(trail.last().unwrap().reason.as_deref(), Some("改为二期"));
    }

    workspaces_do_not_see_each_other(store) {
        let fx = fixture(&store).await;
        let other = store.create_workspace("另一家厂商").await.unwrap().id;
        assert!(matches!(store.get_customer(other, CustomerId(fx.customer)).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(store.get_feature(other, fx.slide_feature).await, Err(StoreError::NotFound { .. })));
        let oc = store.create_customer(other, "别家医院", None).await.unwrap();
        // A promise in another workspace cannot point at this workspace's feature or deal.
        let mut p = promise(&fx, FeatureRef::Id(fx.slide_feature), &[]);
        p.customer_id = oc.id.get();
        p.deal_id = None;
        assert!(matches!(store.record_promise(other, "x@y", p).await, Err(StoreError::NotFound { .. })));
        assert!(store.gap(other, None).await.unwrap().customers.iter().all(|c| c.customer_id == oc.id.get()));
        assert!(store.list_commitments(other, &CommitmentFilter::default()).await.unwrap().is_empty());
    }

    a_deal_of_another_customer_is_refused(store) {
        let fx = fixture(&store).await;
        let other = store.create_customer(fx.ws, "另一家医院", Some(2.0)).await.unwrap();
        let mut p = promise(&fx, FeatureRef::Id(fx.slide_feature), &[]);
        p.customer_id = other.id.get();
        assert!(matches!(store.record_promise(fx.ws, "pm@x", p).await, Err(StoreError::Conflict(_))));
        assert!(store.list_commitments(fx.ws, &CommitmentFilter::default()).await.unwrap().is_empty());
    }

    roadmap_ranks_by_money_and_explains(store) {
        let fx = fixture(&store).await;
        let product = store.list_products(fx.ws).await.unwrap()[0].id;
        let cheap = store
            .create_feature(fx.ws, "pm@x", NewFeature {
                product_id: product,
                menu_path: MenuPath::parse("门诊/排班").unwrap(),
                title: None,
                stage: Stage::Stubbed,
                effort_days: Some(1.0),
                target_release: None,
                slide_url: None,
                recording_url: None,
            })
            .await
            .unwrap();
        let mut p = promise(&fx, FeatureRef::Id(fx.slide_feature), &[]);
        p.due_date = None;
        store.record_promise(fx.ws, "pm@x", p).await.unwrap();
        let mut p = promise(&fx, FeatureRef::Id(cheap.id), &[]);
        p.critical = false;
        p.due_date = None;
        store.record_promise(fx.ws, "pm@x", p).await.unwrap();
        let today = day("2026-11-24");
        let r = store.roadmap(fx.ws, today).await.unwrap();
        assert_eq!(r.len(), 2);
        // Deal of 3,800,000 with two live commitments, acceptance 2027-03-31 (127 days):
        // critical, effort 10: 1,900,000 × (1 + 30/157) / 10; non-critical, effort 1:
        // 570,000 × (1 + 30/157).
        let u = 1.0 + 30.0 / (30.0 + 127.0);
        let by_id = |id| r.iter().find(|e| e.feature_id == id).unwrap();
        assert!((by_id(fx.slide_feature).score - 1_900_000.0 * u / 10.0).abs() < 1e-6);
        assert!((by_id(cheap.id).score - 570_000.0 * u).abs() < 1e-6);
        assert_eq!(r[0].feature_id, cheap.id, "cheap and pressing ranks first");
        assert_eq!(r[0].rank, 1);
        assert_eq!(by_id(cheap.id).terms.commitments[0].live_on_deal, 2);
    }

    features_with_and_without_effort_mix_on_every_connection(store) {
        // Regression: a NULL effort first, then a number, on the same pooled connections.
        let fx = fixture(&store).await;
        let product = store.list_products(fx.ws).await.unwrap()[0].id;
        let new = |i: usize, effort: Option<f64>| NewFeature {
            product_id: product,
            menu_path: MenuPath::parse(&format!("检验/报告/第{i}项")).unwrap(),
            title: None,
            stage: Stage::Built,
            effort_days: effort,
            target_release: None,
            slide_url: None,
            recording_url: None,
        };
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = store.clone();
            let f = new(i, None);
            tasks.push(tokio::spawn(async move { s.create_feature(fx.ws, "pm@x", f).await }));
        }
        for i in 8..24 {
            let s = store.clone();
            let f = new(i, Some(i as f64 / 2.0));
            tasks.push(tokio::spawn(async move { s.create_feature(fx.ws, "pm@x", f).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let all = store.list_features(fx.ws, &FeatureFilter::default()).await.unwrap();
        assert_eq!(all.iter().filter(|f| f.effort_days.is_none()).count(), 8);
        assert!(all.iter().any(|f| f.effort_days == Some(11.5)));
        let id = all.iter().find(|f| f.effort_days.is_some()).unwrap().id;
        let f = store.update_feature(fx.ws, "pm@x", id, FeatureChange { effort_days: Some(None), ..Default::default() }).await.unwrap();
        assert_eq!(f.effort_days, None);
    }

    instances_starting_together_create_one_administrator(store) {
        store.create_workspace("w").await.unwrap();
        let (a, b, c, d) = tokio::join!(
            store.ensure_first_admin(Some("s3cret-pass")),
            store.ensure_first_admin(Some("s3cret-pass")),
            store.ensure_first_admin(Some("s3cret-pass")),
            store.ensure_first_admin(Some("s3cret-pass")),
        );
        let created = [a, b, c, d].into_iter().map(|r| r.expect("no instance fails to start")).filter(Option::is_some).count();
        assert_eq!(created, 1);
        assert!(store.verify_login("admin@localhost", "s3cret-pass").await.unwrap().is_some());
    }

    users_sessions_and_tokens(store) {
        let ws = store.create_workspace("w").await.unwrap().id;
        let first = store.ensure_first_admin(Some("s3cret-pass")).await.unwrap().unwrap();
        assert_eq!(first.user.email, "admin@localhost");
        assert!(first.generated_password.is_none());
        assert!(store.ensure_first_admin(None).await.unwrap().is_none(), "only on an empty database");
        assert!(store.verify_login("ADMIN@localhost", "s3cret-pass").await.unwrap().is_some());
        assert!(store.verify_login("admin@localhost", "wrong-pass").await.unwrap().is_none());
        let u = store
            .create_user(cunjin_store::access::auth::NewUser { workspace_id: ws, email: Email::parse("v@x.cn").unwrap(), name: "", role: Role::Viewer, password: "viewer-pass-1" })
            .await
            .unwrap();
        assert_eq!(u.name, "v");
        let dup = store
            .create_user(cunjin_store::access::auth::NewUser { workspace_id: ws, email: Email::parse("V@x.cn").unwrap(), name: "", role: Role::Viewer, password: "viewer-pass-1" })
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))));
        let s = store.create_session(u.id).await.unwrap();
        assert_eq!(store.user_for_session(&s).await.unwrap().unwrap().id, u.id);
        store.delete_session(&s).await.unwrap();
        assert!(store.user_for_session(&s).await.unwrap().is_none());
        let (_, t) = store.create_api_token(u.id, "ci").await.unwrap();
        assert!(t.starts_with("cj_"));
        assert_eq!(store.user_for_token(&t).await.unwrap().unwrap().role, Role::Viewer);
        assert!(store.user_for_token("cj_nope").await.unwrap().is_none());
    }
}
