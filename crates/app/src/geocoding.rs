//! Geocoding: an address's coordinates from a service the admin configures (AMap's web service
//! with the store's key). Without one, or when it does not answer, the address is placed by the
//! offline fallback in [`crate::customers`] (the district's centre, else the owning store) and
//! marked "location to confirm" for the dispatcher.
//!
//! The service is a seam: [`Geocoder`] is the trait, [`Amap`] the one provider; tests put their
//! own in [`App::geocoder`](crate::App) and never reach the network.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shouhou_domain::geo::Point;
use shouhou_domain::{validate, Role, ValidationError};
use shouhou_store::repo::{self, versions};
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

/// The name of the setting (row of `settings`, version in `setting_versions`).
const SETTING: &str = "geocoding";
/// How long a lookup may take before the fallback places the address.
const TIMEOUT: Duration = Duration::from_secs(4);
/// AMap's geocoding endpoint.
pub const AMAP_ENDPOINT: &str = "https://restapi.amap.com/v3/geocode/geo";

/// What a service found for an address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub point: Point,
    /// To the house number or a named place; coarser answers (a road, a district) still need
    /// the dispatcher's confirmation.
    pub precise: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeocodeError {
    #[error("the geocoding service did not answer: {0}")]
    Unreachable(String),
    #[error("the geocoding service refused the request: {0}")]
    Refused(String),
}

pub type Lookup<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<Option<Found>, GeocodeError>> + Send + 'a>>;

/// A geocoding service: the place of an address, `None` when it knows none.
pub trait Geocoder: Send + Sync {
    fn geocode<'a>(&'a self, address: &'a str) -> Lookup<'a>;
}

/// AMap's (高德) web-service geocoder.
pub struct Amap {
    client: reqwest::Client,
    key: String,
    city: Option<String>,
    endpoint: String,
}

impl Amap {
    pub fn new(key: &str, city: Option<&str>, endpoint: Option<&str>) -> Result<Amap> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Amap {
            client,
            key: key.to_string(),
            city: city.map(str::to_string),
            endpoint: endpoint.unwrap_or(AMAP_ENDPOINT).to_string(),
        })
    }
}

impl Geocoder for Amap {
    fn geocode<'a>(&'a self, address: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let mut query = vec![
                ("key", self.key.as_str()),
                ("address", address),
                ("output", "JSON"),
            ];
            if let Some(c) = &self.city {
                query.push(("city", c.as_str()));
            }
            // The URL carries the key: errors are reported without it.
            let answer = self
                .client
                .get(&self.endpoint)
                .query(&query)
                .send()
                .await
                .map_err(|e| GeocodeError::Unreachable(e.without_url().to_string()))?;
            let body: serde_json::Value = answer
                .json()
                .await
                .map_err(|e| GeocodeError::Unreachable(e.without_url().to_string()))?;
            parse_amap(&body)
        })
    }
}

/// Reads AMap's answer: `{"status": "1", "geocodes": [{"location": "lng,lat", "level": …}]}`.
/// AMap answers in GCJ-02; the store keeps WGS-84, so the point is converted back.
pub fn parse_amap(body: &serde_json::Value) -> std::result::Result<Option<Found>, GeocodeError> {
    if body["status"].as_str() != Some("1") {
        let info = body["info"].as_str().unwrap_or("unknown answer");
        return Err(GeocodeError::Refused(info.to_string()));
    }
    let Some(first) = body["geocodes"].as_array().and_then(|g| g.first()) else {
        return Ok(None);
    };
    let Some((lng, lat)) = first["location"].as_str().and_then(|l| l.split_once(',')) else {
        return Ok(None);
    };
    let (Ok(lng), Ok(lat)) = (lng.trim().parse::<f64>(), lat.trim().parse::<f64>()) else {
        return Ok(None);
    };
    if validate::latitude(lat, "lat").is_err() || validate::longitude(lng, "lng").is_err() {
        return Ok(None);
    }
    let level = first["level"].as_str().unwrap_or("");
    let precise = matches!(
        level,
        "门牌号" | "兴趣点" | "单元号" | "楼栋" | "楼层" | "房间"
    );
    Ok(Some(Found {
        point: shouhou_domain::geo::gcj02_to_wgs84(Point::new(lat, lng)),
        precise,
    }))
}

