//! Sign-in, sessions and passwords. Passwords are argon2id hashes with OWASP parameters
//! (19 MiB, 2 iterations, 1 lane); sessions live in the store so several servers share them.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shouhou_domain::{Lang, ValidationError};
use shouhou_store::records::User;
use shouhou_store::repo::{sessions, users};

use crate::actor::{actor_for, Actor};
use crate::{App, AppError, Result};

fn argon() -> Argon2<'static> {
    // OWASP: m=19456 KiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_PASSWORD: usize = 6;

pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::invalid(
            "password",
            ValidationError::TooShort { min: MIN_PASSWORD },
        ));
    }
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

/// Checks a username and password; counts failures and locks the account after too many.
pub async fn login(app: &App, username: &str, password: &str) -> Result<SignedIn> {
    let now = app.now();
    let creds = users::credentials(&app.db, username.trim()).await?;
    let Some(c) = creds else {
        // Spend the same time as a real check so usernames cannot be probed by timing.
        let pw = password.to_string();
        let _ = tokio::task::spawn_blocking(move || {
            verify_password(&pw, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000")
        })
        .await;
        return Err(AppError::Unauthenticated);
    };
    if c.locked_until.is_some_and(|t| t > now) {
        return Err(AppError::Locked);
    }
    let (pw, hash) = (password.to_string(), c.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !ok || !c.active {
        let s = &app.settings;
        users::login_failed(
            &app.db,
            c.id,
            s.max_failed_logins,
            now + Duration::minutes(s.lockout_minutes),
        )
        .await?;
        return Err(if c.failed_logins + 1 >= s.max_failed_logins {
            AppError::Locked
        } else {
            AppError::Unauthenticated
        });
    }
    users::login_succeeded(&app.db, c.id).await?;
    let (token, hash) = new_token();
    let (csrf, _) = new_token();
    sessions::insert(
        &app.db,
        &hash,
        c.id,
        "session",
        &csrf,
        now,
        now + Duration::hours(app.settings.session_hours),
    )
    .await?;
    let user = users::get(&app.db, c.id).await?;
    Ok(SignedIn {
        token,
        csrf_token: csrf,
        user,
    })
}

/// The actor behind a session token, and the session's CSRF token.
pub async fn authenticate(app: &App, token: &str, lang: Option<Lang>) -> Result<(Actor, String)> {
    let s = sessions::get(&app.db, &token_hash(token), app.now())
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let user = users::get(&app.db, s.user_id).await?;
    if !user.active {
        return Err(AppError::Unauthenticated);
    }
    Ok((actor_for(&app.db, user, lang).await?, s.csrf_token))
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
}
