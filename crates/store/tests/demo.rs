//! The sample workspace of `cunjin serve --demo`, checked as a user would look at it, on SQLite
//! and on PostgreSQL.

use std::collections::HashSet;

use cunjin_core::{Mode, Stage, Status};
use cunjin_store::ledger::catalogue::FeatureFilter;
use cunjin_store::ledger::commitments::CommitmentFilter;
use cunjin_store::testing::{TestDb, TestEngine};

async fn the_demo_shows_every_mode_status_and_a_closing_gap(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("demo").await.unwrap().id;
    let today = cunjin_store::today();

    let summary = store
        .seed_demo(ws, today)
        .await
        .unwrap()
        .expect("a fresh workspace is seeded");

    let products = store.list_products(ws).await.unwrap();
    assert_eq!(products.len(), 5, "{products:?}");
    assert_eq!(summary.products, 5);

    let features = store
        .list_features(ws, &FeatureFilter::default())
        .await
        .unwrap();
    assert!(features.len() >= 50, "{} features", features.len());
    assert_eq!(summary.features, features.len());
    let stages: HashSet<Stage> = features.iter().map(|f| f.stage).collect();
    for s in Stage::ALL {
        assert!(stages.contains(&s), "no feature at stage {s}");
    }
    assert!(features.iter().any(|f| f.slide_url.is_some()));
    assert!(features.iter().any(|f| f.recording_url.is_some()));

    let customers = store.list_customers(ws).await.unwrap();
    assert!(customers.len() >= 12, "{} customers", customers.len());
    assert_eq!(summary.customers, customers.len());
    assert!(customers.iter().any(|c| c.weight > 1.0));

    let deals = store.list_deals(ws, None).await.unwrap();
    assert_eq!(summary.deals, deals.len());
    assert!(deals.iter().any(|d| d.pilot));
    for d in &deals {
        assert!(
            (800_000.0..=12_000_000.0).contains(&d.contract_value),
            "{}: {}",
            d.name,
            d.contract_value
        );
    }

    let commitments = store
        .list_commitments(ws, &CommitmentFilter::default())
        .await
        .unwrap();
    assert!(commitments.len() >= 50, "{} commitments", commitments.len());
    assert_eq!(summary.commitments, commitments.len());
    let modes: HashSet<Mode> = commitments.iter().map(|c| c.shown_as).collect();
    for m in Mode::ALL {
        assert!(modes.contains(&m), "no commitment shown as {m}");
    }
    let statuses: HashSet<Status> = commitments.iter().map(|c| c.status).collect();
    for s in Status::ALL {
        assert!(statuses.contains(&s), "no commitment is {s}");
    }
    assert!(
        commitments
            .iter()
            .any(|c| c.status.is_live() && c.due_date.is_some_and(|d| d < today)),
        "some live commitment is overdue"
    );
    assert!(commitments.iter().any(|c| c.critical));
    assert!(commitments.iter().any(|c| c.criteria.iter().any(|k| k.met)));
    for c in &commitments {
        assert!(c.criteria.len() <= 3, "{}", c.feature_title);
        assert!(c.promised_at <= today);
        if c.status == Status::Accepted {
            assert!(c.criteria.iter().all(|k| k.met), "{}", c.feature_title);
        }
        if c.status != Status::Open {
            assert!(
                c.status == Status::Waived || c.stage.works(),
                "{}",
                c.feature_title
            );
        }
        if c.shown_as == Mode::Promise {
            assert_eq!(c.stage, Stage::Idea, "{}", c.feature_title);
        }
    }

    let gap = store.gap(ws, None).await.unwrap();
    assert!(gap.chi > 0 && gap.cun > 0, "{gap:?}");
    assert_eq!(
        gap.chi,
        commitments.iter().map(|c| c.gap.chi).sum::<u64>(),
        "the portfolio gap adds up the commitments"
    );
    assert_eq!(gap.cun, commitments.iter().map(|c| c.gap.cun).sum::<u64>());

    // Releases shipped and were delivered; the gap was kept over the past weeks and closed.
    let releases = store.list_releases(ws).await.unwrap();
    assert_eq!(releases.len(), 3);
    assert_eq!(summary.releases, 3);
    assert!(releases.iter().all(|r| !r.deliveries.is_empty()));
    for r in &releases {
        for f in &r.features {
            let f = features.iter().find(|x| x.id == f.feature_id).unwrap();
            assert!(f.stage.works(), "{} shipped", f.title);
        }
    }
    let gulou = customers.iter().find(|c| c.name.contains("鼓楼")).unwrap();
    let shipped = store
        .shipped_for_customer(ws, gulou.id.get(), None)
        .await
        .unwrap();
    assert_eq!(shipped[0].version, "v5.3");
    assert!(shipped[0]
        .items
        .iter()
        .any(|i| i.status == Status::Delivered));
    let history = store
        .gap_history(ws, None, today - chrono::Duration::days(56), today)
        .await
        .unwrap();
    let (first, last) = (history[0], history[history.len() - 1]);
    assert!(
        first.chi > last.chi && first.cun > last.cun,
        "{first:?} → {last:?}"
    );
    assert_eq!((last.chi, last.cun), (gap.chi, gap.cun));
    let week = store.week_progress(ws, None, today).await.unwrap();
    assert!(week.gained.chi > 0 && week.gained.cun > 0, "{week:?}");

    // Seeding again changes nothing.
    assert!(store.seed_demo(ws, today).await.unwrap().is_none());
    assert_eq!(store.list_products(ws).await.unwrap().len(), 5);
    assert_eq!(
        store
            .list_features(ws, &FeatureFilter::default())
            .await
            .unwrap()
            .len(),
        features.len()
    );
    assert_eq!(
        store.list_customers(ws).await.unwrap().len(),
        customers.len()
    );
    assert_eq!(
        store
            .list_commitments(ws, &CommitmentFilter::default())
            .await
            .unwrap()
            .len(),
        commitments.len()
    );
}

#[tokio::test]
async fn sqlite() {
    the_demo_shows_every_mode_status_and_a_closing_gap(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    the_demo_shows_every_mode_status_and_a_closing_gap(TestEngine::Postgres).await;
}
