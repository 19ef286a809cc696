#![deny(warnings)]

mod jobs {
    use mysql_lock::{mysql_lock, Error};

    /// Doc comments stay on the function.
    ///
    /// ```
    /// // even doctests
    /// ```
    #[mysql_lock(name = "visible")]
    #[inline]
    #[must_use = "the result says whether the job ran"]
    pub(crate) fn visible() -> Result<(), Error> {
        // Inner attributes stay first in the body: without this one,
        // `unused` would fail the build under `deny(warnings)`.
        #![allow(unused_variables)]
        let unused = 1;
        Ok(())
    }

    #[track_caller]
    #[mysql_lock(name = "after-other-attributes", timeout = 1)]
    #[doc(alias = "other")]
    pub fn public() -> Result<(), Error> {
        Ok(())
    }

    #[deprecated = "kept too"]
    #[mysql_lock(name = "deprecated")]
    pub fn deprecated() -> Result<(), Error> {
        Ok(())
    }
}

#[allow(deprecated)]
pub(crate) fn main() {
    let _ = jobs::visible;
    let _ = jobs::public;
    let _ = jobs::deprecated;
}
