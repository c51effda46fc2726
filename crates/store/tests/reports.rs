//! The portfolio gap and the roadmap are kept by each instance between calls. Every write that
//! changes them, made by this instance or by another one on the same database, shows in the
//! next answer, which is then the same as a fresh computation.

use cunjin_core::scale::Scale;
use cunjin_core::{Decision, Mode, Stage, Status};
use cunjin_store::ledger::catalogue::FeatureChange;
use cunjin_store::ledger::commitments::{FeatureRef, NewCommitment};
use cunjin_store::reports::gap::PortfolioGap;
use cunjin_store::requests::{FeatureLink, NewDecision};
use cunjin_store::sample::generate::GenerateOptions;
use cunjin_store::testing::{self, TestDb, TestEngine};
use cunjin_store::Store;
use sqlx::Row;

macro_rules! on_both_engines {
    ($($name:ident($db:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Sqlite).await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Postgres).await.unwrap(); $body } )* }
    };
}

/// Both reports as JSON, the way the API sends them. The JSON is made once per kept report
/// (`gap_json`, `roadmap_page_json`); it must be the reports', to the byte.
async fn reports(store: &Store, ws: i64) -> (serde_json::Value, serde_json::Value) {
    let today = cunjin_store::today();
    let gap = store.gap(ws, None).await.unwrap();
    let roadmap = store.roadmap(ws, today).await.unwrap();
    let sent = store.gap_json(ws).await.unwrap();
    assert_eq!(sent, serde_json::to_vec(&gap).unwrap(), "the gap as sent");
    for (offset, limit) in [(0, 5000), (3, 7), (0, 7)] {
        let (total, json) = store
            .roadmap_page_json(ws, today, offset, limit)
            .await
            .unwrap();
        assert_eq!(total, roadmap.len());
        let page = &roadmap[offset.min(total)..(offset + limit).min(total)];
        assert_eq!(
            json,
            serde_json::to_vec(page).unwrap(),
            "roadmap page {offset}+{limit} as sent"
        );
    }
    (
        serde_json::to_value(gap).unwrap(),
        serde_json::to_value(roadmap).unwrap(),
    )
}

/// The kept reports of `kept` equal a computation by an instance that has kept nothing.
async fn assert_current(db: &TestDb, kept: &Store, ws: i64, after: &str) {
    let fresh = db.store().await.unwrap();
    let (gap, roadmap) = reports(kept, ws).await;
    let (fresh_gap, fresh_roadmap) = reports(&fresh, ws).await;
    assert_eq!(gap, fresh_gap, "portfolio gap after {after}");
    assert_eq!(roadmap, fresh_roadmap, "roadmap after {after}");
    fresh.close().await;
}

async fn one_i64(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn generated(db: &TestDb) -> (Store, i64) {
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("报告缓存").await.unwrap().id;
    let options = GenerateOptions {
        scale: Scale {
            requests: 400,
            ..Scale::SMALL
        },
        seed: 11,
        today: cunjin_store::today(),
        probe_interval_s: 300,
    };
    store
        .generate(ws, &options, &mut |_, _, _| {})
        .await
        .unwrap();
    (store, ws)
}

/// The stale gap brought up to date customer by customer, as JSON; it must be a fresh
/// computation's.
async fn brought_up(
    db: &TestDb,
    store: &Store,
    ws: i64,
    since: i64,
    stale: &PortfolioGap,
    after: &str,
) {
    let up = testing::gap_brought_up(store, ws, since, stale)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("after {after}: computed again instead of brought up"));
    let fresh = db.store().await.unwrap();
    assert_eq!(
        serde_json::to_value(up).unwrap(),
        serde_json::to_value(fresh.gap(ws, None).await.unwrap()).unwrap(),
        "gap brought up after {after}"
    );
    fresh.close().await;
}

/// The stale ranking brought up to date feature by feature, as JSON; it must be a fresh
/// computation's, every term of every feature.
async fn ranking_up(
    db: &TestDb,
    store: &Store,
    ws: i64,
    stale: &testing::StaleRanking,
    after: &str,
) {
    let today = cunjin_store::today();
    let up = testing::ranking_brought_up(store, ws, stale, today)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("after {after}: computed again instead of brought up"));
    let fresh = db.store().await.unwrap();
    assert_eq!(
        serde_json::to_value(up).unwrap(),
        serde_json::to_value(fresh.roadmap(ws, today).await.unwrap()).unwrap(),
        "ranking brought up after {after}"
    );
    fresh.close().await;
}