/// The services an admin can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Amap,
}

/// The geocoding setting as stored. The key is a secret: it is never shown or logged whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeocodingSettings {
    pub provider: Option<Provider>,
    pub key: Option<String>,
    /// The city the service searches in first (e.g. 杭州).
    pub city: Option<String>,
    /// Another endpoint for the same web service (a proxy); AMap's own when empty.
    pub endpoint: Option<String>,
}

impl GeocodingSettings {
    /// Whether addresses are looked up at all.
    pub fn configured(&self) -> bool {
        self.provider.is_some() && self.key.as_deref().is_some_and(|k| !k.is_empty())
    }

    /// The key as shown: its last four characters.
    pub fn masked_key(&self) -> String {
        match self.key.as_deref() {
            Some(k) if !k.is_empty() => {
                let tail: String = k
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("••••{tail}")
            }
            _ => String::new(),
        }
    }
}

/// The setting and its version (sent back to change it).
pub async fn settings(app: &App) -> Result<(GeocodingSettings, i64)> {
    let s = match repo::settings::get(&app.db, SETTING).await? {
        Some(v) => serde_json::from_str(&v).unwrap_or_default(),
        None => GeocodingSettings::default(),
    };
    Ok((s, versions::setting(&app.db, SETTING).await?))
}

/// What an admin sends: an empty key keeps the stored one; `provider: None` turns lookups off.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct GeocodingInput {
    pub provider: Option<Provider>,
    pub api_key: Option<String>,
    pub city: Option<String>,
    pub endpoint: Option<String>,
}

fn optional(v: Option<&str>, field: &str, max: usize) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    validate::one_line(v, field)?;
    if v.chars().count() > max {
        return Err(AppError::invalid(field, ValidationError::TooLong { max }));
    }
    Ok(Some(v.to_string()))
}

/// Replaces the setting (admin only), based on version `if_match` when given; audited with the
/// key masked.
pub async fn set_settings(
    app: &App,
    actor: &Actor,
    if_match: Option<i64>,
    input: GeocodingInput,
) -> Result<(GeocodingSettings, i64)> {
    actor.require(&[Role::Admin])?;
    let (before, _) = settings(app).await?;
    let key = match optional(input.api_key.as_deref(), "api_key", 64)? {
        Some(k) if k.chars().all(|c| c.is_ascii_alphanumeric()) => Some(k),
        Some(_) => {
            return Err(AppError::invalid(
                "api_key",
                ValidationError::Invalid {
                    zh: "密钥只含字母和数字（高德控制台里的“Key”）".into(),
                    en: "the key has letters and digits only (the “Key” in AMap's console)".into(),
                },
            ))
        }
        None => before.key.clone(),
    };
    let endpoint = optional(input.endpoint.as_deref(), "endpoint", 200)?;
    if let Some(e) = &endpoint {
        if !(e.starts_with("https://") || e.starts_with("http://")) {
            return Err(AppError::invalid(
                "endpoint",
                ValidationError::Invalid {
                    zh: "接口地址以 https:// 或 http:// 开头".into(),
                    en: "the endpoint starts with https:// or http://".into(),
                },
            ));
        }
    }
    let after = GeocodingSettings {
        provider: input.provider,
        key,
        city: optional(input.city.as_deref(), "city", 40)?,
        endpoint,
    };
    if after.provider.is_some() && after.key.is_none() {
        return Err(AppError::invalid("api_key", ValidationError::Required));
    }
    let value = serde_json::to_string(&after).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = app.db.begin().await?;
    let version = match versions::bump_setting(&mut tx, SETTING, if_match).await? {
        Ok(v) => v,
        Err(current) => return Err(crate::audit::stale(&mut tx, SETTING, 0, current).await),
    };
    repo::settings::put(&mut tx, SETTING, &value, app.now()).await?;
    let shown = |s: &GeocodingSettings| {
        serde_json::json!({
            "provider": s.provider,
            "key": s.masked_key(),
            "city": s.city,
            "endpoint": s.endpoint,
        })
    };
    let changes = crate::audit::diff(&shown(&before), &shown(&after));
    repo::audit::insert(
        &mut tx,
        SETTING,
        0,
        "update",
        Some(actor.id()),
        app.now(),
        &changes,
    )
    .await?;
    tx.commit().await?;
    Ok((after, version))
}

