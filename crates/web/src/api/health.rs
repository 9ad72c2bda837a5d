use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

/// Liveness and store reachability.
pub async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    let ok = s
        .app
        .db
        .fetch_one::<(i64,)>("SELECT CAST(1 AS BIGINT)", vec![])
        .await
        .is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "status": if ok { "ok" } else { "store unreachable" } })),
    )
}
