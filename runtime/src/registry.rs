//! The global registry of connection aliases, like Django's `DATABASES`.

use crate::names::NameScheme;
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
/// One parameter is this crate's own, and removed before the driver reads
/// the URL: `lock_names=exact` sends lock names exactly as given, for
/// MariaDB-only fleets that share mixed-case, `#` or long names with
/// django-mysql (MySQL folds names to lower case and limits them to 64
/// characters); `lock_names=portable` is the default. See [`NameScheme`].
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
/// // Names sent as given (MariaDB only):
/// mysql_lock::register("shared", "mysql://app@127.0.0.1:3306/IfxApp?lock_names=exact")?;
/// assert_eq!(mysql_lock::Lock::new("Ifx-Job").using("shared").server_name()?, "IfxApp.Ifx-Job");
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn register(alias: &str, url: &str) -> Result<(), Error> {
    let invalid = |reason: String| Error::InvalidConfig {
        alias: alias.to_owned(),
        reason,
    };
    let (url, names) = take_name_scheme(url).map_err(invalid)?;
    let opts = parse_url(&url).map_err(|err| {
        invalid(format!(
            "the URL is not a valid MySQL URL ({err}); expected \
             mysql://user:password@host:port/database"
        ))
    })?;
    register_opts_with(alias, opts, names)
}

/// Removes this crate's `lock_names=` parameter from a URL's query (the
/// driver refuses parameters it doesn't know) and returns the URL without
/// it and the scheme it names (the default when absent). The error is a
/// reason for [`Error::InvalidConfig`]; it never contains the URL, which
/// may hold a password.
fn take_name_scheme(url: &str) -> Result<(String, NameScheme), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), NameScheme::default()));
    };
    let key = NameScheme::URL_PARAMETER;
    let mut scheme = None;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        let Some(value) = pair
            .strip_prefix(key)
            .and_then(|after| after.strip_prefix('='))
        else {
            rest.push(pair);
            continue;
        };
        let parsed = NameScheme::from_url_value(value).ok_or_else(|| {
            format!(
                "the URL parameter {key}={value:?} is not a name scheme; expected \
                 {key}=portable (the default) or {key}=exact"
            )
        })?;
        if scheme.is_some_and(|earlier| earlier != parsed) {
            return Err(format!(
                "the URL gives {key} twice with different values; keep one of \
                 {key}=portable or {key}=exact"
            ));
        }
        scheme = Some(parsed);
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, scheme.unwrap_or_default()))
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
/// [`register`]; lock names are sent by [`NameScheme::Portable`] (use
/// [`register_opts_with`] to choose).
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
    register_opts_with(alias, opts, NameScheme::Portable)
}

/// [`register_opts`] with a choice of how lock names are sent:
/// [`NameScheme::Exact`] sends `<database>.<name>` as given, never
/// encoded, for MariaDB-only fleets that share mixed-case, `#` or long names
/// with django-mysql. On MySQL names are folded to lower case and limited to
/// 64 characters, so there exact names are not safe. Registering the alias
/// again with the same options and scheme does nothing; with another scheme
/// it is [`Error::AliasConflict`].
///
/// # Errors
///
/// As [`register_opts`].
///
/// # Example
///
/// ```
/// use mysql_lock::{Lock, NameScheme};
/// let opts = mysql::OptsBuilder::new()
///     .ip_or_hostname(Some("127.0.0.1"))
///     .user(Some("root"))
///     .db_name(Some("test"));
/// mysql_lock::register_opts_with("exact-opts", opts.into(), NameScheme::Exact)?;
/// assert_eq!(Lock::new("Job#1").using("exact-opts").server_name()?, "test.Job#1");
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn register_opts_with(alias: &str, opts: mysql::Opts, names: NameScheme) -> Result<(), Error> {
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
        return if *existing.opts() == opts && existing.name_scheme() == names {
            Ok(())
        } else {
            Err(Error::AliasConflict {
                alias: alias.to_owned(),
            })
        };
    }
    registry.insert(alias.to_owned(), Arc::new(Pool::new(alias, opts, names)));
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
/// alone; new ones are opened again when needed. With the feature `async`,
/// the idle connections of async locks are closed too ([`pool_status`]
/// counts the sync pool only).
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

    #[test]
    fn the_name_scheme_parameter_is_ours() {
        let take = |url| take_name_scheme(url).unwrap();
        let base = "mysql://u:p@h:3306/db";
        assert_eq!(take(base), (base.into(), NameScheme::Portable));
        assert_eq!(
            take("mysql://u:p@h:3306/db?lock_names=exact"),
            (base.into(), NameScheme::Exact)
        );
        assert_eq!(
            take("mysql://u:p@h/db?pool_max=3&lock_names=portable&prefer_socket=false"),
            (
                "mysql://u:p@h/db?pool_max=3&prefer_socket=false".into(),
                NameScheme::Portable
            )
        );
        assert_eq!(
            take("mysql://u:p@h/db?lock_names=exact&lock_names=exact&pool_max=3"),
            ("mysql://u:p@h/db?pool_max=3".into(), NameScheme::Exact)
        );
        let bad = take_name_scheme("mysql://u:s3cret@h/db?lock_names=Exact").unwrap_err();
        assert!(
            bad.contains("lock_names=exact") && !bad.contains("s3cret"),
            "{bad}"
        );
        let twice =
            take_name_scheme("mysql://u:p@h/db?lock_names=exact&lock_names=portable").unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
    }

    #[test]
    fn a_different_name_scheme_is_a_conflict() {
        let url = "mysql://root@127.0.0.1:3306/test";
        register("scheme-conflict", &format!("{url}?lock_names=exact")).unwrap();
        register("scheme-conflict", &format!("{url}?lock_names=exact")).unwrap();
        let opts = parse_url(url).unwrap();
        register_opts_with("scheme-conflict", opts.clone(), NameScheme::Exact).unwrap();
        for err in [
            register("scheme-conflict", url).unwrap_err(),
            register_opts("scheme-conflict", opts).unwrap_err(),
        ] {
            assert!(matches!(err, Error::AliasConflict { .. }), "{err:?}");
        }
        register("scheme-default", url).unwrap();
        register("scheme-default", &format!("{url}?lock_names=portable")).unwrap();
    }

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
