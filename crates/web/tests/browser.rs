//! Browser tests in headless Chromium (Debian `chromium` + `chromium-driver`), driven over
//! WebDriver. They skip, saying why, where chromedriver is not installed (`.ci/run` installs it).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use shouhou_testkit::fixture::PASSWORD;
use shouhou_testkit::{seed, spawn_app, test_app, TestServer};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9515)
}

async fn browser() -> Option<(Driver, Client)> {
    let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(bin) = bin else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED browser tests: chromedriver is not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium", "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1366,768", "--lang=zh-CN"
        ], "prefs": {"intl.accept_languages": "zh-CN,zh"}}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..50 {
        if let Ok(c) = ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return Some((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer");
}

async fn shot(c: &Client, name: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots");
    std::fs::create_dir_all(dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
}

/// Fails on any script error the page recorded, and checks htmx is loaded.
async fn no_console_errors(c: &Client, page: &str) {
    let errs = c
        .execute("return window.__errs || ['no error collector'];", vec![])
        .await
        .unwrap();
    assert_eq!(errs, json!([]), "script errors on {page}");
    let htmx = c.execute("return typeof htmx;", vec![]).await.unwrap();
    assert_eq!(htmx, json!("object"), "htmx not loaded on {page}");
}

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn login(c: &Client, s: &TestServer, user: &str) {
    c.goto(&format!("{}/login", s.base)).await.unwrap();
    wait_for(c, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("#login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "header").await;
}

async fn logout(c: &Client) {
    c.find(Locator::Css("#logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "#login-submit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_intake_dispatcher_assigns_manager_approves() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    shouhou_app::org::set_shift(
        &app,
        &f.dispatcher,
        f.tech_a_id,
        shouhou_app::org::NewShift {
            day: "2026-03-10".parse().unwrap(),
            starts_at: "2026-03-10T00:30:00Z".parse().unwrap(),
            ends_at: "2026-03-10T09:30:00Z".parse().unwrap(),
        },
    )
    .await
    .unwrap();
    let s = spawn_app(app).await;

    // Clerk: the login page, then intake: search, pick the device, register the repair.
    c.goto(&format!("{}/login", s.base)).await.unwrap();
    shot(&c, "login-zh").await;
    login(&c, &s, "clerk_a").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/intake"));
    // A customer found by a phone fragment shows their devices.
    wait_for(&c, "#lookup")
        .await
        .send_keys("5678")
        .await
        .unwrap();
    wait_for(&c, "#device-hits a").await;
    // A new customer, created inline; a wrong phone is refused next to its field.
    wait_for(&c, "#new-customer-link")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#new-name")
        .await
        .send_keys("赵新客")
        .await
        .unwrap();
    c.find(Locator::Css("#new-phone"))
        .await
        .unwrap()
        .send_keys("12345")
        .await
        .unwrap();
    c.find(Locator::Css("#new-address"))
        .await
        .unwrap()
        .send_keys("杭州市西湖区文三路 100 号")
        .await
        .unwrap();
    c.find(Locator::Css("#new-lat"))
        .await
        .unwrap()
        .send_keys("30.28")
        .await
        .unwrap();
    c.find(Locator::Css("#new-lng"))
        .await
        .unwrap()
        .send_keys("120.13")
        .await
        .unwrap();
    c.find(Locator::Css("#create-customer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let phone_error = wait_for(&c, "#phone-error").await.text().await.unwrap();
    assert!(phone_error.starts_with("电话号码格式不对"), "{phone_error}");
    shot(&c, "intake-new-customer-error-zh").await;
    let phone = c.find(Locator::Css("#new-phone")).await.unwrap();
    phone.clear().await.unwrap();
    phone.send_keys("13900001111").await.unwrap();
    c.find(Locator::Css("#create-customer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Then the device, then the order.
    wait_for(&c, "#new-serial")
        .await
        .send_keys("HR2609NEW01")
        .await
        .unwrap();
    c.execute(
        "document.getElementById('new-purchase').value = '2026-01-15';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("#create-device"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#fault")
        .await
        .send_keys("冰箱不制冷")
        .await
        .unwrap();
    shot(&c, "intake-zh").await;
    no_console_errors(&c, "intake").await;
    c.find(Locator::Css("#create-order"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let created = wait_for(&c, "#created").await.text().await.unwrap();
    assert!(created.contains("WO-20260310-0001"), "{created}");
    logout(&c).await;

    // Dispatcher: the board lists the order; assign it to technician A.
    login(&c, &s, "dispatcher1").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/dispatch"));
    let store = f.store_a;
    c.goto(&format!(
        "{}/dispatch?store={store}&date=2026-03-10",
        s.base
    ))
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let token = |u: &'static str| {
        let (http, base) = (http.clone(), s.base.clone());
        async move {
            let r: Value = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": u, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["token"].as_str().unwrap().to_string()
        }
    };
    let disp = token("dispatcher1").await;
    let list: Value = http
        .get(format!("{}/api/v1/work-orders", s.base))
        .bearer_auth(&disp)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    shot(&c, "dispatch-zh").await;
    no_console_errors(&c, "dispatch").await;
    wait_for(&c, &format!("#assign-button-{id}"))
        .await
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//table[@id='technicians']//a[contains(@href, '/work-orders/{id}')]"
        )))
        .await
        .unwrap();
    logout(&c).await;

    // The technician completes the order through the API.
    let tech = token("tech_a").await;
    for to in ["accepted", "en_route", "on_site", "completed"] {
        let r = http
            .post(format!("{}/api/v1/work-orders/{id}/transitions", s.base))
            .bearer_auth(&tech)
            .json(&json!({"to": to}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{to}");
    }

    // Manager: the review queue, approved with the keyboard (A).
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/review", s.base)).await.unwrap();
    let item = wait_for(&c, &format!("#review-{id}")).await;
    shot(&c, "review-zh").await;
    no_console_errors(&c, "review").await;
    item.send_keys("a").await.unwrap();
    wait_for(&c, &format!("#reviewed-{id}")).await;
    let mgr = token("manager1").await;
    let w: Value = http
        .get(format!("{}/api/v1/work-orders/{id}", s.base))
        .bearer_auth(&mgr)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(w["status"], "reviewed");

    // Every main page in both languages, without script errors.
    for lang in ["zh", "en"] {
        if lang == "en" {
            c.find(Locator::Css("header a[hx-post='/lang']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::XPath("//html[@lang='en']"))
                .await
                .unwrap();
        }
        for (name, path) in [
            ("home", "/home".to_string()),
            ("work-orders", "/work-orders".into()),
            ("work-order", format!("/work-orders/{id}")),
            (
                "dispatch",
                format!("/dispatch?store={store}&date=2026-03-10"),
            ),
            ("intake", "/intake".into()),
        ] {
            c.goto(&format!("{}{path}", s.base)).await.unwrap();
            wait_for(&c, "main").await;
            let html_lang = c
                .find(Locator::Css("html"))
                .await
                .unwrap()
                .attr("lang")
                .await
                .unwrap()
                .unwrap_or_default();
            assert_eq!(
                html_lang,
                if lang == "zh" { "zh-CN" } else { "en" },
                "{name}"
            );
            no_console_errors(&c, name).await;
            shot(&c, &format!("{name}-{lang}")).await;
        }
    }
    let _ = c.close().await;
    db.cleanup().await;
}
