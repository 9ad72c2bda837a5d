//! Sign-in, sessions and passwords. Passwords are argon2id hashes with OWASP parameters
//! (19 MiB, 2 iterations, 1 lane); sessions live in the store so several servers share them.
//!
//! The sign-in door. Failed sign-ins are counted in the store (`sign_in_attempts`, shared by all
//! server processes) per normalised username — known or not, so an unknown username answers
//! exactly like a wrong password, also once locked — on two counters:
//!
//! - per username and client address: [`Settings::max_failed_logins`] (5) failures lock that
//!   address out of that username for [`Settings::lockout_minutes`] (15);
//! - per username over all addresses: [`Settings::max_failed_logins_per_user`] (20) failures
//!   lock every address out of it for as long.
//!
//! So an attacker at one address locks only themselves out; the real user, signing in from
//! elsewhere, is locked out only by guessing from four or more addresses at once, which the
//! per-user ceiling still bounds to 20 guesses per 15 minutes. (The web layer also limits sign-in
//! requests per client address, across usernames.) An attempt is counted *before* the password
//! is checked, by one conditional upsert per counter that refuses at the ceiling, so parallel
//! requests cannot get more checks than the ceiling; a success gives its attempt back and clears
//! its address's counter. A counter is forgotten `lockout_minutes` after its last counted attempt,
//! so it starts again once a lock has run out.
//!
//! Hashes run on the blocking pool behind [`HashGate`]: at most one per core at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use shouhou_domain::{Lang, ValidationError};
use shouhou_store::records::User;
use shouhou_store::repo::sign_in::{self, Counter, Reservation, ALL_CLIENTS};
use shouhou_store::repo::{sessions, users};
use tokio::sync::Semaphore;

use crate::actor::{actor_cached, Actor};
#[cfg(doc)]
use crate::Settings;
use crate::{App, AppError, Result};

fn argon() -> Argon2<'static> {
    // OWASP: m=19456 KiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_PASSWORD: usize = 6;

/// Checked against when the username is unknown, so that costs what a real check costs.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000";

/// Refuses a new password that is too short.
pub fn validate_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::invalid(
            "password",
            ValidationError::TooShort { min: MIN_PASSWORD },
        ));
    }
    Ok(())
}

/// Hashes a new password (on the calling thread; see [`hash`] for request paths).
pub fn hash_password(password: &str) -> Result<String> {
    validate_new_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Bounds the password hashes computed at once. Each takes 19 MiB and a core for a while, so
/// unbounded parallel sign-ins exhaust memory (128 of them took 3.6 GB). At most `size` hashes
/// run at once; a caller waits at most `wait` for its turn and at most `32 × size` callers wait
/// at once; the others are answered [`AppError::Busy`] (503 with `Retry-After`).
pub struct HashGate {
    permits: Arc<Semaphore>,
    size: usize,
    waiting: AtomicUsize,
    wait: std::time::Duration,
}

/// Counts a caller waiting for a permit for as long as it waits (also if it is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    /// `size` hashes at once (0: one per core); callers wait at most `wait`.
    pub fn new(size: usize, wait: std::time::Duration) -> HashGate {
        let size = if size == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            size
        };
        HashGate {
            permits: Arc::new(Semaphore::new(size)),
            size,
            waiting: AtomicUsize::new(0),
            wait,
        }
    }

    /// Runs `f` on the blocking pool once a permit is free; the permit is held until `f` returns,
    /// even if the caller goes away meanwhile.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let busy = AppError::Busy {
            retry_after: i64::try_from(self.wait.as_secs()).unwrap_or(1).max(1),
        };
        let waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.size * 32 {
            return Err(busy);
        }
        let permit =
            match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                _ => return Err(busy),
            };
        drop(waiting);
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// Hashes a new password behind the app's [`HashGate`].
pub async fn hash(app: &App, password: String) -> Result<String> {
    validate_new_password(&password)?;
    app.hashing.run(move || hash_password(&password)).await?
}

/// Checks a password against a hash behind the app's [`HashGate`].
pub async fn verify(app: &App, password: &str, hash: String) -> Result<bool> {
    let pw = password.to_string();
    app.hashing.run(move || verify_password(&pw, &hash)).await
}

/// A random token (hex) and the hash under which the store keeps it.
pub fn new_token() -> (String, String) {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    let t = hex::encode(b);
    let h = token_hash(&t);
    (t, h)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub csrf_token: String,
    pub user: User,
}

/// The key under which sign-ins of `username` are counted: trimmed, lower case (usernames are
/// stored so), at most 64 characters.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::Locked {
        retry_after: (until - now).num_seconds().max(1),
    }
}

