//! `shaozi-server token …`: on the store directly when it is free, else through the API.

use anyhow::{bail, Context};
use serde_json::{json, Value};

use shaozi_server::auth;
use shaozi_server::clock::SystemClock;
use shaozi_server::store::Store;
use shaozi_server::writer::{Command, Reply, Writer};
use shaozi_shared::api::{NewToken, TokenInfo};
use shaozi_shared::{Principal, Role, Scope};

use super::{StoreOrServer, TokenCmd};

fn scope_text(s: &Scope) -> String {
    match s {
        Scope::City => "city".into(),
        Scope::Street(x) => x.to_string(),
        Scope::Department(x) => x.to_string(),
        Scope::Community(x) => x.to_string(),
    }
}

fn print_list(tokens: &[TokenInfo]) {
    print!("{}", token_table(tokens));
}

/// `text` padded with spaces to `width` display columns (a Chinese character takes two).
fn pad(text: &str, width: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// The tokens as a table whose columns line up in a terminal, Chinese names included: each
/// column as wide as its widest cell.
fn token_table(tokens: &[TokenInfo]) -> String {
    let day = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let mut rows = vec![[
        "name".to_string(),
        "role".into(),
        "scope".into(),
        "created".into(),
        "expires".into(),
        "revoked".into(),
    ]];
    for t in tokens {
        rows.push([
            t.name.clone(),
            t.role.as_str().into(),
            scope_text(&t.scope),
            day(Some(t.created_at)),
            day(t.expires_at),
            day(t.revoked_at),
        ]);
    }
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(unicode_width::UnicodeWidthStr::width(cell.as_str()));
        }
    }
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r.iter().zip(widths).map(|(cell, w)| pad(cell, w)).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Runs a token command.
pub async fn run(cmd: TokenCmd) -> anyhow::Result<()> {
    let at = match &cmd {
        TokenCmd::Create { at, .. } | TokenCmd::List { at } | TokenCmd::Revoke { at, .. } => {
            at.clone()
        }
    };
    // Servers keep a PostgreSQL database open all the time, and tokens issued there must
    // reach them (their books follow the log): always go through a server.
    if at.data.to_str().is_some_and(shaozi_server::pg::is_url) {
        return online(cmd, &at).await;
    }
    match super::unless_held(&at.data, false)? {
        Some(store) => offline(cmd, store).await,
        None => online(cmd, &at).await,
    }
}

fn new_token(
    role: &str,
    street: Option<String>,
    department: Option<String>,
    community: Option<String>,
    name: String,
    expires: Option<i64>,
) -> anyhow::Result<NewToken> {
    let role = Role::parse(role).with_context(|| {
        format!("unknown role {role:?}: admin, dispatcher, department, community or viewer")
    })?;
    let id = |v: Option<String>| v.map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty());
    let t = NewToken {
        role,
        street_id: id(street).map(|s| s.parse()).transpose()?,
        department_id: id(department).map(|s| s.parse()).transpose()?,
        community_id: id(community).map(|s| s.parse()).transpose()?,
        name,
        expires_days: expires,
    };
    t.scope().map_err(anyhow::Error::msg)?;
    Ok(t)
}

/// Commits one command straight into a stopped store, through the same writer as the server.
async fn commit(
    store: Store,
    book: std::sync::Arc<auth::TokenBook>,
    cmd: Command,
) -> anyhow::Result<Reply> {
    let writer = Writer::start(
        Box::new(shaozi_server::store::SledEngine::new(store)?),
        std::sync::Arc::new(SystemClock),
        std::sync::Arc::new(shaozi_shared::Rules::builtin()),
        book,
        shaozi_server::writer::Publishing::Direct,
    )?;
    let who = Principal::new("shaozi-server token", Role::Admin, Scope::City);
    let r = writer.handle().submit(cmd, who).await;
    writer.stop().await;
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

async fn offline(cmd: TokenCmd, store: Store) -> anyhow::Result<()> {
    let (book, created) = auth::TokenBook::load(
        &store,
        None,
        std::sync::Arc::new(SystemClock),
        auth::Limits::default(),
    )?;
    if let Some(t) = created {
        eprintln!("(the store had no admin token; one was created: {t})");
    }
    match cmd {
        TokenCmd::List { .. } => print_list(&store.token_list()?),
        TokenCmd::Create {
            role,
            street,
            department,
            community,
            name,
            expires,
            ..
        } => {
            let req = new_token(&role, street, department, community, name, expires)?;
            let secret = auth::generate();
            match commit(store, book, Command::CreateToken(req, auth::hash(&secret))).await? {
                Reply::Token(..) => println!("{secret}"),
                other => bail!("unexpected answer {other:?}"),
            }
        }
        TokenCmd::Revoke { name, .. } => {
            commit(store, book, Command::RevokeToken(name.clone())).await?;
            eprintln!("revoked {name}");
        }
    }
    Ok(())
}

async fn online(cmd: TokenCmd, at: &StoreOrServer) -> anyhow::Result<()> {
    let token = at
        .admin_token
        .clone()
        .context("the store is in use by a running server; give --admin-token (or SHAOZI_ADMIN_TOKEN) to ask it")?;
    let http = at.client()?;
    let base = at.server.trim_end_matches('/');
    let answer = |r: reqwest::Response| async move {
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(v)
        } else {
            Err(anyhow::anyhow!(
                "the server refused ({status}): {}",
                v["detail"].as_str().unwrap_or("")
            ))
        }
    };
    match cmd {
        TokenCmd::List { .. } => {
            let v = answer(
                http.get(format!("{base}/api/v1/tokens"))
                    .bearer_auth(&token)
                    .send()
                    .await?,
            )
            .await?;
            let list: Vec<TokenInfo> = serde_json::from_value(v)?;
            print_list(&list);
        }
        TokenCmd::Create {
            role,
            street,
            department,
            community,
            name,
            expires,
            ..
        } => {
            let req = new_token(&role, street, department, community, name, expires)?;
            let v = answer(
                http.post(format!("{base}/api/v1/tokens"))
                    .bearer_auth(&token)
                    .json(&json!(req))
                    .send()
                    .await?,
            )
            .await?;
            println!("{}", v["token"].as_str().context("no token in the answer")?);
        }
        TokenCmd::Revoke { name, .. } => {
            answer(
                http.delete(format!("{base}/api/v1/tokens/{name}"))
                    .bearer_auth(&token)
                    .send()
                    .await?,
            )
            .await?;
            eprintln!("revoked {name}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, role: Role) -> TokenInfo {
        TokenInfo {
            name: name.into(),
            role,
            scope: Scope::City,
            created_by: "admin".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
        }
    }

    /// The role column starts at the same display column on every line, whatever the names.
    #[test]
    fn token_list_lines_up_chinese_names() {
        let table = token_table(&[
            token("ops", Role::Admin),
            token("梓山社区居委会", Role::Community),
            token("市路灯管理处值班", Role::Department),
        ]);
        let role_at: Vec<usize> = table
            .lines()
            .zip(["role", "admin", "community", "department"])
            .map(|(line, role)| {
                let at = line.find(&format!(" {role} ")).unwrap_or(0);
                unicode_width::UnicodeWidthStr::width(&line[..at])
            })
            .collect();
        assert_eq!(role_at.len(), 4, "{table}");
        assert!(
            role_at[0] > 0 && role_at.iter().all(|c| *c == role_at[0]),
            "{table}"
        );
    }
}
