//! Collecting every mistake before reporting, so that one build shows them
//! all instead of one per edit-compile cycle.

/// The errors found so far, combined into one `syn::Error` (which renders as
/// one `compile_error!` per message, each at its own span).
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// The value of `result`, or `None` after recording its error.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// `Ok` when nothing was recorded, else every recorded error.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.combined.map_or(Ok(()), Err)
    }

    /// `result` when nothing was recorded, else every recorded error
    /// followed by the error of `result`, if any.
    pub(crate) fn finish_with<T>(self, result: syn::Result<T>) -> syn::Result<T> {
        match (self.combined, result) {
            (None, result) => result,
            (Some(combined), Ok(_)) => Err(combined),
            (Some(mut combined), Err(error)) => {
                combined.combine(error);
                Err(combined)
            }
        }
    }
}
