//! `/metrics` in Prometheus text format: requests by status class and their total duration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 6],
    micros: AtomicU64,
}

pub async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let t = Instant::now();
    let res = next.run(req).await;
    let class = (res.status().as_u16() / 100).min(5) as usize;
    s.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    s.metrics
        .micros
        .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
    res
}

pub async fn render(State(s): State<AppState>) -> String {
    let m = &s.metrics;
    let mut out = String::from(
        "# HELP shouhou_http_requests_total HTTP requests by status class.\n# TYPE shouhou_http_requests_total counter\n",
    );
    for (i, c) in m.by_class.iter().enumerate().skip(1) {
        out.push_str(&format!(
            "shouhou_http_requests_total{{class=\"{i}xx\"}} {}\n",
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP shouhou_http_request_seconds_total Time spent serving requests.\n# TYPE shouhou_http_request_seconds_total counter\n");
    out.push_str(&format!(
        "shouhou_http_request_seconds_total {:.6}\n",
        m.micros.load(Ordering::Relaxed) as f64 / 1e6
    ));
    out
}
