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
    browser_sized(false).await
}

/// A headless Chromium; `mobile` emulates a 360×740 phone.
async fn browser_sized(mobile: bool) -> Option<(Driver, Client)> {
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
    if mobile {
        caps["goog:chromeOptions"]["mobileEmulation"] = json!({
            "deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 2.0, "touch": true},
            "userAgent": "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"
        });
    }
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
    // Asked again while a navigation is under way (a click that leaves the page): the driver
    // answers "aborted by navigation" instead of waiting for the new page.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => return e,
            Err(e)
                if e.to_string().contains("aborted by navigation")
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
}

async fn login(c: &Client, s: &TestServer, user: &str) {
    c.goto(&format!("{}/login", s.base)).await.unwrap();
    wait_for(c, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    type_into(c, "#password", PASSWORD).await;
    click(c, "#login-submit").await;
    wait_for(c, "header").await;
}

/// Types `text` into the field `css`.
async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Replaces what the field `css` holds with `text`.
async fn retype(c: &Client, css: &str, text: &str) {
    let f = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    f.clear().await.unwrap();
    f.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    wait_for(c, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

/// Finds a product in the intake's picker by `word` and picks the first one found; the policy
/// list then holds the policies of its brand.
async fn pick_product(c: &Client, word: &str) {
    wait_for(c, "#product-q")
        .await
        .send_keys(word)
        .await
        .unwrap();
    click(c, "input.product-option").await;
    wait_for(c, "#new-policy").await;
    wait_for(c, "input.product-option:checked").await;
}

/// Sets a field's value as a picker would (date inputs take no typing in a fixed format).
async fn set_value(c: &Client, id: &str, value: &str) {
    c.execute(
        "var e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(id), json!(value)],
    )
    .await
    .unwrap();
}

/// The text of the first element matching `css`; found again when an htmx swap replaced it
/// between finding and reading (a stale element).
async fn text_of(c: &Client, css: &str) -> String {
    for _ in 0..50 {
        match wait_for(c, css).await.text().await {
            Ok(t) => return t,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
    panic!("{css}: replaced again and again")
}

/// The text of an element once an answer has filled it (empty until then), or empty after
/// ten seconds.
async fn filled_text(c: &Client, css: &str) -> String {
    for _ in 0..100 {
        let t = text_of(c, css).await;
        if !t.trim().is_empty() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    String::new()
}

async fn logout(c: &Client) {
    click(c, "#logout").await;
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
    // Technician A works 08:30–17:30 Shanghai time on the test day.
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
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
    click(&c, "#new-customer-link").await;
    wait_for(&c, "#new-name")
        .await
        .send_keys("赵新客")
        .await
        .unwrap();
    type_into(&c, "#new-phone", "12345").await;
    type_into(&c, "#new-address", "杭州市西湖区文三路 100 号").await;
    click(&c, "#create-customer").await;
    let phone_error = wait_for(&c, "#phone-error").await.text().await.unwrap();
    assert!(phone_error.starts_with("电话号码格式不对"), "{phone_error}");
    shot(&c, "intake-new-customer-error-zh").await;
    retype(&c, "#new-phone", "13900001111").await;
    click(&c, "#create-customer").await;
    // Then the device, then the order.
    pick_product(&c, "BCD").await;
    wait_for(&c, "#new-serial")
        .await
        .send_keys("HR2609NEW01")
        .await
        .unwrap();
    set_value(&c, "new-purchase", "2026-01-15").await;
    click(&c, "#create-device").await;
    wait_for(&c, "#fault")
        .await
        .send_keys("冰箱不制冷")
        .await
        .unwrap();
    shot(&c, "intake-zh").await;
    no_console_errors(&c, "intake").await;
    click(&c, "#create-order").await;
    let created = wait_for(&c, "#created").await.text().await.unwrap();
    assert!(created.contains("WO-20260310-0001"), "{created}");

    // A repair for a known device: type a phone fragment, pick the device, describe the fault,
    // create. Four actions; the machine's share of the time is printed (the person's typing is
    // the rest of the 30 seconds).
    let started = std::time::Instant::now();
    c.goto(&format!("{}/intake", s.base)).await.unwrap();
    wait_for(&c, "#lookup")
        .await
        .send_keys("5678")
        .await
        .unwrap();
    click(&c, "#device-hits a").await;
    wait_for(&c, "#fault")
        .await
        .send_keys("洗衣机不脱水")
        .await
        .unwrap();
    click(&c, "#create-order").await;
    let created = wait_for(&c, "#created").await.text().await.unwrap();
    assert!(created.contains("WO-20260310-0002"), "{created}");
    println!(
        "known-device intake: 4 actions, {} ms of page time in the browser",
        started.elapsed().as_millis()
    );
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
        if to == "completed" {
            let r = http
                .put(format!("{}/api/v1/work-orders/{id}/report", s.base))
                .bearer_auth(&tech)
                .json(&json!({"findings": "排水泵堵塞", "work_done": "清理排水泵，试机正常"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "report");
            // The customer signs (an unsigned report cannot be approved).
            let r = http
                .put(format!("{}/api/v1/work-orders/{id}/signature", s.base))
                .bearer_auth(&tech)
                .json(&json!({"path": "M10 10 L40 40 L80 20 L120 60", "signed_by": "李女士"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "signature");
        }
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
            click(&c, "header a[hx-post='/lang']").await;
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

/// Fails on any script error the page recorded (pages without htmx: phone and public pages).
async fn no_script_errors(c: &Client, page: &str) {
    let errs = c
        .execute("return window.__errs || ['no error collector'];", vec![])
        .await
        .unwrap();
    assert_eq!(errs, json!([]), "script errors on {page}");
}

/// Waits until the status line says the last action was saved.
async fn saved(c: &Client) {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#net-status.saved"))
        .await
        .expect("the action was saved");
}

async fn api_token(s: &TestServer, user: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

async fn api(s: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1{path}", s.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

/// Draws a stroke on the signature pad with pointer events.
async fn draw_signature(c: &Client) {
    c.execute(
        r#"var pad = document.getElementById("signature-pad"); var r = pad.getBoundingClientRect();
           function ev(t, x, y) { pad.dispatchEvent(new PointerEvent(t, {clientX: r.left + x, clientY: r.top + y, pointerId: 7, bubbles: true})); }
           ev("pointerdown", 20, 40); for (var i = 1; i < 30; i++) { ev("pointermove", 20 + i * 9, 40 + Math.sin(i / 3) * 25); } ev("pointerup", 290, 60);"#,
        vec![],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technician_visit_on_a_phone_from_accept_to_signed_completion() {
    let Some((_driver, c)) = browser_sized(true).await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let disp = api_token(&s, "dispatcher1").await;
    // Booked today 11:00–17:00, so it is on today's route.
    let w = api(&s, &disp, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": "冰箱不制冷",
        "appointment_start": "2026-03-10T03:00:00Z", "appointment_end": "2026-03-10T09:00:00Z"})).await;
    let id = w["id"].as_i64().unwrap();
    api(
        &s,
        &disp,
        &format!("/work-orders/{id}/transitions"),
        json!({"to": "assigned", "technician_id": f.tech_a_id}),
    )
    .await;

    // My day: the order with a call link and navigation links.
    login(&c, &s, "tech_a").await;
    wait_for(&c, &format!("#stop-{id}")).await;
    let tel = c
        .find(Locator::Css(&format!("#stop-{id} a[href^='tel:']")))
        .await
        .unwrap();
    assert_eq!(
        tel.attr("href").await.unwrap().as_deref(),
        Some("tel:13812345678")
    );
    let amap = c
        .find(Locator::Css(&format!("#stop-{id} a.nav-amap")))
        .await
        .unwrap();
    assert!(amap
        .attr("href")
        .await
        .unwrap()
        .unwrap()
        .starts_with("https://uri.amap.com/navigation?to=120.174651,30.277644,"));
    no_script_errors(&c, "tech-day").await;
    shot(&c, "tech-day-mobile").await;
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 360,
        "no sideways scrolling on a 360 px phone: {width}"
    );

    // The visit: accept, depart, arrive.
    click(&c, &format!("#stop-{id} .stop-link")).await;
    for step in ["accepted", "en_route", "on_site"] {
        click(&c, &format!("#go-{step}")).await;
        c.wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&format!(
                "#go-{step}[data-done], #order-title"
            )))
            .await
            .unwrap();
        // The page reloads after each step; wait until the button is gone.
        for _ in 0..60 {
            if c.find(Locator::Css(&format!("#go-{step}"))).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    wait_for(&c, "#report-form").await;
    // The photo button is visible: its background is not the white of its text or the page.
    let colours = c
        .execute(
            r#"var b = document.getElementById("photo-input").closest("label"); b.scrollIntoView(); var s = getComputedStyle(b); return [s.color, s.backgroundColor];"#,
            vec![],
        )
        .await
        .unwrap();
    let bg = colours[1].as_str().unwrap().to_string();
    assert!(
        bg != colours[0].as_str().unwrap()
            && !bg.starts_with("rgba(0, 0, 0, 0)")
            && bg != "rgb(255, 255, 255)",
        "photo button colours {colours}"
    );
    shot(&c, "tech-order-photo-button").await;

    // An action a previous page could not deliver waits in the outbox and is sent when a page
    // opens again (same key: done once).
    c.execute(
        &format!(
            r#"localStorage.setItem("shouhou-outbox", JSON.stringify([{{k: "offline-1", method: "PUT", url: "/api/v1/work-orders/{id}/report", payload: {{findings: "离线时填写", work_done: null, labour_minutes: null}}}}]));"#
        ),
        vec![],
    )
    .await
    .unwrap();
    c.refresh().await.unwrap();
    let mgr_token = api_token(&s, "manager1").await;
    let mut replayed = false;
    for _ in 0..40 {
        let rep: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/work-orders/{id}/report", s.base))
            .bearer_auth(&mgr_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if rep["visits"][0]["findings"] == "离线时填写" {
            replayed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(replayed, "the outbox was replayed");
    // The page reloads itself once the outbox is empty; let it finish.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let left = c
        .execute(r#"return localStorage.getItem("shouhou-outbox");"#, vec![])
        .await
        .unwrap();
    assert_eq!(left, json!("[]"), "the outbox is empty once answered");
    wait_for(&c, "#report-form").await;
    c.find(Locator::Css("#report-form [name=findings]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();

    // Findings and work done.
    type_into(&c, "#report-form [name=findings]", "压缩机不启动").await;
    type_into(&c, "#report-form [name=work_done]", "更换启动继电器").await;
    type_into(&c, "#report-form [name=labour_minutes]", "45").await;
    click(&c, "#save-report").await;
    saved(&c).await;

    // A part from the product's list.
    click(&c, "#part-name option[value='温控器']").await;
    click(&c, "#add-part").await;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#part-lines li"))
        .await
        .unwrap();

    // A photo, uploaded from the phone's camera roll.
    let dir = std::env::temp_dir().join(format!("shouhou-photo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fault.png");
    let img = image::RgbImage::from_pixel(1200, 900, image::Rgb([200, 80, 40]));
    image::DynamicImage::ImageRgb8(img).save(&file).unwrap();
    type_into(&c, "#photo-input", file.to_str().unwrap()).await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#photos img"))
        .await
        .unwrap();

    // The customer signs on the screen.
    wait_for(&c, "#signature-pad").await;
    draw_signature(&c).await;
    click(&c, "#signature-save").await;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#signature-done path"))
        .await
        .unwrap();
    shot(&c, "tech-visit-mobile").await;
    no_script_errors(&c, "tech-visit").await;

    // Fixed: complete.
    click(&c, "#outcome option[value='fixed']").await;
    click(&c, "#finish").await;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(
            "//span[@id='order-status' and text()='已完工']",
        ))
        .await
        .expect("completed");

    let mgr = api_token(&s, "manager1").await;
    let rep: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/work-orders/{id}/report", s.base))
        .bearer_auth(&mgr)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["order"]["status"], "completed");
    assert_eq!(
        rep["visits"].as_array().unwrap().len(),
        1,
        "one visit despite reloads"
    );
    assert_eq!(rep["visits"][0]["outcome"], "fixed");
    assert_eq!(rep["visits"][0]["findings"], "压缩机不启动");
    assert_eq!(rep["parts"].as_array().unwrap().len(), 1);
    assert_eq!(rep["photos"].as_array().unwrap().len(), 1);
    assert!(rep["visits"][0]["signature"]
        .as_str()
        .unwrap()
        .starts_with('M'));

    // The printable report.
    c.goto(&format!("{}/work-orders/{id}/report", s.base))
        .await
        .unwrap();
    wait_for(&c, "#report-signature svg path").await;
    shot(&c, "service-report").await;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = c.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_reports_tracks_and_rates_by_qr_code() {
    let Some((_driver, c)) = browser_sized(true).await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    let (token,): (String,) = app
        .db
        .fetch_one(
            &format!("SELECT qr_token FROM devices WHERE id = {}", f.device),
            vec![],
        )
        .await
        .unwrap();
    let s = spawn_app(app).await;
    c.goto(&format!("{}/s/{token}", s.base)).await.unwrap();
    wait_for(&c, "#device-card").await;
    no_script_errors(&c, "public-device").await;
    shot(&c, "public-device-mobile").await;

    // A wrong phone number is refused beside the field.
    type_into(&c, "#fault-description", "冰箱不制冷，冷藏室是热的").await;
    type_into(&c, "#fault-phone", "12345").await;
    click(&c, "#send-fault").await;
    wait_for(&c, "#phone-error").await;
    let kept = c
        .find(Locator::Css("#fault-description"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("冰箱不制冷，冷藏室是热的"),
        "the description is kept"
    );
    retype(&c, "#fault-phone", "13812345678").await;
    click(&c, "#send-fault").await;
    wait_for(&c, "#tracking").await;
    wait_for(&c, "#public-notice").await;
    shot(&c, "public-tracking-mobile").await;

    // The store does the work.
    let (id,): (i64,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT id FROM work_orders WHERE device_id = {}", f.device),
            vec![],
        )
        .await
        .unwrap();
    let disp = api_token(&s, "dispatcher1").await;
    api(
        &s,
        &disp,
        &format!("/work-orders/{id}/transitions"),
        json!({"to": "assigned", "technician_id": f.tech_a_id}),
    )
    .await;
    let tech = api_token(&s, "tech_a").await;
    for to in ["accepted", "en_route"] {
        api(
            &s,
            &tech,
            &format!("/work-orders/{id}/transitions"),
            json!({"to": to}),
        )
        .await;
    }
    c.refresh().await.unwrap();
    wait_for(&c, "#track-technician").await;
    wait_for(&c, "#track-eta").await;
    api(
        &s,
        &tech,
        &format!("/work-orders/{id}/transitions"),
        json!({"to": "on_site"}),
    )
    .await;
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/work-orders/{id}/report", s.base))
        .bearer_auth(&tech)
        .json(&json!({"findings": "不制冷", "work_done": "补充冷媒，试机正常"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "report: {}", r.status());
    api(
        &s,
        &tech,
        &format!("/work-orders/{id}/transitions"),
        json!({"to": "completed"}),
    )
    .await;
    c.refresh().await.unwrap();
    wait_for(&c, "#rate-form").await;
    // The questionnaire's items first (none chosen in advance), then the overall rating.
    let items = c
        .find_all(Locator::Css("#rate-form fieldset.rate-item"))
        .await
        .unwrap()
        .len();
    assert_eq!(items, 6, "five items and the overall one");
    click(&c, "#rate-form fieldset.rate-item input[value='satisfied']").await;
    click(&c, "#rate-overall input[value='very_satisfied']").await;
    type_into(&c, "#rate-form textarea", "师傅很专业").await;
    shot(&c, "public-rate-form-mobile").await;
    click(&c, "#send-rating").await;
    wait_for(&c, "#track-rating").await;
    no_script_errors(&c, "public-rated").await;
    shot(&c, "public-rated-mobile").await;
    let (rating, channel): (String, String) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT rating, channel FROM follow_ups WHERE work_order_id = {id}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (rating.as_str(), channel.as_str()),
        ("very_satisfied", "self_service")
    );
    let _ = c.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_settings_and_archive_forms() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    // Some orders, so the tablet check below sees full tables.
    let disp = api_token(&s, "dispatcher1").await;
    for text in [
        "冰箱不制冷，冷冻室结霜严重，需要上门检查压缩机和温控器",
        "洗衣机漏水",
        "电视黑屏",
    ] {
        api(&s, &disp, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": text})).await;
    }
    login(&c, &s, "admin").await;
    // The admin's home is the settings page.
    wait_for(&c, "#fee-form").await;
    no_console_errors(&c, "settings").await;
    shot(&c, "settings-zh").await;

    // Geocoding: the page says plainly none is set up; the admin enters AMap's key (shown
    // masked afterwards), then turns it off again (tests never reach the network).
    let status = text_of(&c, "#geocoding-status").await;
    assert!(status.contains("未配置"), "{status}");
    wait_for(&c, "#geocoding-provider")
        .await
        .select_by_value("amap")
        .await
        .unwrap();
    type_into(&c, "#geocoding-key", "0123456789abcdef0123456789abcdef").await;
    type_into(&c, "#geocoding-city", "杭州").await;
    click(&c, "#save-geocoding").await;
    wait_for(&c, "#geocoding-saved").await;
    let status = text_of(&c, "#geocoding-status").await;
    assert!(status.contains("已配置"), "{status}");
    let placeholder = wait_for(&c, "#geocoding-key")
        .await
        .attr("placeholder")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(placeholder.starts_with("••••cdef"), "{placeholder}");
    c.execute(
        "document.getElementById('geocoding-form').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "settings-geocoding-zh").await;
    wait_for(&c, "#geocoding-provider")
        .await
        .select_by_value("")
        .await
        .unwrap();
    click(&c, "#save-geocoding").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//p[@id='geocoding-status'][contains(., '未配置')]",
        ))
        .await
        .unwrap();

    // A new product: a bad price is refused beside its field, nothing is stored.
    c.goto(&format!("{}/products", s.base)).await.unwrap();
    click(&c, "#new-record").await;
    wait_for(&c, "#f-brand")
        .await
        .send_keys("格力")
        .await
        .unwrap();
    type_into(&c, "#f-model", "KFR-35GW").await;
    type_into(&c, "#f-parts", "压缩机=1200, 电控板=abc").await;
    click(&c, "#save-record").await;
    wait_for(&c, "#f-parts-error").await;
    let (n,): (i64,) = s
        .app
        .db
        .fetch_one("SELECT COUNT(*) FROM products WHERE brand = '格力'", vec![])
        .await
        .unwrap();
    assert_eq!(n, 0);
    retype(&c, "#f-parts", "压缩机=1200, 电控板=380").await;
    click(&c, "#save-record").await;
    let want = url::Url::parse(&format!("{}/products/2", s.base)).unwrap();
    if c.wait()
        .at_most(Duration::from_secs(10))
        .for_url(&want)
        .await
        .is_err()
    {
        let now = c.current_url().await.unwrap();
        let form = c
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .html(false)
            .await
            .unwrap();
        let form = form
            .lines()
            .filter(|l| l.contains("error") || l.contains("notice"))
            .collect::<Vec<_>>()
            .join("\n");
        panic!("not redirected to {want}: at {now}; {form}");
    }
    wait_for(&c, "#f-brand").await;
    no_console_errors(&c, "product-edit").await;
    shot(&c, "product-form-zh").await;
    let (parts,): (String,) = s
        .app
        .db
        .fetch_one("SELECT parts FROM products WHERE brand = '格力'", vec![])
        .await
        .unwrap();
    assert!(parts.contains("\"price_fen\":38000"), "{parts}");

    // A device's record: a bad serial is refused beside the field, then the install date saved.
    c.goto(&format!("{}/devices/{}", s.base, f.device))
        .await
        .unwrap();
    click(&c, "#edit-record").await;
    let serial = wait_for(&c, "#f-serial").await;
    serial.clear().await.unwrap();
    serial.send_keys("x!").await.unwrap();
    click(&c, "#save-record").await;
    wait_for(&c, "#f-serial-error").await;
    retype(&c, "#f-serial", "HR2501ABCD").await;
    c.execute(
        "document.getElementById('f-install_date').value = '2026-01-05';",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "#save-record").await;
    wait_for(&c, "#record-saved").await;
    let (install,): (Option<String>,) = s
        .app
        .db
        .fetch_one(
            &format!(
                "SELECT CAST(install_date AS TEXT) FROM devices WHERE id = {}",
                f.device
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(install.as_deref(), Some("2026-01-05"));

    // Every admin page opens without script errors.
    for (name, path) in [
        ("users", "/users"),
        ("user-new", "/users/new"),
        ("org-units", "/org-units"),
        ("technicians", "/technicians"),
        ("policies", "/warranty-policies/new"),
        ("labels", "/labels"),
        ("leads", "/opportunities"),
        ("follow-ups", "/follow-ups"),
        ("kb", "/kb"),
    ] {
        c.goto(&format!("{}{path}", s.base)).await.unwrap();
        wait_for(&c, "main").await;
        no_console_errors(&c, name).await;
        shot(&c, &format!("{name}-zh")).await;
    }

    // Readable on a tablet (1024 × 768, landscape): no page scrolls sideways.
    c.set_window_size(1024, 768).await.unwrap();
    for (name, path) in [
        ("work-orders", "/work-orders"),
        ("dispatch", "/dispatch"),
        ("review", "/review"),
        ("customers", "/customers"),
        ("intake", "/intake"),
        ("settings", "/settings"),
        ("leads", "/opportunities"),
    ] {
        c.goto(&format!("{}{path}", s.base)).await.unwrap();
        wait_for(&c, "main").await;
        let fits = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                vec![],
            )
            .await
            .unwrap();
        shot(&c, &format!("{name}-tablet")).await;
        assert_eq!(fits, json!(true), "{name} scrolls sideways on a tablet");
    }
    let _ = c.close().await;
    db.cleanup().await;
}

/// Counts the rows of a table in the test's store.
async fn rows_in(s: &TestServer, table: &str) -> i64 {
    let (n,): (i64,) = s
        .app
        .db
        .fetch_one(&format!("SELECT COUNT(*) FROM {table}"), vec![])
        .await
        .unwrap();
    n
}

/// The clerk's day at intake, at 1366×768 in Chinese: a known customer by phone, a device added
/// to them, an order with an appointment window saved once however often it is clicked; a new
/// customer without coordinates whose order goes in with its place to confirm (then set by the
/// dispatcher); a phone already known is warned of; an order found by its number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_walks_intake_from_phone_to_saved_order() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    // A catalog with other brands, so the picker has something to search and the policies
    // something to leave out.
    for (brand, model, category) in [
        (
            "格力",
            "KFR-35GW 空调",
            shouhou_domain::Category::Refrigeration,
        ),
        (
            "美的",
            "MG100V11F 洗衣机",
            shouhou_domain::Category::Washing,
        ),
        (
            "海尔",
            "EG100MATE2S 洗衣机",
            shouhou_domain::Category::Washing,
        ),
    ] {
        shouhou_app::catalog::create_product(
            &app,
            Some(&f.admin),
            shouhou_app::catalog::NewProduct {
                brand: brand.into(),
                model: model.into(),
                category,
                name: None,
                parts: vec![],
            },
        )
        .await
        .unwrap();
        if brand != "海尔" {
            shouhou_app::catalog::create_policy(
                &app,
                Some(&f.admin),
                shouhou_app::catalog::NewPolicy {
                    name: format!("{brand} 整机6年"),
                    manufacturer: format!("{brand}（中国）"),
                    whole_unit_months: 72,
                    main_parts_months: 72,
                    main_parts: vec![],
                    labour_months: None,
                    starts_from: None,
                },
            )
            .await
            .unwrap();
        }
    }
    // The same person entered twice, some time ago.
    let twice = shouhou_app::customers::create(
        &app,
        &f.clerk_a,
        shouhou_app::customers::NewCustomer {
            org_unit_id: None,
            name: "王小明".into(),
            kind: None,
            tier: None,
            note: None,
            phones: vec!["13812345678".into()],
            addresses: vec![shouhou_app::customers::AddressInput {
                id: None,
                label: None,
                address: "杭州市拱墅区凤起路 88 号 2 单元".into(),
                lat: None,
                lng: None,
            }],
            allow_duplicate_phone: true,
        },
    )
    .await
    .unwrap();
    let s = spawn_app(app).await;
    login(&c, &s, "clerk_a").await;

    // Found by phone, the customer opens: their devices, and a device is added.
    wait_for(&c, "#lookup")
        .await
        .send_keys("5678")
        .await
        .unwrap();
    click(&c, "a.customer-hit").await;
    let card = text_of(&c, "#customer-card").await;
    assert!(
        card.contains("王小明") && card.contains("HR2501ABCD"),
        "{card}"
    );
    // Both entries share the phone: the lookup and the card offer to merge them.
    wait_for(&c, "#shared-phone .merge-button").await;
    wait_for(&c, "#customer-duplicates .merge-button").await;
    shot(&c, "intake-customer-card-zh").await;
    click(&c, "#add-device").await;
    pick_product(&c, "BCD").await;
    let policies = text_of(&c, "#new-policy").await;
    assert!(
        policies.contains("海尔 12/36") && !policies.contains("格力"),
        "only the brand's policies: {policies}"
    );
    // A word of the category finds the brand's washing machines among others.
    retype(&c, "#product-q", "洗衣机").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//div[@id='product-options']//label[contains(., '美的')]",
        ))
        .await
        .unwrap();
    shot(&c, "intake-product-picker-zh").await;
    retype(&c, "#product-q", "BCD").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//div[@id='product-options'][not(contains(., '美的'))]//input",
        ))
        .await
        .unwrap();
    click(&c, "input.product-option").await;
    wait_for(&c, "#new-policy").await;
    type_into(&c, "#new-serial", "HR2609KITCH").await;
    set_value(&c, "new-purchase", "2025-12-20").await;
    click(&c, "#create-device").await;

    // The new order with an appointment window, clicked twice: one order, the form afresh.
    wait_for(&c, "#device-card").await;
    set_value(&c, "appointment-date", "2026-03-11").await;
    set_value(&c, "appointment-slot", "morning").await;
    type_into(&c, "#fault", "冰箱冷藏室不制冷").await;
    shot(&c, "intake-order-form-zh").await;
    c.execute(
        "var b = document.getElementById('create-order'); b.click(); b.click();",
        vec![],
    )
    .await
    .unwrap();
    let created = text_of(&c, "#created").await;
    assert!(
        created.contains("WO-20260310-0001") && created.contains("03-11 09:00–12:00"),
        "{created}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rows_in(&s, "work_orders").await,
        1,
        "a double click makes one order"
    );
    let fault = c
        .execute("return document.getElementById('fault').value;", vec![])
        .await
        .unwrap();
    let slot = c
        .execute(
            "return document.getElementById('appointment-slot').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (fault, slot),
        (json!(""), json!("")),
        "the form starts afresh"
    );
    shot(&c, "intake-order-saved-zh").await;
    no_console_errors(&c, "intake").await;
    click(&c, "#created-link").await;
    let window = text_of(&c, "#wo-appointment").await;
    assert_eq!(window, "03-11 09:00–12:00");
    assert_eq!(text_of(&c, "#wo-store").await, "东城店");
    shot(&c, "intake-order-page-zh").await;

    // A new customer without coordinates: the page says no geocoding service is set up, the
    // order goes in, its place is to be confirmed.
    c.goto(&format!("{}/intake", s.base)).await.unwrap();
    click(&c, "#new-customer-link").await;
    let hint = text_of(&c, "#no-geocoder").await;
    assert!(hint.contains("未配置地址解析服务"), "{hint}");
    type_into(&c, "#new-name", "赵新客").await;
    type_into(&c, "#new-phone", "13900002222").await;
    type_into(&c, "#new-address", "杭州市滨江区江南大道 1088 号 3 幢").await;
    shot(&c, "intake-new-customer-zh").await;
    click(&c, "#create-customer").await;
    let saved = text_of(&c, "#customer-saved").await;
    assert!(saved.contains("位置待确认"), "{saved}");
    pick_product(&c, "KFR").await;
    type_into(&c, "#new-serial", "GL2603NEW9").await;
    set_value(&c, "new-purchase", "2026-02-01").await;
    click(&c, "#create-device").await;
    wait_for(&c, "#device-card .location-unconfirmed").await;
    type_into(&c, "#fault", "空调不制热").await;
    click(&c, "#create-order").await;
    let created = text_of(&c, "#created").await;
    assert!(created.contains("WO-20260310-0002"), "{created}");
    shot(&c, "intake-new-customer-order-zh").await;

    // The same phone again is warned of as it is typed and on saving; the known customer is
    // one click away.
    c.goto(&format!("{}/intake", s.base)).await.unwrap();
    click(&c, "#new-customer-link").await;
    wait_for(&c, "#new-name").await;
    type_into(&c, "#new-name", "王小明").await;
    type_into(&c, "#new-phone", "13812345678").await;
    wait_for(&c, "#phone-known").await;
    type_into(&c, "#new-address", "凤起路 88 号").await;
    click(&c, "#create-customer").await;
    let warning = text_of(&c, "#duplicate-warning").await;
    assert!(warning.contains("王小明"), "{warning}");
    shot(&c, "intake-duplicate-phone-zh").await;
    assert_eq!(rows_in(&s, "customers").await, 3);
    click(&c, "#duplicate-warning .use-existing").await;
    wait_for(&c, "#customer-card").await;

    // An order found by its number.
    c.goto(&format!("{}/intake", s.base)).await.unwrap();
    wait_for(&c, "#lookup")
        .await
        .send_keys("WO-20260310-0002")
        .await
        .unwrap();
    let hit = text_of(&c, "a.order-hit").await;
    assert_eq!(hit, "WO-20260310-0002");
    shot(&c, "intake-order-by-number-zh").await;
    click(&c, "a.order-hit").await;
    assert_eq!(text_of(&c, "#wo-number").await, "WO-20260310-0002 · 新建");
    logout(&c).await;

    // The dispatcher sees the place to confirm on the order and sets it.
    login(&c, &s, "dispatcher1").await;
    let list: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/work-orders?sort=-created_at", s.base))
        .bearer_auth(api_token(&s, "dispatcher1").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    c.goto(&format!("{}/work-orders/{id}", s.base))
        .await
        .unwrap();
    let tag = text_of(&c, ".location-unconfirmed").await;
    assert_eq!(tag, "位置待确认");
    shot(&c, "order-location-to-confirm-zh").await;
    no_console_errors(&c, "work-order").await;
    retype(&c, ".location-form .lat", "30.2095").await;
    retype(&c, ".location-form .lng", "120.2123").await;
    click(&c, ".set-location").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//div[contains(@class, 'place')][not(.//span[contains(@class, 'location-unconfirmed')])]",
        ))
        .await
        .unwrap();
    let (confirmed,): (bool,) = s
        .app
        .db
        .fetch_one(
            "SELECT location_confirmed FROM customer_addresses WHERE address LIKE '%江南大道 1088%'",
            vec![],
        )
        .await
        .unwrap();
    assert!(confirmed);
    logout(&c).await;

    // A manager merges the duplicate on the customer's page.
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/customers/{}", s.base, f.customer))
        .await
        .unwrap();
    let dups = text_of(&c, "#duplicates").await;
    assert!(dups.contains("2 单元"), "{dups}");
    shot(&c, "customer-duplicates-zh").await;
    no_console_errors(&c, "customer").await;
    click(&c, "#duplicates .merge-button").await;
    c.accept_alert().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//main[not(.//div[@id='duplicates'])]//h1[@id='record-title']",
        ))
        .await
        .unwrap();
    let (left,): (i64,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT COUNT(*) FROM customers WHERE id = {}", twice.id),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(left, 0, "the duplicate is merged away");
    shot(&c, "customer-merged-zh").await;
    let _ = c.close().await;
    db.cleanup().await;
}

/// Sends the HTML5 drag events of dragging `from` onto `to` (chromedriver's pointer actions do
/// not start a native drag), so the page's own drag-and-drop code runs.
async fn drag(c: &Client, from: &str, to: &str) {
    c.execute(
        "var a = document.querySelector(arguments[0]), b = document.querySelector(arguments[1]);
         var dt = new DataTransfer();
         function ev(el, t) { el.dispatchEvent(new DragEvent(t, {bubbles: true, cancelable: true, dataTransfer: dt})); }
         ev(a, 'dragstart'); ev(b, 'dragover'); ev(b, 'drop'); ev(a, 'dragend');",
        vec![json!(from), json!(to)],
    )
    .await
    .unwrap();
}

/// Waits for the page to reload (the old page's marker disappears) and the board to be back.
async fn reloaded(c: &Client) {
    for _ in 0..100 {
        let marked = c
            .execute("return !!window.__before_reload", vec![])
            .await
            .unwrap();
        if marked == json!(false) && c.find(Locator::Css("#technicians")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the board did not reload");
}

async fn mark(c: &Client) {
    c.execute("window.__before_reload = true;", vec![])
        .await
        .unwrap();
}

/// The dispatcher's board: the map of the day shows waiting orders and each technician's stops
/// in their colour; an order dragged onto a technician is assigned; a shift is changed, the
/// technician taken off the day (leave) and put back on, each audited through the API's view.
#[tokio::test]
async fn dispatcher_maps_drags_and_edits_shifts_on_the_board() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
    let s = spawn_app(app).await;
    let disp = api_token(&s, "dispatcher1").await;
    let mut ids = Vec::new();
    for text in ["冰箱不制冷", "冰箱噪音大"] {
        let w = api(&s, &disp, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": text})).await;
        ids.push(w["id"].as_i64().unwrap());
    }
    login(&c, &s, "dispatcher1").await;
    let board = format!("{}/dispatch?store={}&date=2026-03-10", s.base, f.store_a);
    c.goto(&board).await.unwrap();
    // The map: both waiting orders as pins, the technician's start in the legend.
    wait_for(&c, "svg.daymap").await;
    let pins = c.find_all(Locator::Css(".map-pin")).await.unwrap();
    assert_eq!(pins.len(), 2, "two waiting orders on the map");
    let legend = text_of(&c, ".map-legend").await;
    assert!(
        legend.contains("tech_a") && legend.contains("待派工"),
        "{legend}"
    );
    assert!(text_of(&c, "#day-map .hint").await.contains("不是道路地图"));
    shot(&c, "dispatch-map-zh").await;

    // Drag the first order onto technician A's row: assigned, the board shows it on their day
    // and on the map as their stop.
    mark(&c).await;
    drag(
        &c,
        &format!("#unassigned tr[data-order='{}']", ids[0]),
        &format!("#technicians tr[data-tech='{}']", f.tech_a_id),
    )
    .await;
    reloaded(&c).await;
    let day = text_of(&c, "#technicians").await;
    assert!(day.contains("WO-20260310-0001"), "{day}");
    assert!(c
        .find(Locator::Css(&format!(
            "#unassigned tr[data-order='{}']",
            ids[0]
        )))
        .await
        .is_err());
    wait_for(&c, &format!(".map-stop[data-order='{}']", ids[0])).await;
    assert_eq!(c.find_all(Locator::Css(".map-pin")).await.unwrap().len(), 1);
    let order: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/work-orders/{}", s.base, ids[0]))
        .bearer_auth(&disp)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["status"], "assigned");
    assert_eq!(order["technician_id"], f.tech_a_id);

    // A shift that ends before it starts is refused in words; then 09:00–18:00 is saved.
    let tech = f.tech_a_id;
    click(
        &c,
        &format!("tr[data-tech='{tech}'] details.shift-edit summary"),
    )
    .await;
    set_value(&c, &format!("shift-start-{tech}"), "18:00").await;
    set_value(&c, &format!("shift-end-{tech}"), "09:00").await;
    click(&c, &format!("#shift-save-{tech}")).await;
    let refused = filled_text(&c, &format!("tr[data-tech='{tech}'] .shift-msg")).await;
    assert!(
        !refused.is_empty() && !refused.contains("ends_at"),
        "{refused}"
    );
    set_value(&c, &format!("shift-start-{tech}"), "09:00").await;
    set_value(&c, &format!("shift-end-{tech}"), "18:00").await;
    mark(&c).await;
    click(&c, &format!("#shift-save-{tech}")).await;
    reloaded(&c).await;
    let shift = text_of(
        &c,
        &format!("tr[data-tech='{tech}'] details.shift-edit summary"),
    )
    .await;
    assert!(shift.contains("09:00–18:00"), "{shift}");
    let shifts: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/technicians/{tech}/shifts?from=2026-03-10&to=2026-03-10",
            s.base
        ))
        .bearer_auth(&disp)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shifts["items"][0]["starts_at"], "2026-03-10T01:00:00Z");

    // Leave: the technician is off the day, listed with the order still theirs to move.
    click(
        &c,
        &format!("tr[data-tech='{tech}'] details.shift-edit summary"),
    )
    .await;
    mark(&c).await;
    click(&c, &format!("#shift-off-{tech}")).await;
    reloaded(&c).await;
    let off = text_of(&c, "#off-duty").await;
    assert!(off.contains("tech_a") && off.contains("1"), "{off}");
    assert!(c
        .find(Locator::Css(&format!(
            "#technicians tr[data-tech='{tech}']"
        )))
        .await
        .is_err());
    shot(&c, "dispatch-leave-zh").await;
    // Back on shift.
    mark(&c).await;
    click(&c, &format!("#shift-on-{tech}")).await;
    reloaded(&c).await;
    wait_for(&c, &format!("#technicians tr[data-tech='{tech}']")).await;
    no_console_errors(&c, "dispatch").await;
    // The shift changes are in the technician's audit trail.
    let audit: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/audit?entity=technician&id={tech}",
            s.base
        ))
        .bearer_auth(api_token(&s, "manager1").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shift_entries = audit["items"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "shift").count())
        .unwrap_or(0);
    // The test day's shift, 09:00–18:00, the leave and back on shift.
    assert_eq!(shift_entries, 4, "{audit}");
}

// ---------------------------------------------------------------- a day per role, on the demo city

/// The demo city (a small one: 1,500 customers, 2,000 orders) at the tests' fixed "now", served.
async fn demo_city() -> (shouhou_testkit::TestDb, TestServer) {
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let o = shouhou_app::demo::DemoOptions {
        seed: 7,
        customers: 1_500,
        devices_per_customer: 1.5,
        orders: 2_000,
        region_orders: shouhou_app::demo::CITY_YEAR,
        password: PASSWORD.into(),
        now: app.now(),
    };
    shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
        .await
        .expect("demo city");
    let s = spawn_app(app).await;
    (db, s)
}

async fn scalar(db: &shouhou_store::Db, sql: &str) -> i64 {
    let (n,): (i64,) = db.fetch_one(sql, vec![]).await.unwrap();
    n
}

/// The number in a heading such as "待派工单 (12)".
fn count_in(text: &str) -> i64 {
    let inner = text
        .rsplit_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(n, _)| n.trim())
        .unwrap_or_else(|| panic!("no count in {text}"));
    inner
        .parse()
        .unwrap_or_else(|_| panic!("no count in {text}"))
}

/// The dispatcher's morning on the demo city: a day's queue of tens, not the whole backlog; the
/// map of the day; a plan of the day with local times and a bounded list of what it left out;
/// committed, the board shows each technician's times.
#[tokio::test]
async fn dispatcher_day_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (_db, s) = demo_city().await;
    login(&c, &s, "dispatcher1").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/dispatch"));
    let waiting = count_in(&text_of(&c, "h2").await);
    // The morning round is done at 10:00: what waits is the last hour's calls and the orders
    // back from the field, tens at most, not the whole backlog.
    assert!((0..=80).contains(&waiting), "the day's queue: {waiting}");
    wait_for(&c, "svg.daymap").await;
    let routes = c.find_all(Locator::Css(".map-route")).await.unwrap().len();
    assert!(routes >= 2, "technicians on the map: {routes}");
    shot(&c, "walk-dispatcher-board-zh").await;
    click(&c, "#plan-button").await;
    let plan = c
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#proposed-plan"))
        .await
        .unwrap();
    let text = plan.text().await.unwrap();
    // Every time on the plan is a working hour of the org's day.
    let times: Vec<u32> = text
        .split(|ch: char| !(ch.is_ascii_digit() || ch == ':'))
        .filter(|w| w.len() == 5 && w.as_bytes()[2] == b':')
        .filter_map(|w| w[..2].parse().ok())
        .collect();
    assert!(!times.is_empty(), "{text}");
    assert!(times.iter().all(|h| (7..=21).contains(h)), "{times:?}");
    let left_out = c.find_all(Locator::Css("#backlog li")).await.unwrap().len();
    assert!(left_out <= 30, "backlog shown: {left_out}");
    shot(&c, "walk-dispatcher-plan-zh").await;
    click(&c, "#commit-plan").await;
    wait_for(&c, "#proposed-plan h2").await;
    for _ in 0..50 {
        if text_of(&c, "#proposed-plan h2").await.contains("已确认") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text_of(&c, "#proposed-plan h2").await.contains("已确认"));
    c.refresh().await.unwrap();
    let day = text_of(&c, "#technicians").await;
    let timed = day
        .split(|ch: char| ch.is_whitespace())
        .filter(|w| w.len() == 5 && w.as_bytes()[2] == b':')
        .count();
    assert!(timed >= 3, "committed times on the board: {day}");
    shot(&c, "walk-dispatcher-committed-zh").await;
    no_console_errors(&c, "dispatch").await;
}

/// The clerk's call on the demo city: a caller found by four digits of the phone, their device
/// picked, the fault and a booked window taken, the order saved once; then found by its number.
#[tokio::test]
async fn clerk_day_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (db, s) = demo_city().await;
    let (phone,): (String,) = db
        .db
        .fetch_one(
            "SELECT ph.phone FROM customer_phones ph JOIN devices d ON d.customer_id = ph.customer_id \
             ORDER BY ph.customer_id LIMIT 1",
            vec![],
        )
        .await
        .unwrap();
    login(&c, &s, "clerk1").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/intake"));
    let before = scalar(&db.db, "SELECT COUNT(*) FROM work_orders").await;
    wait_for(&c, "#lookup")
        .await
        .send_keys(&phone[phone.len() - 8..])
        .await
        .unwrap();
    click(&c, "#device-hits a").await;
    wait_for(&c, "#fault")
        .await
        .send_keys("不制冷，压缩机不启动")
        .await
        .unwrap();
    set_value(&c, "appointment-date", "2026-03-11").await;
    set_value(&c, "appointment-slot", "afternoon").await;
    shot(&c, "walk-clerk-order-zh").await;
    click(&c, "#create-order").await;
    let created = text_of(&c, "#created").await;
    assert!(created.contains("WO-"), "{created}");
    assert_eq!(
        scalar(&db.db, "SELECT COUNT(*) FROM work_orders").await,
        before + 1
    );
    let number: String = created
        .split_whitespace()
        .find(|w| w.starts_with("WO-"))
        .unwrap()
        .trim_matches(|ch: char| !ch.is_ascii_alphanumeric() && ch != '-')
        .to_string();
    // Found again by its number.
    c.goto(&format!("{}/intake", s.base)).await.unwrap();
    wait_for(&c, "#lookup")
        .await
        .send_keys(&number)
        .await
        .unwrap();
    assert_eq!(text_of(&c, "a.order-hit").await, number);
    click(&c, "a.order-hit").await;
    let head = text_of(&c, "#wo-number").await;
    assert!(head.starts_with(&number), "{head}");
    let (start,): (Option<String>,) = db
        .db
        .fetch_one(
            &format!("SELECT appointment_start FROM work_orders WHERE number = '{number}'"),
            vec![],
        )
        .await
        .unwrap();
    assert!(
        start.is_some_and(|t| t.starts_with("2026-03-11")),
        "the booked window"
    );
    shot(&c, "walk-clerk-lookup-zh").await;
    no_console_errors(&c, "intake").await;
}

/// The follow-up caller's day on the demo city: the list holds what is due (completed in the
/// last days, not yet answered, fewer than three unanswered calls), its count is the true total;
/// an answer needs a chosen rating; no answer schedules the retry.
#[tokio::test]
async fn followup_day_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (db, s) = demo_city().await;
    let due = scalar(
        &db.db,
        "SELECT COUNT(*) FROM work_orders wo WHERE wo.status IN ('completed','reviewed','closed') \
         AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.work_order_id = wo.id) \
         AND NOT EXISTS (SELECT 1 FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'refused') \
         AND (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') < 3",
    )
    .await;
    assert!((5..=150).contains(&due), "a day or two of calls: {due}");
    login(&c, &s, "followup1").await;
    c.goto(&format!("{}/follow-ups", s.base)).await.unwrap();
    assert_eq!(text_of(&c, "#to-call").await, due.to_string());
    shot(&c, "walk-followup-zh").await;
    // 50 calls a page: the next page lists the rest, and leads back.
    if due > 50 {
        assert_eq!(text_of(&c, "#calls-shown").await, "第 1–50 张");
        click(&c, "#next-page").await;
        let last = format!("第 51–{} 张", due.min(100));
        for _ in 0..100 {
            if text_of(&c, "#calls-shown").await == last {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(text_of(&c, "#calls-shown").await, last);
        let rows = c
            .find_all(Locator::Css("#follow-ups tbody tr"))
            .await
            .unwrap()
            .len() as i64;
        assert_eq!(rows, due.min(100) - 50);
        shot(&c, "walk-followup-page-2").await;
        c.goto(&format!("{}/follow-ups", s.base)).await.unwrap();
    }
    // Saving without a rating is refused; with one it is kept.
    let first = wait_for(&c, "#follow-ups tbody tr").await;
    let row = first.attr("id").await.unwrap().unwrap();
    click(&c, &format!("#{row} .save-rating")).await;
    // The answer swaps the row: read the refusal once it is there (an element found before the
    // swap goes stale).
    let mut refused = String::new();
    for _ in 0..100 {
        if let Ok(e) = c
            .find(Locator::Css(&format!("#{row} [id^=call-error]")))
            .await
        {
            refused = e.text().await.unwrap_or_default();
        }
        if !refused.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!refused.is_empty(), "no rating chosen");
    c.execute(
        "document.querySelector(arguments[0]).value = 'satisfied';",
        vec![json!(format!("#{row} select[name=rating]"))],
    )
    .await
    .unwrap();
    // The questionnaire's items fold out under the rating; one is rated, the rest left
    // unanswered (none is chosen in advance).
    click(&c, &format!("#{row} .csi-items summary")).await;
    // Its selects are built when the items fold out.
    wait_for(&c, &format!("#{row} .csi-items select")).await;
    let items = c
        .find_all(Locator::Css(&format!("#{row} .csi-items select")))
        .await
        .unwrap();
    assert!(items.len() >= 5, "{} items", items.len());
    for i in &items {
        assert_eq!(i.prop("value").await.unwrap().unwrap_or_default(), "");
    }
    c.execute(
        "document.querySelector(arguments[0]).value = 'neutral';",
        vec![json!(format!("#{row} .csi-items select"))],
    )
    .await
    .unwrap();
    shot(&c, "walk-followup-items").await;
    click(&c, &format!("#{row} .save-rating")).await;
    for _ in 0..50 {
        if scalar(
            &db.db,
            "SELECT COUNT(*) FROM follow_ups WHERE channel = 'phone' AND at >= '2026-03-10'",
        )
        .await
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id: i64 = row.trim_start_matches("call-").parse().unwrap();
    assert_eq!(
        scalar(
            &db.db,
            &format!("SELECT COUNT(*) FROM follow_ups WHERE work_order_id = {id} AND rating = 'satisfied'")
        )
        .await,
        1
    );
    // The overall answer and the one item rated.
    assert_eq!(
        scalar(
            &db.db,
            &format!("SELECT COUNT(*) FROM follow_up_answers WHERE work_order_id = {id}")
        )
        .await,
        2
    );
    no_console_errors(&c, "follow-ups").await;
}

/// Sets the `n`-th field named `name` inside `#{within}` as a picker would.
async fn set_nth(c: &Client, within: &str, name: &str, n: usize, value: &str) {
    c.execute(
        "var e = document.querySelectorAll('#' + arguments[0] + ' [name=\"' + arguments[1] + '\"]')[arguments[2]]; e.value = arguments[3]; e.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(within), json!(name), json!(n), json!(value)],
    )
    .await
    .unwrap();
}

async fn scroll_to(c: &Client, id: &str) {
    c.execute(
        "document.getElementById(arguments[0]).scrollIntoView();",
        vec![json!(id)],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_edits_the_working_calendar_and_an_sla_rule_in_hours() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    login(&c, &s, "admin").await;
    wait_for(&c, "#calendar-form").await;
    no_console_errors(&c, "settings").await;

    // The SLA rules read in hours, each on its clock.
    scroll_to(&c, "sla-form").await;
    shot(&c, "settings-sla-hours-zh").await;
    let respond = wait_for(&c, "#sla-form tbody tr:nth-child(2) input[name=respond]").await;
    assert_eq!(respond.prop("value").await.unwrap().as_deref(), Some("2"));
    // A rule in half hours, around the clock: a typo is refused first, saying where.
    retype(
        &c,
        "#sla-form tbody tr:nth-child(2) input[name=respond]",
        "一个半",
    )
    .await;
    click(&c, "#save-sla").await;
    let e = text_of(&c, "#sla-error").await;
    assert!(e.contains("第 2 行") && e.contains("小时"), "{e}");
    retype(
        &c,
        "#sla-form tbody tr:nth-child(2) input[name=respond]",
        "1.5",
    )
    .await;
    wait_for(&c, "#sla-form tbody tr:nth-child(2) select[name=clock]")
        .await
        .select_by_value("around_the_clock")
        .await
        .unwrap();
    click(&c, "#save-sla").await;
    wait_for(&c, "#sla-saved").await;
    let (clock, hours): (String, f64) = s
        .app
        .db
        .fetch_one(
            "SELECT clock, respond_hours FROM sla_rules WHERE priority = 'normal' AND tier IS NULL",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!((clock.as_str(), hours), ("around_the_clock", 1.5));
    shot(&c, "settings-sla-saved-zh").await;

    // The working calendar: 2026's published holidays are there, folded by year.
    scroll_to(&c, "calendar-form").await;
    shot(&c, "settings-calendar-zh").await;
    let summary = text_of(&c, "#year-2026 summary").await;
    assert!(
        summary.contains("节假日 7 个") && summary.contains("调休上班日 6 天"),
        "{summary}"
    );
    click(&c, "#year-2026 summary").await;
    shot(&c, "settings-calendar-2026-zh").await;

    // The admin works Saturdays until 17:30 and adds 2027's New Year's Day, first with the
    // last day before the first: refused, saying which row, nothing stored.
    click(&c, "#weekday-sat").await;
    retype(&c, "#calendar-closes", "17:30").await;
    click(&c, "#year-new summary").await;
    type_into(&c, "#new-year", "2027").await;
    type_into(&c, "#year-new input[name=h_name]", "元旦").await;
    set_nth(&c, "year-new", "h_from", 0, "2027-01-03").await;
    set_nth(&c, "year-new", "h_until", 0, "2027-01-01").await;
    click(&c, "#save-calendar").await;
    let e = text_of(&c, "#calendar-error").await;
    assert!(
        e.contains("2027 年节假日第 1 行（元旦）") && e.contains("结束日期"),
        "{e}"
    );
    scroll_to(&c, "calendar-form").await;
    shot(&c, "settings-calendar-refused-zh").await;
    assert_eq!(
        rows_in(&s, "settings WHERE name = 'work_calendar'").await,
        0
    );
    // What was typed is still there: fix the first day and save.
    set_nth(&c, "year-new", "h_from", 0, "2027-01-01").await;
    type_into(&c, "#year-new input[name=w_name]", "元旦调休").await;
    set_nth(&c, "year-new", "w_date", 0, "2027-01-02").await;
    click(&c, "#save-calendar").await;
    wait_for(&c, "#calendar-saved").await;
    let summary = text_of(&c, "#year-2027 summary").await;
    assert!(summary.contains("节假日 1 个（共 1 天）"), "{summary}");
    assert!(wait_for(&c, "#weekday-sat")
        .await
        .is_selected()
        .await
        .unwrap());
    click(&c, "#year-2027 summary").await;
    scroll_to(&c, "year-2027").await;
    shot(&c, "settings-calendar-saved-zh").await;
    no_console_errors(&c, "settings").await;

    // Both are in force: the calendar as saved, and a new normal order answered within
    // 1.5 hours around the clock (Tuesday 10 March 10:00 → 11:30).
    let token = api_token(&s, "admin").await;
    let cal: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/work-calendar", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cal["closes"], "17:30");
    assert_eq!(cal["weekdays"][5], "sat");
    assert_eq!(cal["years"][1]["workdays"][0]["date"], "2027-01-02");
    let clerk = api_token(&s, "clerk_a").await;
    let w = api(&s, &clerk, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": "空调不制冷"})).await;
    assert_eq!(w["respond_by"], "2026-03-10T03:30:00Z", "{w}");
    let _ = c.close().await;
    db.cleanup().await;
}

/// The manager's morning with the demo city (a small one): an order's page shows the job whole
/// — device, visits, parts, money, photos, follow-up —, a customer's call becomes a complaint
/// from it, and the complaints page takes it from open to closed with a log of what was done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_reads_an_order_and_works_a_complaint_to_closed() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let mut o = shouhou_app::demo::DemoOptions::city(7, PASSWORD, app.now());
    o.customers = 150;
    o.orders = 700;
    shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
        .await
        .expect("demo loads");
    let s = spawn_app(app).await;
    // A finished order with photos, parts and charges, as the demo has many.
    let (order, number): (i64, String) = s
        .app
        .db
        .fetch_one(
            "SELECT wo.id, wo.number FROM work_orders wo WHERE wo.status = 'closed' \
             AND EXISTS (SELECT 1 FROM photos p WHERE p.work_order_id = wo.id) \
             AND EXISTS (SELECT 1 FROM part_lines l WHERE l.work_order_id = wo.id) \
             AND EXISTS (SELECT 1 FROM charges ch WHERE ch.work_order_id = wo.id) \
             AND wo.device_id IS NOT NULL ORDER BY wo.id DESC LIMIT 1",
            vec![],
        )
        .await
        .expect("the demo has a finished order with photos and parts");
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/work-orders/{order}", s.base))
        .await
        .unwrap();
    let title = text_of(&c, "#wo-number").await;
    assert!(title.starts_with(&number), "{title}");
    assert!(title.contains("已关闭"), "{title}");
    let device = text_of(&c, "#wo-device").await;
    assert!(
        device.contains("序列号") && device.contains("购买日期"),
        "{device}"
    );
    let warranty = text_of(&c, "#wo-warranty").await;
    assert!(
        ["保内", "保外", "主要部件"]
            .iter()
            .any(|w| warranty.contains(w)),
        "{warranty}"
    );
    let visits = text_of(&c, "#wo-visits").await;
    assert!(
        visits.contains("师傅") && visits.contains("已修复"),
        "{visits}"
    );
    let parts = text_of(&c, "#wo-parts").await;
    assert!(parts.contains('¥'), "{parts}");
    let money = text_of(&c, "#wo-money").await;
    assert!(
        money.contains("客户支付") && money.contains("厂家结算"),
        "{money}"
    );
    // The photos are thumbnails the browser actually loaded.
    wait_for(&c, "#wo-photos img.thumb").await;
    let loaded = c
        .execute(
            "return Array.from(document.querySelectorAll('#wo-photos img.thumb')).every(i => i.complete && i.naturalWidth > 0);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, json!(true), "photos load");
    let signature = text_of(&c, "#wo-signature").await;
    assert!(
        signature.contains("客户签字") && !signature.contains("未签字"),
        "{signature}"
    );
    // Nothing raw: no field names, JSON or English words of the store.
    let body = text_of(&c, "main").await;
    for raw in [
        "null",
        "_id",
        "{",
        "dispatch plan",
        "repair_onsite",
        "fixed",
        "in_warranty",
    ] {
        assert!(!body.contains(raw), "the order page shows {raw:?}: {body}");
    }
    no_console_errors(&c, "work-order").await;
    shot(&c, "order-page-manager-zh").await;
    c.execute(
        "document.getElementById('wo-visits').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "order-page-manager-visits-money-zh").await;

    // The customer calls to complain: registered from the order, its page opens.
    click(&c, "#new-complaint summary").await;
    c.execute(
        "document.querySelector('#new-complaint select[name=category]').value = 'quality'; document.querySelector('#new-complaint select[name=severity]').value = 'severe';",
        vec![],
    )
    .await
    .unwrap();
    type_into(&c, "#complaint-description", "修好两天又不制冷了，要求换机").await;
    click(&c, "#complaint-create").await;
    let status = text_of(&c, "#complaint-status").await;
    assert_eq!(status, "处理中");
    assert_eq!(text_of(&c, "#complaint-category").await, "维修质量");
    assert_eq!(text_of(&c, "#complaint-severity").await, "严重");
    let (kid,): (i64,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT MAX(id) FROM complaints WHERE work_order_id = {order}"),
            vec![],
        )
        .await
        .unwrap();

    // The complaints page (from the menu): open ones soonest due first, the true total.
    click(&c, "header a[href='/complaints']").await;
    let heading = text_of(&c, "#complaints-heading").await;
    let (open,): (i64,) = s
        .app
        .db
        .fetch_one(
            "SELECT COUNT(*) FROM complaints WHERE status = 'open'",
            vec![],
        )
        .await
        .unwrap();
    assert!(heading.contains(&format!("共 {open} 条")), "{heading}");
    let row = text_of(&c, &format!("#complaint-{kid}")).await;
    assert!(
        row.contains(&number) && row.contains("维修质量") && row.contains("严重"),
        "{row}"
    );
    no_console_errors(&c, "complaints").await;
    shot(&c, "complaints-open-zh").await;
    click(&c, "#show-closed").await;
    wait_for(&c, "#show-closed.button").await;
    shot(&c, "complaints-closed-zh").await;
    click(&c, "#show-open").await;

    // Opened, an action logged, closed with its resolution.
    click(&c, &format!("#complaint-{kid} a.complaint-open")).await;
    type_into(&c, "#action-note", "已致电客户致歉，约定明早上门复查").await;
    click(&c, "#add-action").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//table[@id='complaint-log']//td[contains(., '约定明早上门复查')]",
        ))
        .await
        .expect("the action is in the log");
    shot(&c, "complaint-open-zh").await;
    type_into(&c, "#resolution", "复查后更换压缩机，客户确认正常").await;
    click(&c, "#close-complaint").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#complaint-resolution"))
        .await
        .expect("closed");
    assert_eq!(text_of(&c, "#complaint-status").await, "已办结");
    let log = text_of(&c, "#complaint-log").await;
    assert!(log.contains("办结：复查后更换压缩机"), "{log}");
    no_console_errors(&c, "complaint").await;
    shot(&c, "complaint-closed-zh").await;
    let (status, closed): (String, Option<String>) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT status, CAST(closed_at AS TEXT) FROM complaints WHERE id = {kid}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, "closed");
    assert!(closed.is_some());

    // The order's page lists it, closed.
    c.goto(&format!("{}/work-orders/{order}", s.base))
        .await
        .unwrap();
    let after = text_of(&c, "#wo-after").await;
    assert!(
        after.contains("维修质量") && after.contains("已办结"),
        "{after}"
    );
    let _ = c.close().await;
    db.cleanup().await;
}

/// A PUT/PATCH/POST to the API that must succeed; its answer.
async fn api_send(s: &TestServer, token: &str, method: &str, path: &str, body: Value) -> Value {
    let c = reqwest::Client::new();
    let url = format!("{}/api/v1{path}", s.base);
    let req = match method {
        "PUT" => c.put(url),
        "PATCH" => c.patch(url),
        _ => c.post(url),
    };
    let r = req.bearer_auth(token).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{method} {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

/// Two orders booked today on the fixture's device for tech_a, planned and committed, after an
/// earlier order on the same device that tech_a fixed. Returns the route's order ids in stop
/// order with their planned arrival (HH:MM Shanghai).
async fn planned_day(s: &TestServer, f: &shouhou_testkit::Fixture) -> Vec<(i64, String)> {
    let disp = api_token(s, "dispatcher1").await;
    let tech = api_token(s, "tech_a").await;
    let first = api(s, &disp, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": "冰箱不制冷，冷藏室是热的"})).await;
    let first = first["id"].as_i64().unwrap();
    let t = format!("/work-orders/{first}/transitions");
    api(
        s,
        &disp,
        &t,
        json!({"to": "assigned", "technician_id": f.tech_a_id}),
    )
    .await;
    for to in ["accepted", "en_route", "on_site"] {
        api(s, &tech, &t, json!({"to": to})).await;
    }
    api_send(
        s,
        &tech,
        "PUT",
        &format!("/work-orders/{first}/report"),
        json!({"findings": "温控器失灵", "work_done": "更换温控器"}),
    )
    .await;
    api(s, &tech, &t, json!({"to": "completed"})).await;
    for fault in ["冷冻室结霜严重", "门封条漏冷"] {
        api(s, &disp, "/work-orders", json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": fault,
            "appointment_start": "2026-03-10T03:00:00Z", "appointment_end": "2026-03-10T09:00:00Z"})).await;
    }
    let plan = api(
        s,
        &disp,
        "/dispatch/plans",
        json!({"store_id": f.store_a, "date": "2026-03-10", "seconds": 1}),
    )
    .await;
    let committed = api(
        s,
        &disp,
        &format!("/dispatch/plans/{}/commit", plan["id"]),
        json!({}),
    )
    .await;
    let mut out = vec![];
    for stop in committed["routes"][0]["stops"].as_array().unwrap() {
        let id = stop["work_order_id"].as_i64().unwrap();
        let w: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/work-orders/{id}", s.base))
            .bearer_auth(&disp)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let at: chrono::DateTime<chrono::Utc> =
            w["planned_arrival"].as_str().unwrap().parse().unwrap();
        let local = at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        out.push((id, local.format("%H:%M").to_string()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technician_day_on_a_phone_route_navigation_kb_history_decline_and_revisit() {
    let Some((_driver, c)) = browser_sized(true).await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
    let s = spawn_app(app).await;
    let route = planned_day(&s, &f).await;
    assert_eq!(route.len(), 2, "{route:?}");

    // Today's route in stop order, each with its planned arrival and three map buttons.
    login(&c, &s, "tech_a").await;
    wait_for(&c, "#route-title").await;
    let ids: Value = c
        .execute("return Array.from(document.querySelectorAll('#stops > li')).map(function (l) { return l.id; });", vec![])
        .await
        .unwrap();
    let want: Vec<String> = route.iter().map(|(id, _)| format!("stop-{id}")).collect();
    assert_eq!(ids, json!(want), "route in stop order");
    for (id, hhmm) in &route {
        assert_eq!(
            text_of(&c, &format!("#stop-{id} .planned-time")).await,
            *hhmm
        );
    }
    let buttons: Value = c
        .execute(&format!("return Array.from(document.querySelectorAll('#stop-{} .nav-links a')).map(function (a) {{ var r = a.getBoundingClientRect(); return [a.textContent.trim(), Math.round(r.top), r.right <= 360]; }});", route[0].0), vec![])
        .await
        .unwrap();
    let b = buttons.as_array().unwrap();
    assert_eq!(
        b.iter().map(|x| x[0].clone()).collect::<Vec<_>>(),
        vec![json!("高德导航"), json!("百度导航"), json!("苹果地图")]
    );
    assert!(
        b.iter().all(|x| x[1] == b[0][1] && x[2] == json!(true)),
        "one row inside the screen: {buttons}"
    );
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 360,
        "no sideways scrolling: {width}"
    );
    no_script_errors(&c, "tech-day").await;
    shot(&c, "phone-day-route").await;

    // The first stop: the device's history, then the knowledge base in the phone layout and back.
    let (first, _) = route[0].clone();
    click(&c, &format!("#stop-{first} .stop-link")).await;
    wait_for(&c, "#device-history li").await;
    let h = text_of(&c, "#device-history").await;
    assert!(
        h.contains("2026-03-10")
            && h.contains("上门维修")
            && h.contains("已修复")
            && h.contains("冰箱不制冷"),
        "{h}"
    );
    shot(&c, "phone-order-history").await;
    click(&c, "#kb-link").await;
    wait_for(&c, "#kb-form").await;
    let mobile = c
        .execute("return document.body.className;", vec![])
        .await
        .unwrap();
    assert_eq!(mobile, json!("mobile"), "phone layout");
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(width.as_i64().unwrap() <= 360, "kb fits the phone: {width}");
    shot(&c, "phone-kb").await;
    click(&c, "#back-to-order").await;
    wait_for(&c, "#device-history").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with(&format!("/tech/orders/{first}")));

    // Decline the first stop: a reason from the list and a word; back to the day without it.
    click(&c, "#decline summary").await;
    click(&c, "#decline-reason option[value='parts']").await;
    type_into(&c, "#decline-note", "车上没有压缩机").await;
    shot(&c, "phone-decline").await;
    click(&c, "#decline-send").await;
    wait_for(&c, "#route-title").await;
    for _ in 0..40 {
        if c.find(Locator::Css(&format!("#stop-{first}")))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        c.find(Locator::Css(&format!("#stop-{first}")))
            .await
            .is_err(),
        "declined: off the day"
    );
    let (status, tech): (String, Option<i64>) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT status, technician_id FROM work_orders WHERE id = {first}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!((status.as_str(), tech), ("new", None));

    // The second stop: on site, the fault needs a part; the technician books the next visit.
    let (second, _) = route[1].clone();
    let tech_token = api_token(&s, "tech_a").await;
    let t = format!("/work-orders/{second}/transitions");
    for to in ["accepted", "en_route", "on_site"] {
        api(&s, &tech_token, &t, json!({"to": to})).await;
    }
    api_send(
        &s,
        &tech_token,
        "PUT",
        &format!("/work-orders/{second}/report"),
        json!({"findings": "压缩机损坏", "work_done": "待换压缩机"}),
    )
    .await;
    c.goto(&format!("{}/tech/orders/{second}", s.base))
        .await
        .unwrap();
    click(&c, "#outcome option[value='needs_parts']").await;
    click(&c, "#finish").await;
    wait_for(&c, "#revisit-form").await;
    click(&c, "#revisit-day option[value='2026-03-12']").await;
    click(&c, "#revisit-window option[value='13:00']").await;
    click(&c, "#revisit-save").await;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath("//div[contains(., '03-12 13:00 – 15:00')]"))
        .await
        .expect("the booked window shows");
    shot(&c, "phone-revisit").await;
    let (start,): (chrono::DateTime<chrono::Utc>,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT appointment_start FROM work_orders WHERE id = {second}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        start.to_rfc3339(),
        "2026-03-12T05:00:00+00:00",
        "13:00 Shanghai"
    );

    // The day now lists it among the later appointments; then the English switch.
    click(&c, "#back-to-day").await;
    wait_for(&c, &format!("#later-list #stop-{second}")).await;
    click(&c, "#lang-switch").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//html[@lang='en']"))
        .await
        .expect("english");
    let title = text_of(&c, "#route-title").await;
    assert_eq!(title, "Today's route");
    no_script_errors(&c, "tech-day-en").await;
    shot(&c, "phone-day-en").await;
    click(&c, &format!("#stop-{second} .stop-link")).await;
    wait_for(&c, "#device-history li").await;
    let h = text_of(&c, "#device-history").await;
    assert!(h.contains("On-site repair") && h.contains("Fixed"), "{h}");
    shot(&c, "phone-order-en").await;
    let _ = c.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_qr_page_hotline_eta_and_charge_note_on_a_phone() {
    let Some((_driver, c)) = browser_sized(true).await else {
        return;
    };
    let db = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(db.db.clone());
    let f = seed(&app).await;
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
    let s = spawn_app(app).await;
    let admin = api_token(&s, "admin").await;
    api_send(
        &s,
        &admin,
        "PATCH",
        &format!("/org-units/{}", f.store_a),
        json!({"phone": "0571-85061234"}),
    )
    .await;
    api_send(
        &s,
        &admin,
        "PUT",
        "/fee-rules",
        json!([{"kind": "repair_onsite", "category": "*", "labour_fen": 8000, "travel_fen": 5000}]),
    )
    .await;
    let clerk = api_token(&s, "clerk_a").await;
    let purchase = (s.app.today() - chrono::Duration::days(1900)).to_string();
    let old = api(&s, &clerk, "/devices", json!({"customer_id": f.customer, "product_id": f.product, "serial": "HR2404OLD5", "purchase_date": purchase, "policy_id": f.policy})).await;
    let old_token = old["qr_token"].as_str().unwrap().to_string();

    // Out of warranty: the hotline and, before the report form, what the visit costs.
    c.goto(&format!("{}/s/{old_token}", s.base)).await.unwrap();
    wait_for(&c, "#hotline").await;
    assert!(text_of(&c, "#hotline").await.contains("0571-85061234"));
    let note = text_of(&c, "#charge-note").await;
    assert!(
        note.contains("此设备已过保修期")
            && note.contains("上门费 ¥50")
            && note.contains("人工费 ¥80"),
        "{note}"
    );
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 360,
        "no sideways scrolling: {width}"
    );
    no_script_errors(&c, "qr-charge").await;
    shot(&c, "qr-charge-note").await;
    click(&c, "#public-lang").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//html[@lang='en']"))
        .await
        .expect("english");
    let note = text_of(&c, "#charge-note").await;
    assert!(
        note.contains("out of warranty") && note.contains("Travel ¥50"),
        "{note}"
    );
    shot(&c, "qr-charge-note-en").await;

    // In warranty, booked today and planned: the expected arrival instead of "to be arranged".
    let route = planned_day(&s, &f).await;
    let (fresh,): (String,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT qr_token FROM devices WHERE id = {}", f.device),
            vec![],
        )
        .await
        .unwrap();
    // The device's latest order is the last one created: find its planned time.
    let (latest,): (i64,) = s
        .app
        .db
        .fetch_one(
            &format!(
                "SELECT MAX(id) FROM work_orders WHERE device_id = {}",
                f.device
            ),
            vec![],
        )
        .await
        .unwrap();
    let hhmm = route
        .iter()
        .find(|(id, _)| *id == latest)
        .expect("planned")
        .1
        .clone();
    c.goto(&format!("{}/s/{fresh}", s.base)).await.unwrap();
    wait_for(&c, "#track-eta").await;
    assert_eq!(text_of(&c, "#track-eta").await, format!("预计 {hhmm} 到达"));
    assert!(
        c.find(Locator::Css("#charge-note")).await.is_err(),
        "in warranty: no charge"
    );
    shot(&c, "qr-eta").await;
    c.goto(&format!("{}/s/{fresh}?lang=en", s.base))
        .await
        .unwrap();
    wait_for(&c, "#track-eta").await;
    assert_eq!(
        text_of(&c, "#track-eta").await,
        format!("Expected at {hhmm}")
    );
    assert!(text_of(&c, "#hotline").await.contains("0571-85061234"));
    shot(&c, "qr-eta-en").await;
    let _ = c.close().await;
    db.cleanup().await;
}

/// The manager's dashboard on the demo city: the year's KPIs with numerator and denominator
/// equal to the API's, the change against the year before and a trend; the comparison by store
/// and by technician with the bar chart, the weekly p-chart and the technicians' funnel plot;
/// a figure clicked lists the orders behind it.
#[tokio::test]
async fn manager_reads_the_dashboard_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (_db, s) = demo_city().await;
    let today = s.app.today();
    let from = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap();
    let token = api_token(&s, "manager1").await;
    let r: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/kpis?from={from}&to={today}", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ftf = &r["rows"][0]["kpis"]["first_time_fix_rate"];
    let (num, den) = (
        ftf["numerator"].as_i64().unwrap(),
        ftf["denominator"].as_i64().unwrap(),
    );
    assert!(den > 20, "the demo's year has repairs: {ftf}");
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/kpis?period=year", s.base))
        .await
        .unwrap();
    assert_eq!(
        text_of(&c, "#kpi-first_time_fix_rate .kpi-num").await,
        num.to_string()
    );
    assert_eq!(
        text_of(&c, "#kpi-first_time_fix_rate .kpi-den").await,
        den.to_string()
    );
    let shown = text_of(&c, "#kpi-first_time_fix_rate .kpi-value").await;
    let expected = format!("{:.1}%", num as f64 * 100.0 / den as f64);
    assert_eq!(shown, expected);
    // Every KPI the records feed has a card; the rest say they have no data yet.
    for key in [
        "arrival_compliance",
        "repair_cycle_hours",
        "repeat_repair_rate",
        "satisfaction_rate",
        "complaint_rate",
        "calls_per_technician_day",
        "response_time_minutes",
        "service_revenue",
    ] {
        let v = text_of(&c, &format!("#kpi-{key} .kpi-value")).await;
        assert!(!v.is_empty() && v != "—", "{key}: {v}");
    }
    assert!(text_of(&c, "#kpi-no-data").await.contains("备件准时到货率"));
    // Nothing a person reads is a raw key.
    let body = text_of(&c, "main").await;
    assert!(!body.contains("first_time_fix_rate") && !body.contains("repair_onsite"));
    no_console_errors(&c, "kpis").await;
    shot(&c, "kpi-dashboard-year").await;
    // By store: a row per store, the bar chart of the chosen KPI.
    let stores = c
        .find_all(Locator::Css("#kpi-groups tbody tr"))
        .await
        .unwrap()
        .len();
    assert!(stores >= 3, "{stores} stores");
    wait_for(&c, "#kpi-bars svg").await;
    c.execute(
        "document.getElementById('kpi-groups').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "kpi-dashboard-by-store").await;
    wait_for(&c, "#kpi-p-chart svg").await;
    wait_for(&c, "#kpi-funnel svg").await;
    c.execute(
        "document.getElementById('kpi-p-chart').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "kpi-dashboard-charts").await;
    // The denominator lists the orders behind it, as many as it says.
    click(&c, "#kpi-first_time_fix_rate .kpi-den").await;
    let total = text_of(&c, "#kpi-orders-total").await;
    assert!(total.contains(&format!("{den} 张工单")), "{total}");
    assert!(text_of(&c, "#kpi-orders-heading")
        .await
        .contains("一次修复率"));
    shot(&c, "kpi-orders-behind").await;
    // The numerator from there.
    click(&c, "#kpi-other-side").await;
    let total = text_of(&c, "#kpi-orders-total").await;
    assert!(total.contains(&format!("{num} 张工单")), "{total}");
    // Calls per technician-day: its numerator lists the calls, as many as it says; its
    // denominator (technician-days) is no list of records, so it links nowhere.
    c.goto(&format!("{}/kpis?period=year", s.base))
        .await
        .unwrap();
    let calls = text_of(&c, "#kpi-calls_per_technician_day .kpi-num").await;
    let den_links = c
        .find_all(Locator::Css("#kpi-calls_per_technician_day a.kpi-den"))
        .await
        .unwrap();
    assert!(den_links.is_empty(), "technician-days link nowhere");
    assert!(!text_of(&c, "#kpi-calls_per_technician_day .kpi-den")
        .await
        .is_empty());
    click(&c, "#kpi-calls_per_technician_day .kpi-num").await;
    let total = text_of(&c, "#kpi-orders-total").await;
    assert!(total.contains(&format!("{calls} 次上门")), "{total}");
    assert!(
        c.find_all(Locator::Css("#kpi-other-side"))
            .await
            .unwrap()
            .is_empty(),
        "no second side"
    );
    // By technician, in English.
    c.goto(&format!(
        "{}/kpis?period=year&by=technician&lang=en",
        s.base
    ))
    .await
    .unwrap();
    let techs = c
        .find_all(Locator::Css("#kpi-groups tbody tr"))
        .await
        .unwrap()
        .len();
    assert!(techs >= 6, "{techs} technicians");
    shot(&c, "kpi-dashboard-technicians").await;
}

/// Satisfaction by item on the demo city: the CSI page's radar and item table agree with the
/// API, the improvement priority is marked, the grouping by technician reads; the dashboard
/// narrowed to a technician draws the technician's profile against the team; an admin reads the
/// questionnaires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_reads_satisfaction_by_item_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (_db, s) = demo_city().await;
    let today = s.app.today();
    let from = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap();
    let token = api_token(&s, "manager1").await;
    let get = |path: String| {
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .get(path)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let t = get(format!("{}/api/v1/csi?from={from}&to={today}", s.base)).await;
    let items = t["rows"][0]["items"].as_array().unwrap().clone();
    assert!(items.len() >= 6, "the demo's questionnaires: {t}");
    let overall = items.iter().find(|i| i["item"] == "整体满意").unwrap();
    assert!(overall["n"].as_i64().unwrap() > 100, "{overall}");
    // Lateness shows: arriving on time is rated below the service's manner.
    let csi = |name: &str| {
        items
            .iter()
            .find(|i| i["item"] == name)
            .and_then(|i| i["csi"].as_f64())
            .unwrap()
    };
    assert!(csi("上门准时") < csi("服务态度"), "{t}");
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/csi?period=year", s.base))
        .await
        .unwrap();
    wait_for(&c, "#csi-radar svg").await;
    let rows = c
        .find_all(Locator::Css("#csi-items tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), items.len());
    let table = text_of(&c, "#csi-items").await;
    assert!(
        table.contains(&format!("{:.1}", overall["csi"].as_f64().unwrap())),
        "{table}"
    );
    wait_for(&c, "#csi-items td.priority-1").await;
    no_console_errors(&c, "csi").await;
    shot(&c, "csi-radar").await;
    c.goto(&format!("{}/csi?period=year&by=technician", s.base))
        .await
        .unwrap();
    let techs = c
        .find_all(Locator::Css("#csi-groups tbody tr"))
        .await
        .unwrap()
        .len();
    assert!(techs >= 6, "{techs} technicians");
    c.execute(
        "document.getElementById('csi-groups').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "csi-by-technician").await;
    // The dashboard: the CSI radar, and a technician's profile once narrowed to one.
    let k = get(format!(
        "{}/api/v1/kpis?from={from}&to={today}&by=technician",
        s.base
    ))
    .await;
    let tech = k["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["group"]["id"].as_i64())
        .unwrap();
    c.goto(&format!("{}/kpis?period=year&technician_id={tech}", s.base))
        .await
        .unwrap();
    wait_for(&c, "#kpi-technician-radar svg").await;
    wait_for(&c, "#kpi-csi-radar svg").await;
    c.execute(
        "document.getElementById('kpi-technician-radar').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "kpi-technician-radar").await;
    // The questionnaires, as the admin edits them.
    logout(&c).await;
    login(&c, &s, "admin").await;
    c.goto(&format!("{}/csi/questionnaires", s.base))
        .await
        .unwrap();
    let forms = c
        .find_all(Locator::Css("form.questionnaire"))
        .await
        .unwrap()
        .len();
    assert_eq!(forms, 3, "general, Haier, install");
    wait_for(&c, "#questionnaire-new").await;
    shot(&c, "csi-questionnaires").await;
}

/// A manager sets a store's revenue target on the targets page, in place; the sheet shows the
/// head office's target beside it and flags the stores that do not add up; the dashboard's card
/// then carries the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_sets_a_store_target_and_sees_it_on_the_dashboard() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let t = shouhou_testkit::sqlite().await;
    let (app, _) = test_app(t.db.clone());
    let f = seed(&app).await;
    // The company's March revenue target, set by head office.
    shouhou_app::targets::set(
        &app,
        &f.manager,
        shouhou_app::targets::SetTarget {
            kpi: shouhou_domain::kpi::Kpi::ServiceRevenue,
            unit_id: Some(f.hq),
            technician_id: None,
            period_kind: shouhou_domain::targets::PeriodKind::Month,
            period_start: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            committed: 1_000_000.0,
            stretch: 1_200_000.0,
            effective_from: None,
        },
    )
    .await
    .unwrap();
    let s = spawn_app(app).await;
    login(&c, &s, "manager1").await;
    click(&c, "header a[href='/targets']").await;
    wait_for(&c, "#targets-table").await;
    // Pick service revenue for this month.
    c.goto(&format!(
        "{}/targets?kpi=service_revenue&period_kind=month&day=2026-03-10",
        s.base
    ))
    .await
    .unwrap();
    let row = format!("#line-unit-{}", f.store_a);
    wait_for(&c, &row).await;
    assert!(
        text_of(&c, &row).await.contains("¥10000.00"),
        "the parent's target beside"
    );
    retype(&c, &format!("{row} .target-committed-input"), "6000").await;
    retype(&c, &format!("{row} .target-stretch-input"), "7000").await;
    click(&c, &format!("#form-unit-{} button", f.store_a)).await;
    wait_for(&c, "#targets-message").await;
    // Store B has none yet: the company's line is flagged.
    wait_for(&c, &format!("#line-unit-{}.mismatch", f.hq)).await;
    wait_for(&c, "#targets-mismatch-note").await;
    assert!(text_of(&c, &row).await.contains("未达成"));
    no_console_errors(&c, "targets").await;
    shot(&c, "targets_sheet").await;
    // The dashboard of the store, this month: the revenue card carries the target's status.
    c.goto(&format!(
        "{}/kpis?period=month&unit_id={}",
        s.base, f.store_a
    ))
    .await
    .unwrap();
    let card = text_of(&c, "#kpi-service_revenue .kpi-target").await;
    assert!(
        card.contains("未达成") && card.contains("¥6000.00"),
        "{card}"
    );
    shot(&c, "targets_dashboard").await;
    t.cleanup().await;
}

/// Points on the demo city: the manager reads last month's ranking (积分排行) — ranked rows
/// first by points, those with too few visits listed apart with why — opens a technician's
/// entries and adds an adjustment; the technician reads its own points, rank and entries on the
/// phone.
#[tokio::test]
async fn points_ranking_and_a_technicians_own_points_on_the_demo_city() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (db, s) = demo_city().await;
    assert!(scalar(&db.db, "SELECT COUNT(*) FROM points_entries").await > 0);
    login(&c, &s, "manager1").await;
    c.goto(&format!("{}/points?month=2026-02", s.base))
        .await
        .unwrap();
    wait_for(&c, "#points-heading").await;
    assert!(text_of(&c, "#points-heading").await.contains("积分排行"));
    let ranked = c.find_all(Locator::Css("#ranking tbody tr")).await.unwrap();
    let unranked = c
        .find_all(Locator::Css("#unranked tbody tr"))
        .await
        .unwrap();
    assert!(!ranked.is_empty() || !unranked.is_empty(), "nobody listed");
    if !ranked.is_empty() {
        assert_eq!(text_of(&c, "#ranking tbody tr td").await, "1");
    }
    if !unranked.is_empty() {
        assert!(text_of(&c, "#unranked tbody").await.contains("还差"));
    }
    shot(&c, "points-ranking-zh").await;
    no_console_errors(&c, "points").await;
    // The entries behind the first technician's points.
    click(&c, ".entries-link").await;
    wait_for(&c, "#tech-points-heading").await;
    let before = text_of(&c, "#tech-total").await;
    wait_for(&c, "#entries tbody tr").await;
    type_into(&c, "#adjust-points", "2").await;
    type_into(&c, "#adjust-note", "协助新人完成安装").await;
    click(&c, "#adjust-submit").await;
    for _ in 0..50 {
        if c.find(Locator::Css("#tech-total")).await.is_ok()
            && text_of(&c, "#tech-total").await != before
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after: f64 = text_of(&c, "#tech-total").await.parse().unwrap();
    assert_eq!(after, before.parse::<f64>().unwrap() + 2.0);
    assert!(text_of(&c, "#entries").await.contains("协助新人完成安装"));
    shot(&c, "points-technician-zh").await;
    no_console_errors(&c, "points technician").await;
    drop(c);

    // The technician's phone.
    let Some((_driver2, p)) = browser_sized(true).await else {
        return;
    };
    login(&p, &s, "tech01").await;
    p.goto(&format!("{}/tech/points?month=2026-02", s.base))
        .await
        .unwrap();
    wait_for(&p, "#my-total").await;
    let standing = text_of(&p, "#my-standing").await;
    assert!(
        standing.contains("名") || standing.contains("未参加排名"),
        "{standing}"
    );
    wait_for(&p, "#my-entries li").await;
    shot(&p, "points-phone-zh").await;
}
