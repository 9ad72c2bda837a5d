//! Security headers on every response: no framing (`X-Frame-Options`, `frame-ancestors`), a
//! Content-Security-Policy that lets a page run only this server's scripts and styles, no MIME
//! sniffing, and no full URL (the QR pages' tokens) in the `Referer` sent elsewhere.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy: scripts, styles, images and requests from this server only; no inline script
/// and no inline style attribute. The one inline `<style>` allowed is the label sheet's, by the
/// hash of its text (the sheet is also written as a file of its own).
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let sheet = STANDARD.encode(Sha256::digest(shouhou_app::labels::SHEET_CSS.as_bytes()));
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-{sheet}'; \
             img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
    })
}

/// Adds the headers a handler did not set itself.
pub async fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    let csp = HeaderValue::from_str(content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    for (name, value) in [
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ] {
        h.entry(name).or_insert(value);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script() {
        let p = content_security_policy();
        assert!(p.contains("script-src 'self';"), "{p}");
        assert!(!p.contains("unsafe"), "{p}");
        assert!(p.contains("frame-ancestors 'none'"));
    }
}
