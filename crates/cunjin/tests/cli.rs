//! The `cunjin` command line, run as a user runs it, on SQLite and PostgreSQL.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use cunjin_store::testing::{TestDb, TestEngine};

fn cunjin(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cunjin"))
        .args(args)
        .env("CUNJIN_DB", db)
        .env_remove("CUNJIN_ADMIN_PASSWORD")
        .env_remove("CUNJIN_USER_PASSWORD")
        .env("CUNJIN_LOG", "warn")
        .output()
        .expect("cunjin runs")
}

/// `cunjin` with the key of stored secrets in `key` (created there when the database is new).
fn with_key(db: &str, key: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cunjin"))
        .args(args)
        .env("CUNJIN_DB", db)
        .env("CUNJIN_SECRET_KEY_FILE", key)
        .env_remove("CUNJIN_SECRET_KEY")
        .env("CUNJIN_LOG", "warn")
        .output()
        .expect("cunjin runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_names_every_verb() {
    let o = cunjin("unused.db", &["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for verb in [
        "serve",
        "migrate",
        "user",
        "workspace",
        "backup",
        "restore",
        "gap",
        "openapi",
        "import",
        "export",
        "generate",
        "secrets",
        "--secret-key-file",
        "--db",
    ] {
        assert!(text.contains(verb), "{verb} in {text}");
    }
    let o = cunjin("unused.db", &["import", "--help"]);
    for flag in [
        "--format",
        "--dry-run",
        "--json",
        "zentao",
        "jira",
        "redmine",
    ] {
        assert!(stdout(&o).contains(flag), "{flag} in import --help");
    }
    let o = cunjin("unused.db", &["gap", "--help"]);
    assert!(stdout(&o).contains("--customer") && stdout(&o).contains("--json"));
}

#[test]
fn a_bad_database_url_fails_clearly() {
    let o = cunjin("mysql://nowhere/db", &["migrate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported database URL"));
}

macro_rules! on_both_engines {
    ($($name:ident($db:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Sqlite).await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Postgres).await.unwrap(); $body } )* }
    };
}

