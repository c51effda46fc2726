//! `TestApp`: the real application on a random port, over a fresh SQLite file or a fresh
//! PostgreSQL database, with an administrator logged in.

#![allow(dead_code)]

use std::sync::Arc;

use cunjin_core::{Email, Role};
use cunjin_store::access::auth::NewUser;
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_store::Store;
use cunjin_web::outbound::{AllowList, OutboundConfig};
use cunjin_web::{AppState, WebConfig};
use reqwest::{Client, StatusCode};
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin-pass-1";

/// The value of the first hidden field `name` of a page.
pub fn field(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + needle.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A browser: keeps cookies, follows no redirect.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs `client` in through the login form, as a person does (the form's token first);
/// the answer to the post.
pub async fn form_login(
    client: &Client,
    base: &str,
    email: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", next),
            ("csrf", &field(&form, "csrf")),
        ])
        .send()
        .await
        .unwrap()
}

pub struct TestApp {
    pub base: String,
    /// Logged in as admin@localhost through the session cookie.
    pub admin: Client,
    pub store: Store,
    pub ws: i64,
    /// The engine under the app, to start another one on the same kind of database.
    pub engine: TestEngine,
    _db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Generates one test per engine from each body.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident($app:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let $app = $crate::common::TestApp::spawn(cunjin_store::testing::TestEngine::Sqlite).await; $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let $app = $crate::common::TestApp::spawn(cunjin_store::testing::TestEngine::Postgres).await; $body } )* }
    };
}

/// Outbound settings of a deployment whose IM gateway and demo hosts are on this machine: the
/// local receivers the tests start are on loopback, which the guard refuses for webhooks unless
/// allowed.
pub fn local_outbound() -> OutboundConfig {
    OutboundConfig {
        allow: Arc::new(AllowList::parse(&["127.0.0.1"]).unwrap()),
        ..OutboundConfig::default()
    }
}

/// The default settings with [`local_outbound`].
pub fn local_config() -> WebConfig {
    WebConfig {
        outbound: local_outbound(),
        ..WebConfig::default()
    }
}

impl TestApp {
    pub async fn spawn(engine: TestEngine) -> TestApp {
        Self::spawn_with(engine, local_config()).await
    }

    pub async fn spawn_with(engine: TestEngine, config: WebConfig) -> TestApp {
        Self::spawn_inner(engine, config, true).await
    }

    /// The app without logging anybody in (`admin` is then an anonymous client): for settings
    /// such as a very short request timeout that a login would not fit in.
    pub async fn spawn_without_login(engine: TestEngine, config: WebConfig) -> TestApp {
        Self::spawn_inner(engine, config, false).await
    }

