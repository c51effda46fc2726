//! `cunjin check`: a readiness check from the command line, with an exit status for cron and CI
//! (0 ready, 1 not ready, 2 could not check).

use std::process::ExitCode;

use cunjin_store::{Store, StoreError};
use cunjin_web::i18n::Lang;
use cunjin_web::probing::Prober;
use cunjin_web::readiness::{check_demo, check_environment};

const READY: u8 = 0;
const NOT_READY: u8 = 1;
const COULD_NOT_CHECK: u8 = 2;

/// Runs the check and answers the exit status.
pub async fn run(
    store: &Store,
    ws: i64,
    demo: Option<i64>,
    env: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let prober = Prober::new(cunjin_web::scheduler::SchedulerConfig::default().concurrency);
    let code = match (demo, env) {
        (Some(id), _) => match check_demo(store, &prober, ws, id, "cli").await {
            Ok(run) => {
                let code = if run.could_not_check() {
                    COULD_NOT_CHECK
                } else if run.check.ready {
                    READY
                } else {
                    NOT_READY
                };
                if json {
                    let mut v = serde_json::to_value(&run.check)?;
                    v["could_not_check"] = run.could_not_check().into();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    print_talk_track(&run.check, run.could_not_check());
                }
                code
            }
            Err(StoreError::NotFound { .. }) => {
                eprintln!("no demo {id} / 没有编号为 {id} 的演示");
                COULD_NOT_CHECK
            }
            Err(e) => return Err(e.into()),
        },
        (None, Some(name)) => {
            let Some(env) = store.find_environment_by_name(ws, name).await? else {
                eprintln!("no environment named '{name}' / 没有名为“{name}”的演示环境");
                return Ok(ExitCode::from(COULD_NOT_CHECK));
            };
            let c = check_environment(store, &prober, ws, env.id).await?;
            if json {
                let mut v = serde_json::to_value(&c)?;
                v["could_not_check"] = c.could_not_check().into();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{} — {}", c.name, env.base_url);
                for r in &c.results {
                    let what = r
                        .feature_title
                        .clone()
                        .or_else(|| r.dataset.as_ref().map(|d| format!("数据 data: {d}")))
                        .unwrap_or_default();
                    match &r.run.failure {
                        None => println!(
                            "  通过 ok    {:<40} {what} ({} ms)",
                            r.label, r.run.elapsed_ms
                        ),
                        Some(f) => println!(
                            "  失败 FAIL  {:<40} {what}\n             {} / {}",
                            r.label,
                            f.zh(),
                            f.en()
                        ),
                    }
                }
                println!("{} passed / 通过, {} failed / 失败", c.passed, c.failed);
                print_verdict(c.ready, c.could_not_check());
            }
            if c.could_not_check() {
                COULD_NOT_CHECK
            } else if c.ready {
                READY
            } else {
                NOT_READY
            }
        }
        (None, None) => {
            eprintln!("give --demo ID or --env NAME / 请指定 --demo 或 --env");
            COULD_NOT_CHECK
        }
    };
    Ok(ExitCode::from(code))
}

fn print_talk_track(check: &cunjin_store::demos::DemoCheck, could_not_check: bool) {
    println!("talk track / 讲解提纲");
    for (i, item) in check.items.iter().enumerate() {
        println!(
            "{:>2}. [{} {}] {}{}",
            i + 1,
            Lang::Zh.mode(item.mode),
            Lang::En.mode(item.mode),
            item.title,
            if item.must_show {
                "  ★ 必演 must show"
            } else {
                ""
            }
        );
        for (zh, en) in item.notes_zh.iter().zip(&item.notes) {
            println!("      {zh} / {en}");
        }
    }
    println!(
        "readiness / 就绪度: {:.0}% live / 现场演示",
        check.readiness * 100.0
    );
    print_verdict(check.ready, could_not_check);
}

fn print_verdict(ready: bool, could_not_check: bool) {
    if could_not_check {
        println!("COULD NOT CHECK: the environment did not answer / 无法检查：演示环境无响应");
    } else if ready {
        println!("READY / 可以演示");
    } else {
        println!("NOT READY / 尚未就绪");
    }
}