on_both_engines! {
    generate_fills_an_empty_database_reproducibly(db) {
        let o = cunjin(&db.url, &["generate", "--scale", "small", "--requests", "300", "--seed", "42"]);
        assert!(o.status.success(), "{o:?}");
        assert!(stdout(&o).contains("generated / 已生成"));
        let store = db.store().await.unwrap();
        let counts = cunjin_store::testing::row_counts(&store).await.unwrap();
        for (table, n) in [("products", 5), ("features", 500), ("customers", 100), ("deals", 200),
                           ("commitments", 2000), ("requests", 300), ("probes", 50)] {
            assert_eq!(counts[table], n, "{table}");
        }
        assert!(counts["criteria"] > 2000, "{counts:?}");
        // The gap of the generated vendor, as a user sees it.
        let o = cunjin(&db.url, &["gap", "--json"]);
        let gap: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(gap["chi"].as_u64().unwrap() > 0 && gap["cun"].as_u64().unwrap() > 0);
        assert_eq!(gap["customers"].as_array().unwrap().len(), 100);
        // Generated requests are found by search like typed ones.
        let ws = store.first_workspace().await.unwrap().unwrap().id;
        let f = cunjin_store::requests::RequestFilter { q: Some("医保".into()), ..Default::default() };
        assert!(!store.list_requests(ws, &f).await.unwrap().is_empty());
        // A second run refuses to mix into existing data.
        let o = cunjin(&db.url, &["generate", "--scale", "small"]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("already has"));
        // The same seed gives the same vendor in another database.
        let other = TestDb::new(TestEngine::Sqlite).await.unwrap();
        assert!(cunjin(&other.url, &["generate", "--requests", "300", "--seed", "42"]).status.success());
        let again: serde_json::Value = serde_json::from_slice(&cunjin(&other.url, &["gap", "--json"]).stdout).unwrap();
        assert_eq!(again, gap);
    }

    an_import_into_a_database_that_was_only_migrated_makes_the_default_workspace(db) {
        assert!(cunjin(&db.url, &["migrate"]).status.success());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("requests.csv");
        std::fs::write(&file, "text,source_role\n医保结算清单上传失败时要能重传,implementation\n").unwrap();
        let o = cunjin(&db.url, &["import", "requests", file.to_str().unwrap(), "--quiet"]);
        assert!(o.status.success(), "{o:?}");
        let list: serde_json::Value = serde_json::from_slice(&cunjin(&db.url, &["workspace", "list", "--json"]).stdout).unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["name"], "默认工作区 Default workspace");
        let store = db.store().await.unwrap();
        let ws = list[0]["id"].as_i64().unwrap();
        let requests = store.list_requests(ws, &Default::default()).await.unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].text, "医保结算清单上传失败时要能重传");
        // The first start later uses that workspace for its administrator.
        store.ensure_first_admin(Some("first-admin-pass-9")).await.unwrap();
        assert_eq!(store.list_workspaces().await.unwrap().len(), 1);
    }

    migrate_then_add_a_user_who_can_log_in(db) {
        let o = cunjin(&db.url, &["migrate"]);
        assert!(o.status.success(), "{o:?}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cunjin"))
            .args(["user", "add", "--email", "Li.Na@hospital.cn", "--role", "presales", "--password-stdin"])
            .env("CUNJIN_DB", &db.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"s3cret-pass\n").unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success());
        assert!(!stdout(&o).contains("s3cret-pass"), "a given password is never echoed");
        let store = db.store().await.unwrap();
        let u = store.verify_login("li.na@hospital.cn", "s3cret-pass").await.unwrap().expect("can log in");
        assert_eq!(u.role.as_str(), "presales");
        let o = cunjin(&db.url, &["user", "add", "--email", "x@y.cn", "--role", "boss"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("viewer"), "the error lists the roles");
        let o = cunjin(&db.url, &["user", "add", "--email", "gen@y.cn"]);
        assert!(o.status.success(), "{o:?}");
        let generated = stdout(&o)
            .lines()
            .find_map(|l| l.strip_prefix("password / 密码: ").map(str::to_string))
            .expect("a generated password is shown once");
        assert!(store.verify_login("gen@y.cn", &generated).await.unwrap().is_some());
        let o = cunjin(&db.url, &["user", "add", "--email", "short@y.cn", "--password-stdin"]);
        assert_eq!(o.status.code(), Some(2), "an empty password is refused");
        // Blank, one character repeated, or one of the most common passwords: refused with the
        // reason in both languages, and nobody is added.
        for (password, says) in [("          ", "不能为空"), ("woaini1314", "most common"), ("88888888", "重复"), ("a1234567", "常见"),
                                 ("Qwertyui", "common"), ("zzzzzzzzzz", "repeated")] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_cunjin"))
                .args(["user", "add", "--email", "weak@y.cn", "--password-stdin"])
                .env("CUNJIN_DB", &db.url)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(2), "{password:?}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(says) && err.contains("密码"), "{password:?}: {err}");
        }
        assert!(store.verify_login("weak@y.cn", "woaini1314").await.unwrap().is_none());
        assert!(store.list_users(u.workspace_id).await.unwrap().iter().all(|u| u.email != "weak@y.cn"));
    }

    a_common_first_admin_password_is_refused(db) {
        let o = Command::new(env!("CARGO_BIN_EXE_cunjin"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("CUNJIN_DB", &db.url)
            .env("CUNJIN_ADMIN_PASSWORD", "1qaz2wsx")
            .env("CUNJIN_LOG", "warn")
            .output()
            .unwrap();
        assert!(!o.status.success(), "the server does not start with a guessable admin password");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("common") && err.contains("常见"), "{err}");
        let store = db.store().await.unwrap();
        assert_eq!(store.count_users().await.unwrap(), 0, "no administrator was created");
    }

    a_second_workspace_with_its_own_users(db) {
        assert!(cunjin(&db.url, &["migrate"]).status.success());
        let o = cunjin(&db.url, &["workspace", "add", "第二家厂商"]);
        assert!(o.status.success(), "{o:?}");
        let id = stdout(&o).trim().to_string();
        let o = Command::new(env!("CARGO_BIN_EXE_cunjin"))
            .args(["user", "add", "--email", "pm@second.cn", "--workspace", &id])
            .env("CUNJIN_DB", &db.url)
            .env("CUNJIN_USER_PASSWORD", "second-pass")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let store = db.store().await.unwrap();
        let u = store.verify_login("pm@second.cn", "second-pass").await.unwrap().unwrap();
        assert_eq!(u.workspace_id.to_string(), id);
        let list: serde_json::Value = serde_json::from_slice(&cunjin(&db.url, &["workspace", "list", "--json"]).stdout).unwrap();
        assert!(list.as_array().unwrap().iter().any(|w| w["name"] == "第二家厂商"));
    }

    backup_and_restore_from_the_command_line(db) {
        let store = db.store().await.unwrap();
        let ws = store.create_workspace("demo").await.unwrap().id;
        store.seed_demo(ws, cunjin_store::today()).await.unwrap().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cunjin-backup.jsonl");
        let o = cunjin(&db.url, &["backup", file.to_str().unwrap()]);
        assert!(o.status.success(), "{o:?}");
        assert!(stdout(&o).contains("backed up"));
        // A backup holds password hashes and secrets: only its owner may read it.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        assert!(!dir.path().join("cunjin-backup.partial").exists());
        // The backup's secrets are encrypted with the source's key: a database with another
        // key takes nothing, the same key restores everything.
        let target = TestDb::new(TestEngine::Sqlite).await.unwrap();
        let other_key = dir.path().join("other.key");
        let o = with_key(&target.url, &other_key, &["restore", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("nothing was restored"), "{o:?}");
        let Some(cunjin_store::ops::secrets::KeyOrigin::File { path: key, .. }) = store.secret_key_origin() else {
            panic!("the store keeps its key in a file")
        };
        let target = TestDb::new(TestEngine::Sqlite).await.unwrap();
        let o = with_key(&target.url, &key, &["restore", file.to_str().unwrap()]);
        assert!(o.status.success(), "{o:?}");
        let expected = store.gap(ws, None).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&with_key(&target.url, &key, &["gap", "--json"]).stdout).unwrap();
        assert_eq!((v["chi"].as_u64(), v["cun"].as_u64()), (Some(expected.chi), Some(expected.cun)));
        let o = with_key(&target.url, &key, &["restore", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "a second restore is refused");
        assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
        let o = with_key(&target.url, &key, &["restore", "/nonexistent/backup.jsonl"]);
        assert_eq!(o.status.code(), Some(2));
    }

    logs_are_plain_text_off_a_terminal_and_json_when_asked(db) {
        assert!(cunjin(&db.url, &["workspace", "add", "日志"]).status.success());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.csv");
        std::fs::write(&file, "text\n医保结算清单\n").unwrap();
        let run = |format: Option<&str>| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cunjin"));
            c.args(["import", "requests", file.to_str().unwrap(), "--dry-run", "--quiet"])
                .env("CUNJIN_DB", &db.url)
                .env("CUNJIN_LOG", "debug,sqlx=warn");
            match format {
                Some(f) => c.env("CUNJIN_LOG_FORMAT", f),
                None => c.env_remove("CUNJIN_LOG_FORMAT"),
            };
            let o = c.output().unwrap();
            assert!(o.status.success(), "{o:?}");
            String::from_utf8_lossy(&o.stderr).into_owned()
        };
        // Standard error is a pipe here, as under systemd or in a container: no colour codes.
        let text = run(None);
        assert!(text.contains("file read"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        let json = run(Some("json"));
        let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
        let read = lines.iter().find(|l| l["fields"]["message"] == "file read").expect(&json);
        assert_eq!(read["level"], "DEBUG");
        assert_eq!(read["fields"]["rows"], 1);
        let other = run(Some("yaml"));
        assert!(other.contains("CUNJIN_LOG_FORMAT=yaml is neither text nor json"), "{other}");
    }

    gap_reports_the_portfolio_and_one_customer(db) {
        let store = db.store().await.unwrap();
        let ws = store.create_workspace("demo").await.unwrap().id;
        store.seed_demo(ws, cunjin_store::today()).await.unwrap().unwrap();
        let expected = store.gap(ws, None).await.unwrap();
        let o = cunjin(&db.url, &["gap", "--json"]);
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["chi"].as_u64(), Some(expected.chi));
        assert_eq!(v["cun"].as_u64(), Some(expected.cun));
        assert_eq!(v["customers"].as_array().unwrap().len(), expected.customers.len());
        let text = stdout(&cunjin(&db.url, &["gap"]));
        assert!(text.contains(&format!("{} 尺 {} 寸", expected.chi, expected.cun)), "{text}");
        let first = &expected.customers[0];
        let o = cunjin(&db.url, &["gap", "--customer", &first.name, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["chi"].as_u64(), Some(first.chi));
        let o = cunjin(&db.url, &["gap", "--customer", "不存在的医院"]);
        assert_eq!(o.status.code(), Some(1));
        // A name with a terminal escape sequence and a right-to-left override is shown, not run.
        let name = "协和\u{1b}[2J\u{202e}医院";
        store.create_customer(ws, name, None).await.unwrap();
        for args in [&["gap"][..], &["gap", "--customer", name][..]] {
            let text = stdout(&cunjin(&db.url, args));
            assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text:?}");
            assert!(text.contains("协和\\u{1b}[2J\\u{202e}医院"), "{text}");
        }
    }

    first_start_prints_a_generated_password_once(db) {
        let run = || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_cunjin"))
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("CUNJIN_DB", &db.url)
                .env_remove("CUNJIN_ADMIN_PASSWORD")
                .env("CUNJIN_LOG", "warn")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = Vec::new();
            let mut reader = BufReader::new(child.stdout.take().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                let done = line.contains("is running at");
                lines.push(line);
                if done {
                    break;
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
            lines
        };
        let first = run();
        let password = first
            .iter()
            .find_map(|l| l.strip_prefix("password / 密码: "))
            .map(|p| p.trim().to_string())
            .unwrap_or_else(|| panic!("no password in {first:?}"));
        let store = db.store().await.unwrap();
        assert!(store.verify_login("admin@localhost", &password).await.unwrap().is_some());
        let second = run();
        assert!(second.iter().all(|l| !l.contains("password")), "{second:?}");
        assert!(second.last().unwrap().contains("http://127.0.0.1:"));
    }
}