/// The user whose username and password these are; `None` for an unknown username, a wrong
/// password or an inactive user, after the same work in each case.
async fn check(app: &App, username: &str, password: &str) -> Result<Option<i64>> {
    let creds = users::credentials(&app.db, username).await?;
    let hash = creds
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = verify(app, password, hash).await?;
    Ok(creds.filter(|c| ok && c.active).map(|c| c.id))
}

/// Signs `username` in from client address `client` (see the module's comment for the limits).
/// Unknown usernames and wrong passwords answer alike: [`AppError::BadCredentials`], and
/// [`AppError::Locked`] once a counter is full.
pub async fn login(app: &App, username: &str, password: &str, client: &str) -> Result<SignedIn> {
    let now = app.now();
    let s = &app.settings;
    let name = normalise_username(username);
    if rand::random::<u8>() == 0 {
        sign_in::delete_expired(&app.db, now).await?;
    }
    let until = now + Duration::minutes(s.lockout_minutes);
    let counters = [
        Counter {
            client,
            max: s.max_failed_logins,
        },
        Counter {
            client: ALL_CLIENTS,
            max: s.max_failed_logins_per_user,
        },
    ];
    let full = match sign_in::reserve(&app.db, &name, &counters, now, until).await? {
        Reservation::Refused { until } => return Err(locked(until, now)),
        Reservation::Counted { full } => full,
    };
    let user_id = match check(app, &name, password).await {
        Ok(Some(id)) => id,
        Ok(None) if full => return Err(locked(until, now)),
        Ok(None) => return Err(AppError::BadCredentials),
        Err(e) => {
            // Not checked (the hashers are busy, or the store failed): not counted either.
            for c in &counters {
                if let Err(g) = sign_in::give_back(&app.db, &name, c.client).await {
                    tracing::warn!(error = ?g, "sign-in attempt not given back");
                }
            }
            return Err(e);
        }
    };
    sign_in::clear(&app.db, &name, client).await?;
    sign_in::give_back(&app.db, &name, ALL_CLIENTS).await?;
    let (token, hash) = new_token();
    let (csrf, _) = new_token();
    sessions::insert(
        &app.db,
        &hash,
        user_id,
        "session",
        &csrf,
        now,
        now + Duration::hours(s.session_hours),
    )
    .await?;
    let user = users::get(&app.db, user_id).await?;
    Ok(SignedIn {
        token,
        csrf_token: csrf,
        user,
    })
}

/// Whether `password` is the actor's own current password. A wrong one counts as a failed
/// sign-in of the username from every address, so a stolen session cannot guess it freely.
pub async fn check_own_password(app: &App, actor: &Actor, password: &str) -> Result<bool> {
    let now = app.now();
    let name = normalise_username(&actor.user.username);
    let counter = [Counter {
        client: ALL_CLIENTS,
        max: app.settings.max_failed_logins_per_user,
    }];
    let until = now + Duration::minutes(app.settings.lockout_minutes);
    if let Reservation::Refused { until } =
        sign_in::reserve(&app.db, &name, &counter, now, until).await?
    {
        return Err(locked(until, now));
    }
    let hash = users::password_hash(&app.db, actor.id()).await?;
    let ok = match verify(app, password, hash).await {
        Ok(ok) => ok,
        Err(e) => {
            sign_in::give_back(&app.db, &name, ALL_CLIENTS).await?;
            return Err(e);
        }
    };
    if ok {
        sign_in::give_back(&app.db, &name, ALL_CLIENTS).await?;
    }
    Ok(ok)
}

/// The actor behind a session token, and the session's CSRF token.
pub async fn authenticate(app: &App, token: &str, lang: Option<Lang>) -> Result<(Actor, String)> {
    let s = sessions::signed_in(&app.db, &token_hash(token), app.now())
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !s.user.active {
        return Err(AppError::Unauthenticated);
    }
    let mut actor = actor_cached(&app.db, &app.units, s.user, lang, s.org).await?;
    actor.session = Some(token_hash(token));
    Ok((actor, s.session.csrf_token))
}

pub async fn logout(app: &App, token: &str) -> Result<()> {
    sessions::delete(&app.db, &token_hash(token)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("demo123").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("demo123", &h));
        assert!(!verify_password("demo124", &h));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn the_dummy_hash_costs_a_real_check() {
        let h = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(h.algorithm.as_str(), "argon2id");
        let p = Params::try_from(&h).unwrap();
        assert_eq!((p.m_cost(), p.t_cost(), p.p_cost()), (19_456, 2, 1));
        assert!(h.hash.is_some());
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn usernames_are_counted_trimmed_and_in_lower_case() {
        assert_eq!(normalise_username("  Clerk_A "), "clerk_a");
        assert_eq!(normalise_username(&"x".repeat(500)).len(), 64);
    }
}