on_both_engines! {
    kept_reports_follow_every_write_of_any_instance(db) {
        let (a, ws) = generated(&db).await;
        let b = db.store().await.unwrap();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let (gap, roadmap) = reports(&a, ws).await;
        assert!(gap["chi"].as_u64().unwrap() > 0 && roadmap.as_array().unwrap().len() > 10);
        assert_current(&db, &a, ws, "generate").await;

        // A request in the inbox with no feature changes neither report, nor their version.
        let version = a.report_version(ws).await.unwrap();
        b.create_request(ws, "sales@x", cunjin_store::requests::Via::Api, cunjin_store::requests::NewRequest {
            text: "希望门诊医生站支持医保结算清单上传".into(),
            source_role: cunjin_core::SourceRole::Sales,
            customer_id: None,
            requester: "张三".into(),
            contact: String::new(),
            product_id: None,
            feature_id: None,
        }).await.unwrap();
        assert_eq!(a.report_version(ws).await.unwrap(), version);

        // Each write below is made by the other instance B; A answers what B wrote.
        let customer = one_i64(&pool, "SELECT MIN(customer_id) FROM deals").await;
        let deal = one_i64(&pool, &format!("SELECT MIN(id) FROM deals WHERE customer_id = {customer}")).await;
        let feature = one_i64(&pool, "SELECT MIN(id) FROM features WHERE stage = 'designed'").await;
        let c = b.record_promise(ws, "presales@x", NewCommitment {
            customer_id: customer,
            deal_id: Some(deal),
            feature: FeatureRef::Id(feature),
            shown_as: Some(Mode::Slides),
            promised_by: None,
            promised_at: None,
            due_date: Some(cunjin_store::today() + chrono::Days::new(3)),
            critical: true,
            criteria: vec!["三级医院评审可用".into(), "与HIS对接".into()],
        }).await.unwrap();
        assert!(a.report_version(ws).await.unwrap() > version);
        assert_current(&db, &a, ws, "a promise recorded").await;

        b.set_criterion(ws, "pm@x", c.id, c.criteria[0].id, true).await.unwrap();
        assert_current(&db, &a, ws, "a criterion met").await;

        b.update_feature(ws, "pm@x", feature, FeatureChange {
            stage: Some(Stage::Built),
            effort_days: Some(Some(40.0)),
            ..Default::default()
        }).await.unwrap();
        assert_current(&db, &a, ws, "a stage and an effort changed").await;

        b.transition_commitment(ws, "pm@x", c.id, Status::Waived, Some("客户放弃")).await.unwrap();
        assert_current(&db, &a, ws, "a commitment waived").await;

        let request = one_i64(&pool, "SELECT MIN(id) FROM requests WHERE feature_id IS NULL AND customer_id IS NOT NULL AND decision = 'new'").await;
        b.decide_request(ws, "pm@x", request, NewDecision {
            decision: Decision::Accepted,
            reason: None,
            feature: Some(FeatureLink::Id(feature)),
            duplicate_of: None,
            planned_release: None,
        }).await.unwrap();
        assert_current(&db, &a, ws, "a request accepted onto a feature").await;

        let mut settings = b.settings(ws).await.unwrap();
        settings.roadmap.lambda = 50_000.0;
        b.save_settings(ws, &settings).await.unwrap();
        assert_current(&db, &a, ws, "the roadmap weights changed").await;

        sqlx::query("UPDATE customers SET weight = 3.5 WHERE id = $1").bind(customer).execute(&pool).await.unwrap();
        sqlx::query("UPDATE deals SET contract_value = contract_value * 2, pilot = 1 WHERE id = $1").bind(deal).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "a customer's weight and a deal's value and pilot flag changed in SQL").await;
        pool.close().await;
    }

    reports_are_kept_while_their_version_holds(db) {
        let (a, ws) = generated(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let (gap, roadmap) = reports(&a, ws).await;
        // A change written behind the triggers' back (the version put back) is not seen: the
        // answer is the kept one, not a new computation ...
        let version = a.report_version(ws).await.unwrap();
        sqlx::query("UPDATE criteria SET met = 1 WHERE met = 0").execute(&pool).await.unwrap();
        sqlx::query("UPDATE features SET effort_days = 1000").execute(&pool).await.unwrap();
        sqlx::query("UPDATE workspaces SET report_version = $1 WHERE id = $2").bind(version).bind(ws).execute(&pool).await.unwrap();
        assert_eq!(reports(&a, ws).await, (gap.clone(), roadmap.clone()));
        // ... and once the version moves, it is.
        sqlx::query("UPDATE workspaces SET report_version = report_version + 1 WHERE id = $1").bind(ws).execute(&pool).await.unwrap();
        let (gap2, roadmap2) = reports(&a, ws).await;
        assert!(gap2["cun"].as_u64().unwrap() < gap["cun"].as_u64().unwrap());
        assert_ne!(roadmap2, roadmap);
        assert_current(&db, &a, ws, "the version moved").await;
        pool.close().await;
    }

    roadmap_pages_are_slices_of_the_ranking(db) {
        let (a, ws) = generated(&db).await;
        let today = cunjin_store::today();
        let all = serde_json::to_value(a.roadmap(ws, today).await.unwrap()).unwrap();
        let all = all.as_array().unwrap();
        let page = a.roadmap_page(ws, today, 10, 25).await.unwrap();
        assert_eq!(page.total, all.len());
        assert_eq!(serde_json::to_value(&page.entries).unwrap().as_array().unwrap(), &all[10..35]);
        assert_eq!(page.entries[0].rank, 11);
        let past = a.roadmap_page(ws, today, all.len() + 5, 25).await.unwrap();
        assert!(past.entries.is_empty());
        assert_eq!(past.total, all.len());
        // Scores are ranked from the highest, ties by feature id.
        for w in all.windows(2) {
            let (s0, s1) = (w[0]["score"].as_f64().unwrap(), w[1]["score"].as_f64().unwrap());
            assert!(s0 > s1 || (s0 == s1 && w[0]["feature_id"].as_i64() < w[1]["feature_id"].as_i64()));
        }
    }

    the_gap_is_brought_up_customer_by_customer(db) {
        let (a, ws) = generated(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        let stale = a.gap(ws, None).await.unwrap();
        assert!(testing::gap_changes_since(&a, ws, since).await.unwrap().is_empty());

        // A promise: its customer.
        let customer = one_i64(&pool, "SELECT MIN(customer_id) FROM deals").await;
        let feature = one_i64(&pool, "SELECT MIN(id) FROM features WHERE stage = 'idea'").await;
        let c = a.record_promise(ws, "presales@x", NewCommitment {
            customer_id: customer,
            deal_id: None,
            feature: FeatureRef::Id(feature),
            shown_as: Some(Mode::Slides),
            promised_by: None,
            promised_at: None,
            due_date: None,
            critical: false,
            criteria: vec!["可用".into()],
        }).await.unwrap();
        assert_eq!(testing::gap_changes_since(&a, ws, since).await.unwrap(), vec![customer]);
        brought_up(&db, &a, ws, since, &stale, "a promise").await;

        // A criterion met: the customer of its commitment.
        let since = a.report_version(ws).await.unwrap();
        let stale = a.gap(ws, None).await.unwrap();
        a.set_criterion(ws, "pm@x", c.id, c.criteria[0].id, true).await.unwrap();
        assert_eq!(testing::gap_changes_since(&a, ws, since).await.unwrap(), vec![customer]);
        brought_up(&db, &a, ws, since, &stale, "a criterion met").await;

        // A stage changed: every customer promised the feature; an effort changed: none.
        let (feature, promised): (i64, Vec<i64>) = {
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT feature_id, customer_id FROM commitments WHERE workspace_id = $1 \
                 GROUP BY feature_id, customer_id ORDER BY feature_id, customer_id")
                .bind(ws).fetch_all(&pool).await.unwrap();
            let mut by_feature: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
            for (f, c) in rows { by_feature.entry(f).or_default().push(c); }
            by_feature.into_iter().find(|(_, cs)| (3..=20).contains(&cs.len())).expect("a feature promised to 3–20 customers")
        };
        let since = a.report_version(ws).await.unwrap();
        let stale = a.gap(ws, None).await.unwrap();
        a.update_feature(ws, "pm@x", feature, FeatureChange { effort_days: Some(Some(12.0)), ..Default::default() }).await.unwrap();
        assert!(a.report_version(ws).await.unwrap() > since, "the roadmap depends on the effort");
        assert!(testing::gap_changes_since(&a, ws, since).await.unwrap().is_empty());
        let stage: String = sqlx::query_scalar("SELECT stage FROM features WHERE id = $1").bind(feature).fetch_one(&pool).await.unwrap();
        let other = if stage == "released" { Stage::Idea } else { Stage::Released };
        a.update_feature(ws, "pm@x", feature, FeatureChange { stage: Some(other), ..Default::default() }).await.unwrap();
        assert_eq!(testing::gap_changes_since(&a, ws, since).await.unwrap(), promised);
        brought_up(&db, &a, ws, since, &stale, "a stage changed").await;

        // A new customer and a deal made a pilot, in SQL: both customers.
        let since = a.report_version(ws).await.unwrap();
        let stale = a.gap(ws, None).await.unwrap();
        let new_customer = a.create_customer(ws, "新客户人民医院", None).await.unwrap().id.get();
        let deal_customer = one_i64(&pool, "SELECT MAX(customer_id) FROM deals WHERE pilot = 0").await;
        sqlx::query("UPDATE deals SET pilot = 1 WHERE customer_id = $1").bind(deal_customer).execute(&pool).await.unwrap();
        let mut expected = vec![new_customer, deal_customer];
        expected.sort_unstable();
        assert_eq!(testing::gap_changes_since(&a, ws, since).await.unwrap(), expected);
        brought_up(&db, &a, ws, since, &stale, "a new customer and a pilot").await;

        // Every criterion met at once: too many customers to go one by one.
        let since = a.report_version(ws).await.unwrap();
        let stale = a.gap(ws, None).await.unwrap();
        sqlx::query("UPDATE criteria SET met = 1 WHERE met = 0").execute(&pool).await.unwrap();
        assert!(testing::gap_brought_up(&a, ws, since, &stale).await.unwrap().is_none());
        assert_current(&db, &a, ws, "every criterion met").await;
        pool.close().await;
    }

    the_ranking_is_brought_up_feature_by_feature(db) {
        let (a, ws) = generated(&db).await;
        let today = cunjin_store::today();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        assert!(testing::rank_changes_since(&a, ws, since).await.unwrap().is_empty());

        // A promise on a deal with others: its feature is read again, and every feature with
        // a promise on that deal gets a smaller share of it.
        let deal = one_i64(&pool, "SELECT deal_id FROM commitments WHERE deal_id IS NOT NULL AND status = 'open' \
            GROUP BY deal_id HAVING COUNT(DISTINCT feature_id) >= 3 ORDER BY deal_id LIMIT 1").await;
        let customer = one_i64(&pool, &format!("SELECT customer_id FROM deals WHERE id = {deal}")).await;
        let feature = one_i64(&pool, "SELECT MIN(id) FROM features WHERE stage = 'idea'").await;
        let c = a.record_promise(ws, "presales@x", NewCommitment {
            customer_id: customer,
            deal_id: Some(deal),
            feature: FeatureRef::Id(feature),
            shown_as: Some(Mode::Slides),
            promised_by: None,
            promised_at: None,
            due_date: Some(today + chrono::Days::new(9)),
            critical: true,
            criteria: vec!["可用".into()],
        }).await.unwrap();
        assert_eq!(testing::rank_changes_since(&a, ws, since).await.unwrap(), vec![feature]);
        ranking_up(&db, &a, ws, &stale, "a promise").await;

        // A criterion met: the roadmap does not read criteria, but the commitment's time of
        // change is written too, so its feature is read again.
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        a.set_criterion(ws, "pm@x", c.id, c.criteria[0].id, true).await.unwrap();
        assert!(a.report_version(ws).await.unwrap() > since);
        assert_eq!(testing::rank_changes_since(&a, ws, since).await.unwrap(), vec![feature]);
        ranking_up(&db, &a, ws, &stale, "a criterion met").await;

        // A deal's value, in SQL: the features promised on it.
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        sqlx::query("UPDATE deals SET contract_value = contract_value * 3 WHERE id = $1").bind(deal).execute(&pool).await.unwrap();
        let on_deal: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT feature_id FROM commitments WHERE deal_id = $1 ORDER BY feature_id")
            .bind(deal).fetch_all(&pool).await.unwrap();
        assert_eq!(testing::rank_changes_since(&a, ws, since).await.unwrap(), on_deal);
        ranking_up(&db, &a, ws, &stale, "a deal's value").await;

        // A customer's weight, in SQL: the features it asks for through requests.
        let (asker, asked): (i64, Vec<i64>) = {
            let asker = one_i64(&pool, "SELECT MIN(customer_id) FROM requests WHERE feature_id IS NOT NULL AND customer_id IS NOT NULL").await;
            let asked = sqlx::query_scalar("SELECT DISTINCT feature_id FROM requests WHERE customer_id = $1 AND feature_id IS NOT NULL \
                UNION SELECT o.feature_id FROM requests r JOIN requests o ON o.id = r.duplicate_of WHERE r.customer_id = $1 AND o.feature_id IS NOT NULL \
                ORDER BY 1").bind(asker).fetch_all(&pool).await.unwrap();
            (asker, asked)
        };
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        sqlx::query("UPDATE customers SET weight = 4.5 WHERE id = $1").bind(asker).execute(&pool).await.unwrap();
        assert_eq!(testing::rank_changes_since(&a, ws, since).await.unwrap(), asked);
        ranking_up(&db, &a, ws, &stale, "a customer's weight").await;

        // A request accepted onto a feature: that feature.
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let since = a.report_version(ws).await.unwrap();
        let request = one_i64(&pool, "SELECT MIN(id) FROM requests WHERE feature_id IS NULL AND customer_id IS NOT NULL AND decision = 'new'").await;
        let target = one_i64(&pool, "SELECT MAX(id) FROM features").await;
        a.decide_request(ws, "pm@x", request, NewDecision {
            decision: Decision::Accepted,
            reason: None,
            feature: Some(FeatureLink::Id(target)),
            duplicate_of: None,
            planned_release: None,
        }).await.unwrap();
        assert_eq!(testing::rank_changes_since(&a, ws, since).await.unwrap(), vec![target]);
        ranking_up(&db, &a, ws, &stale, "a request accepted").await;

        // New weights: everything is scored again from scratch.
        let stale = testing::stale_ranking(&a, ws, today).await.unwrap();
        let mut settings = a.settings(ws).await.unwrap();
        settings.roadmap.lambda = 70_000.0;
        a.save_settings(ws, &settings).await.unwrap();
        assert!(testing::ranking_brought_up(&a, ws, &stale, today).await.unwrap().is_none());
        assert_current(&db, &a, ws, "new weights").await;
        pool.close().await;
    }

    a_write_that_waits_for_another_logs_what_the_other_wrote(db) {
        // A promise is written and not yet committed; meanwhile the stage of its feature
        // changes, and waits for it (PostgreSQL: for the workspace row; SQLite: for the
        // writer). The stage change must log the promise's customer, which it could not see
        // when it started, at its own version: a gap held between the two commits must compute
        // that customer again.
        let (a, ws) = generated(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let customer = a.create_customer(ws, "竞态测试人民医院", None).await.unwrap().id;
        let feature = one_i64(&pool, "SELECT MIN(id) FROM features WHERE stage = 'idea' \
            AND id NOT IN (SELECT feature_id FROM commitments)").await;
        let mut first = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO commitments (workspace_id, customer_id, feature_id, shown_as, promised_by, \
            promised_at, critical, status, created_at, updated_at) \
            VALUES ($1, $2, $3, 'slides', 'presales@x', '2026-12-01', 0, 'open', '2026-12-01', '2026-12-01')")
            .bind(ws).bind(customer).bind(feature).execute(&mut *first).await.unwrap();
        let second = {
            let pool = pool.clone();
            tokio::spawn(async move {
                sqlx::query("UPDATE features SET stage = 'released' WHERE id = $1")
                    .bind(feature).execute(&pool).await.unwrap();
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(!second.is_finished(), "the stage change waits for the promise");
        first.commit().await.unwrap();
        second.await.unwrap();
        let version = a.report_version(ws).await.unwrap();
        let logged: i64 = sqlx::query_scalar("SELECT version FROM gap_changes WHERE workspace_id = $1 AND customer_id = $2")
            .bind(ws).bind(customer).fetch_one(&pool).await.unwrap();
        assert_eq!(logged, version, "the customer is logged by the stage change, the last write");
        let ranked: i64 = sqlx::query_scalar("SELECT version FROM rank_changes WHERE workspace_id = $1 AND feature_id = $2")
            .bind(ws).bind(feature).fetch_one(&pool).await.unwrap();
        assert_eq!(ranked, version);
        assert_current(&db, &a, ws, "a promise and a stage change at once").await;
        pool.close().await;
    }

    reports_brought_up_follow_moves_duplicates_and_deletes(db) {
        // Writes in SQL, one kind at a time, each small enough for the kept reports to be
        // brought up to date rather than computed again; each answer must be a fresh one.
        let (a, ws) = generated(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        reports(&a, ws).await;
        let run = |sql: &'static str| {
            let pool = pool.clone();
            async move { sqlx::query(sql).execute(&pool).await.unwrap(); }
        };
        let c = one_i64(&pool, "SELECT MIN(id) FROM commitments WHERE status = 'open' AND deal_id IS NOT NULL").await;
        let other_customer = one_i64(&pool, &format!("SELECT MAX(customer_id) FROM deals WHERE customer_id <> (SELECT customer_id FROM commitments WHERE id = {c})")).await;
        let other_deal = one_i64(&pool, &format!("SELECT MIN(id) FROM deals WHERE customer_id = {other_customer}")).await;
        sqlx::query("UPDATE commitments SET customer_id = $1, deal_id = $2 WHERE id = $3")
            .bind(other_customer).bind(other_deal).bind(c).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "a promise moved to another customer and deal").await;
        sqlx::query("UPDATE commitments SET feature_id = (SELECT MAX(id) FROM features) WHERE id = $1")
            .bind(c).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "a promise moved to another feature").await;

        // A request marked as a duplicate of one on a feature, then the original moved.
        let original = one_i64(&pool, "SELECT MIN(id) FROM requests WHERE feature_id IS NOT NULL AND decision NOT IN ('declined', 'duplicate')").await;
        let dup = one_i64(&pool, &format!("SELECT MIN(id) FROM requests WHERE feature_id IS NULL AND customer_id IS NOT NULL \
            AND customer_id <> COALESCE((SELECT customer_id FROM requests WHERE id = {original}), 0) AND decision = 'new'")).await;
        sqlx::query("UPDATE requests SET decision = 'duplicate', duplicate_of = $1 WHERE id = $2")
            .bind(original).bind(dup).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "a request marked as a duplicate").await;
        sqlx::query("UPDATE requests SET feature_id = (SELECT MIN(id) FROM features) WHERE id = $1")
            .bind(original).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "the original moved to another feature").await;
        sqlx::query("UPDATE requests SET decision = 'declined' WHERE id = $1")
            .bind(original).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "the original declined").await;

        // A customer renamed; every promise on a deal waived at once; a promise deleted.
        sqlx::query("UPDATE customers SET name = '改名后的人民医院' WHERE id = $1")
            .bind(other_customer).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "a customer renamed").await;
        sqlx::query("UPDATE commitments SET status = 'waived' WHERE deal_id = $1 AND status = 'open'")
            .bind(other_deal).execute(&pool).await.unwrap();
        assert_current(&db, &a, ws, "the promises of a deal waived in one statement").await;
        run("DELETE FROM criteria WHERE commitment_id = (SELECT MAX(id) FROM commitments WHERE status = 'open')").await;
        run("DELETE FROM commitments WHERE id = (SELECT MAX(id) FROM commitments WHERE status = 'open')").await;
        assert_current(&db, &a, ws, "a promise deleted").await;
        pool.close().await;
    }
}
