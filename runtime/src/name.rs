//! Lock names as the runtime uses them: the shared scheme of
//! [`name_scheme`](crate::name_scheme), with its refusals as
//! [`Error::InvalidName`].

use crate::{name_scheme, Error};

/// The longest lock name accepted, in bytes. Longer names are refused with
/// [`Error::InvalidName`] rather than hashed: a name that long is a bug.
///
/// ```
/// mysql_lock::register("max-name-docs", "mysql://root@127.0.0.1:3306/test")?;
/// let too_long = "x".repeat(mysql_lock::MAX_NAME_BYTES + 1);
/// let err = mysql_lock::Lock::new(too_long).using("max-name-docs").name().unwrap_err();
/// assert!(matches!(err, mysql_lock::Error::InvalidName { .. }));
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub const MAX_NAME_BYTES: usize = name_scheme::MAX_NAME_BYTES;

/// Checks a logical name and returns the name to send to the server.
pub(crate) fn server_name(database: Option<&str>, name: &str) -> Result<String, Error> {
    name_scheme::server_name(database, name).map_err(|reason| Error::InvalidName {
        name: Error::display_name(name),
        reason,
    })
}
