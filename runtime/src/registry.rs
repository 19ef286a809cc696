//! The global registry of connection aliases, like Django's `DATABASES`.

use crate::pool::{Pool, PoolStatus};
use crate::{Error, DEFAULT_ALIAS};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

/// Whether a TLS backend is compiled in: without one, the driver panics
/// when asked for TLS.
const TLS_COMPILED_IN: bool = cfg!(any(
    feature = "native-tls",
    feature = "rustls-tls",
    feature = "rustls-tls-ring"
));

/// The environment variable the default alias falls back to.
const DEFAULT_URL_VAR: &str = "DATABASE_URL";

static REGISTRY: LazyLock<RwLock<HashMap<String, Arc<Pool>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Registers a database under `alias`, from a URL such as
/// `mysql://user:password@host:3306/database`.
///
/// The URL is checked now (a malformed URL fails here, not at first use);
/// no connection is opened until a lock needs one. The URL's query string
/// takes the `mysql` crate's options, for example `pool_max=20` (the most
/// connections, that is threads holding locks at once; default 100),
/// `tcp_connect_timeout_ms=2000` (default 10 s), `tcp_keepalive_time_ms`
/// and `tcp_user_timeout_ms` (default 30 s each: a server gone from the
/// network is noticed in about a minute), `prefer_socket=false`, or
/// TLS settings (`root_cert_path=/path/ca.pem`, with one of this crate's
/// features `rustls-tls-ring`, `native-tls` or `rustls-tls`; for a loopback
/// host add `prefer_socket=false`, or the driver moves to the Unix socket,
/// without TLS).
///
/// Aliases are set once. Registering an alias again with the same settings
/// does nothing and returns `Ok`, so every test or worker may call this at
/// startup; registering it with different settings is
/// [`Error::AliasConflict`], because locks already taken through the old
/// settings would silently stop excluding new ones.
///
/// # Errors
///
/// [`Error::InvalidConfig`] for a malformed URL, [`Error::AliasConflict`] as
/// above.
///
/// # Example
///
/// ```
/// mysql_lock::register("reports", "mysql://app:secret@127.0.0.1:3306/reports")?;
/// let err = mysql_lock::register("bad", "mysql://app@127.0.0.1:notaport/x").unwrap_err();
/// assert!(matches!(err, mysql_lock::Error::InvalidConfig { .. }));
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn register(alias: &str, url: &str) -> Result<(), Error> {
    let opts = parse_url(url).map_err(|err| Error::InvalidConfig {
        alias: alias.to_owned(),
        reason: format!(
            "the URL is not a valid MySQL URL ({err}); expected \
             mysql://user:password@host:port/database"
        ),
    })?;
    register_opts(alias, opts)
}

/// Parses a URL. The driver's own pool wants `pool_min <= pool_max` with a
/// default `pool_min` of 10, so `pool_max=3` alone would be refused; this
/// pool has no minimum, so a URL that gives no `pool_min` gets 0.
fn parse_url(url: &str) -> Result<mysql::Opts, mysql::UrlError> {
    match mysql::Opts::from_url(url) {
        Err(mysql::UrlError::InvalidPoolConstraints { .. }) if !url.contains("pool_min=") => {
            let separator = if url.contains('?') { '&' } else { '?' };
            mysql::Opts::from_url(&format!("{url}{separator}pool_min=0"))
        }
        parsed => parsed,
    }
}

