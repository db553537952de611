//! Bearer tokens: random 256-bit values, stored only as SHA-256 hashes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use sha2::{Digest, Sha256};

use shaozi_shared::Actor;

use crate::error::ApiError;
use crate::store::{Store, StoreError};

const ADMIN_HASH_KEY: &str = "admin/sha256";

/// A token's SHA-256.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token: 256 bits as 64 hex digits.
pub fn generate() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The tokens the server accepts and who each one is.
#[derive(Debug)]
pub struct Tokens {
    admin: [u8; 32],
}

impl Tokens {
    /// Sets up the admin token: the given one (its hash replaces any stored), else the stored
    /// hash, else a new token, returned so the caller can print it once.
    pub fn init(
        store: &Store,
        given: Option<&str>,
    ) -> Result<(Tokens, Option<String>), StoreError> {
        let (hash, created) = match (given, store.meta.get(ADMIN_HASH_KEY)?) {
            (Some(t), _) => (hash(t), None),
            (None, Some(h)) if h.len() == 32 => {
                let mut a = [0u8; 32];
                a.copy_from_slice(&h);
                (a, None)
            }
            (None, _) => {
                let t = generate();
                (hash(&t), Some(t))
            }
        };
        store.meta.insert(ADMIN_HASH_KEY, &hash)?;
        store.db.flush()?;
        Ok((Tokens { admin: hash }, created))
    }

    /// Who holds `token`, if anyone.
    pub fn actor(&self, token: &str) -> Option<Actor> {
        (hash(token) == self.admin).then(|| Actor {
            name: "admin".into(),
            role: "admin".into(),
        })
    }
}

/// Middleware: a valid `Authorization: Bearer` token, else 401; puts the [`Actor`] in the request.
pub async fn require_token(
    State(tokens): State<Arc<Tokens>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be: Bearer <token>")
        })?;
    let actor = tokens
        .actor(token)
        .ok_or_else(|| ApiError::unauthorized("this token is not known to the server"))?;
    req.extensions_mut().insert(actor);
    Ok(next.run(req).await)
}