/// The service to ask, if any: the one a test put in the app, else the configured one.
pub async fn geocoder(app: &App) -> Result<Option<Arc<dyn Geocoder>>> {
    if let Some(g) = &app.geocoder {
        return Ok(Some(g.clone()));
    }
    let (s, _) = settings(app).await?;
    if !s.configured() {
        return Ok(None);
    }
    match (s.provider, s.key.as_deref()) {
        (Some(Provider::Amap), Some(key)) => Ok(Some(Arc::new(Amap::new(
            key,
            s.city.as_deref(),
            s.endpoint.as_deref(),
        )?))),
        _ => Ok(None),
    }
}

/// Whether addresses are looked up (for the pages to say so plainly when not).
pub async fn is_configured(app: &App) -> bool {
    app.geocoder.is_some() || settings(app).await.is_ok_and(|(s, _)| s.configured())
}

/// The places of `addresses` the service finds (`None` where it finds none, where the address
/// came with coordinates, or when no service is configured or it fails: the fallback places
/// those). Runs outside any transaction: a lookup may take seconds.
pub async fn locate_all(app: &App, addresses: &[(&str, bool)]) -> Vec<Option<Found>> {
    let mut out = vec![None; addresses.len()];
    if !addresses.iter().any(|(_, needed)| *needed) {
        return out;
    }
    let g = match geocoder(app).await {
        Ok(Some(g)) => g,
        Ok(None) => return out,
        Err(e) => {
            tracing::warn!(error = %e, "geocoding setting unreadable");
            return out;
        }
    };
    for (slot, (address, needed)) in out.iter_mut().zip(addresses) {
        if !needed {
            continue;
        }
        match g.geocode(address).await {
            Ok(found) => *slot = found,
            Err(e) => {
                tracing::warn!(error = %e, "geocoding failed; the address is placed by the fallback");
                // One failure is enough: the service is down or the key is wrong.
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amap_answers_are_read() {
        let ok = json!({"status": "1", "info": "OK", "count": "1", "geocodes": [
            {"formatted_address": "浙江省杭州市西湖区文三路398号", "level": "门牌号", "location": "120.125000,30.276000"}
        ]});
        // AMap's GCJ-02 point comes back as WGS-84: a few hundred metres to the north-west.
        let found = parse_amap(&ok).unwrap().unwrap();
        assert!(found.precise);
        let gcj = shouhou_domain::geo::wgs84_to_gcj02(found.point);
        assert!((gcj.lat - 30.276).abs() < 1e-7 && (gcj.lng - 120.125).abs() < 1e-7);
        assert!(found.point.lat > 30.276 && found.point.lng < 120.125);
        let coarse =
            json!({"status": "1", "geocodes": [{"level": "区县", "location": "120.13,30.26"}]});
        assert_eq!(
            parse_amap(&coarse).map(|f| f.map(|f| f.precise)),
            Ok(Some(false))
        );
        assert_eq!(
            parse_amap(&json!({"status": "1", "geocodes": []})),
            Ok(None)
        );
        assert_eq!(
            parse_amap(&json!({"status": "0", "info": "INVALID_USER_KEY"})),
            Err(GeocodeError::Refused("INVALID_USER_KEY".into()))
        );
    }

    #[test]
    fn the_key_is_shown_masked() {
        let s = GeocodingSettings {
            provider: Some(Provider::Amap),
            key: Some("0123456789abcdef".into()),
            ..Default::default()
        };
        assert_eq!(s.masked_key(), "••••cdef");
        assert!(s.configured());
        assert!(!GeocodingSettings::default().configured());
    }
}