/// Registers a database under `alias` from ready-made driver options, for
/// settings a URL can't express (a TLS client identity, say). Same rules as
/// [`register`].
///
/// # Errors
///
/// [`Error::InvalidConfig`] for an empty alias, or TLS options without a
/// TLS feature; [`Error::AliasConflict`] when the alias is registered with
/// other options.
///
/// # Example
///
/// ```
/// let opts = mysql::OptsBuilder::new()
///     .ip_or_hostname(Some("127.0.0.1"))
///     .user(Some("root"))
///     .db_name(Some("test"));
/// mysql_lock::register_opts("from-opts", opts.into())?;
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn register_opts(alias: &str, opts: mysql::Opts) -> Result<(), Error> {
    if alias.is_empty() {
        return Err(Error::InvalidConfig {
            alias: String::new(),
            reason: "the alias must not be empty; use DEFAULT_ALIAS (\"default\") or a name".into(),
        });
    }
    if opts.get_ssl_opts().is_some() && !TLS_COMPILED_IN {
        return Err(Error::InvalidConfig {
            alias: alias.to_owned(),
            reason: "the settings ask for TLS, but mysql-lock was built without a TLS \
                     backend; enable one of its features `rustls-tls-ring`, `native-tls` or \
                     `rustls-tls`"
                .into(),
        });
    }
    let opts = Pool::normalize(opts);
    let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = registry.get(alias) {
        return if *existing.opts() == opts {
            Ok(())
        } else {
            Err(Error::AliasConflict {
                alias: alias.to_owned(),
            })
        };
    }
    registry.insert(alias.to_owned(), Arc::new(Pool::new(alias, opts)));
    Ok(())
}

/// The pool of an alias, registering the default one from `DATABASE_URL`
/// on first use.
pub(crate) fn pool(alias: &str) -> Result<Arc<Pool>, Error> {
    if let Some(pool) = REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(alias)
    {
        return Ok(Arc::clone(pool));
    }
    if alias == DEFAULT_ALIAS {
        if let Ok(url) = std::env::var(DEFAULT_URL_VAR) {
            register(alias, &url).map_err(|err| match err {
                Error::InvalidConfig { alias, reason } => Error::InvalidConfig {
                    alias,
                    reason: format!("{reason} (read from {DEFAULT_URL_VAR})"),
                },
                other => other,
            })?;
            return pool(alias);
        }
    }
    let mut registered: Vec<String> = REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .keys()
        .cloned()
        .collect();
    registered.sort();
    Err(Error::UnknownAlias {
        alias: alias.to_owned(),
        registered,
    })
}

/// The counters of the pool behind `alias`: how many connections are open,
/// idle, and allowed. Connections in use are held by lock sessions.
///
/// # Errors
///
/// [`Error::UnknownAlias`], [`Error::InvalidConfig`] (a bad `DATABASE_URL`).
///
/// ```
/// mysql_lock::register("status-docs", "mysql://root@127.0.0.1:3306/test")?;
/// let status = mysql_lock::pool_status("status-docs")?;
/// assert_eq!((status.open, status.idle), (0, 0)); // nothing connects before a lock needs it
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn pool_status(alias: &str) -> Result<PoolStatus, Error> {
    Ok(pool(alias)?.status())
}

/// Closes the idle connections of `alias`'s pool (those holding no lock)
/// and returns how many it closed: for a clean shutdown, or to give
/// connections back to a busy server. Connections holding locks are left
/// alone; new ones are opened again when needed.
///
/// # Errors
///
/// [`Error::UnknownAlias`], [`Error::InvalidConfig`] (a bad `DATABASE_URL`).
///
/// ```
/// mysql_lock::register("close-docs", "mysql://root@127.0.0.1:3306/test")?;
/// assert_eq!(mysql_lock::close_idle_connections("close-docs")?, 0);
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn close_idle_connections(alias: &str) -> Result<usize, Error> {
    Ok(pool(alias)?.close_idle())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a TLS backend the driver would panic on connect; the
    /// registration says so instead. Checks whichever build this is.
    #[test]
    fn tls_options_need_a_tls_backend() {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .ssl_opts(Some(mysql::SslOpts::default()));
        let result = register_opts("tls-check", opts.into());
        if TLS_COMPILED_IN {
            assert!(result.is_ok(), "{result:?}");
        } else {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
            assert!(err.to_string().contains("rustls-tls-ring"), "{err}");
        }
    }
}