    async fn spawn_inner(engine: TestEngine, config: WebConfig, login: bool) -> TestApp {
        let db = TestDb::new(engine).await.expect("a fresh test database");
        let store = db.store().await.expect("migrations apply");
        let first = store
            .ensure_first_admin(Some(ADMIN_PASSWORD))
            .await
            .unwrap()
            .expect("the database is empty");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), config);
        tokio::spawn(async move {
            cunjin_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let admin = if login {
            Self::login(&base, "admin@localhost", ADMIN_PASSWORD).await
        } else {
            Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
        };
        TestApp {
            base,
            admin,
            store,
            ws: first.user.workspace_id,
            engine,
            _db: db,
            shutdown: Some(tx),
        }
    }

    /// A client with a session cookie that sends the session's anti-forgery token, as the
    /// login answer gives it, in `X-CSRF-Token` on every request.
    pub async fn login(base: &str, email: &str, password: &str) -> Client {
        let (jar, csrf) = Self::login_cookie(base, email, password).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-csrf-token", csrf.parse().unwrap());
        Client::builder()
            .cookie_provider(jar)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Logs in through the API; the cookie jar holding the session, and the session's
    /// anti-forgery token.
    pub async fn login_cookie(
        base: &str,
        email: &str,
        password: &str,
    ) -> (Arc<reqwest::cookie::Jar>, String) {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login as {email}");
        let csrf = res
            .headers()
            .get("x-csrf-token")
            .expect("the login answer carries the anti-forgery token")
            .to_str()
            .unwrap()
            .to_string();
        (jar, csrf)
    }

    /// A client with only the session cookie: what a page of another site can make a
    /// browser send.
    pub async fn cookie_only(base: &str, email: &str, password: &str) -> Client {
        let (jar, _) = Self::login_cookie(base, email, password).await;
        Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Stops the server and closes its database connections, then starts a new server with a
    /// new store on the same database: what a restart of `cunjin serve` does.
    pub async fn restart(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.store.close().await;
        let store = Store::open(&self._db.url)
            .await
            .expect("the database opens again");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), local_config());
        tokio::spawn(async move {
            cunjin_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        self.admin = Self::login(&base, "admin@localhost", ADMIN_PASSWORD).await;
        self.base = base;
        self.store = store;
        self.shutdown = Some(tx);
    }

    /// The database URL, to open a second store on it (a second `cunjin serve` instance).
    pub fn db_url(&self) -> String {
        self._db.url.clone()
    }

    pub async fn delete(&self, client: &Client, path: &str) -> (StatusCode, Value) {
        let res = client.delete(self.url(path)).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client without any credentials.
    pub fn anonymous(&self) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A bearer-token client acting as a new user with `role` in workspace `ws`.
    pub async fn token_for(&self, ws: i64, role: Role) -> Client {
        let email = format!(
            "{}-{}@test.cn",
            role.as_str(),
            &cunjin_store::access::auth::new_secret()[..8]
        );
        let user = self
            .store
            .create_user(NewUser {
                workspace_id: ws,
                email: Email::parse(&email).unwrap(),
                name: "",
                role,
                password: "password-1",
            })
            .await
            .unwrap();
        let (_, token) = self.store.create_api_token(user.id, "test").await.unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn get(&self, client: &Client, path: &str) -> (StatusCode, Value) {
        let res = client.get(self.url(path)).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> (StatusCode, Value) {
        let res = client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, client: &Client, path: &str, body: Value) -> (StatusCode, Value) {
        let res = client
            .patch(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Creates a product, a designed feature with a slide, a customer and a won deal;
    /// returns their ids.
    pub async fn catalogue(&self) -> Ids {
        let c = &self.admin;
        let (s, product) = self
            .post(
                c,
                "/api/v1/products",
                serde_json::json!({"name": "电子病历 EMR"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{product}");
        let (s, feature) = self
            .post(
                c,
                "/api/v1/features",
                serde_json::json!({
                    "product_id": product["id"], "menu_path": "住院医生站/病历书写/结构化模板",
                    "stage": "designed", "effort_days": 10, "slide_url": "https://slides/emr"
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{feature}");
        let (s, customer) = self
            .post(
                c,
                "/api/v1/customers",
                serde_json::json!({"name": "华西第一人民医院"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{customer}");
        let (s, deal) = self
            .post(
                c,
                "/api/v1/deals",
                serde_json::json!({
                    "customer_id": customer["id"], "name": "电子病历升级", "stage": "won",
                    "contract_value": 3800000, "acceptance_date": "2027-03-31", "pilot": true
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{deal}");
        Ids {
            product: product["id"].as_i64().unwrap(),
            feature: feature["id"].as_i64().unwrap(),
            customer: customer["id"].as_i64().unwrap(),
            deal: deal["id"].as_i64().unwrap(),
        }
    }

    /// The number of rows in every table, to prove a refused request wrote nothing.
    /// The latest messages to a webhook, as the admin sees them.
    pub async fn deliveries(&self, hook: i64) -> Vec<Value> {
        let (s, d) = self
            .get(&self.admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        d.as_array().unwrap().clone()
    }

    pub async fn footprint(&self) -> std::collections::BTreeMap<String, i64> {
        let counts = cunjin_store::testing::row_counts(&self.store)
            .await
            .unwrap();
        assert!(
            counts.contains_key("commitments"),
            "the tables are counted: {counts:?}"
        );
        counts
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub product: i64,
    pub feature: i64,
    pub customer: i64,
    pub deal: i64,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
