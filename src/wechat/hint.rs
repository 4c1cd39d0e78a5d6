//! The hint for ops staff an [`ApiError`] carries ([`Hint`]): the error itself is
//! wechat-open's, what to do about it is wxprov's.

use wechat_open::ApiError;

use super::errcode;

/// What to do about a missing refresh token.
pub const NO_REFRESH_TOKEN_HINT: &str = "wxprov holds no refresh token for this account. Run `wxprov \
    tokens recover` (it lists every authorizer of the platform), import one with `wxprov tokens \
    import FILE`, or have the merchant authorize the platform (`wxprov serve` stores the token \
    from WeChat's push); the next run continues the row with no sheet change.";

/// An error's hint for ops staff: what to fix in the sheet or which `wxprov` command to run.
pub trait Hint {
    /// The hint, when there is one: the catalogue's (naming the IP WeChat saw where the IP
    /// whitelist is the cause).
    fn hint(&self) -> Option<String>;

    /// The error and, when there is one, its hint, as one line for the person at the terminal.
    fn with_hint(&self) -> String;
}

impl Hint for ApiError {
    fn hint(&self) -> Option<String> {
        match self {
            ApiError::WeChat { code, message, token, .. } => errcode::hint_for(*code, *token, message),
            ApiError::NoRefreshToken { .. } => Some(NO_REFRESH_TOKEN_HINT.to_string()),
            _ => None,
        }
    }

    fn with_hint(&self) -> String {
        match self.hint() {
            Some(hint) => format!("{self} — {hint}"),
            None => self.to_string(),
        }
    }
}
