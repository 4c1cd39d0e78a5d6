//! wxprov's hints for ops staff: for every entry of wechat-open's errcode catalogue
//! (`wechat_open::errcode`, the protocol's facts: code, Chinese text, gloss, class), what to
//! do about it here — which column of the sheet to fix, which `wxprov` command to run, which
//! `WXPROV_*` setting to check — and what wxprov does with each class. `explain` prints them,
//! the runner copies them into `results.csv` and `failed.csv`
//! ([`crate::wechat::errcode`] joins them to the catalogue).

use wechat_open::errcode::ErrClass;
use wechat_open::TokenKind::{self, Component};

/// What wxprov does with an error of a class, in words (`explain`'s class line).
pub trait ClassText {
    /// One sentence on what wxprov does with an error of this class.
    fn describe(self) -> &'static str;
}

impl ClassText for ErrClass {
    fn describe(self) -> &'static str {
        match self {
            ErrClass::Retry => "transient: wxprov backs off and retries, up to [retry] max_attempts",
            ErrClass::Token => "bad token: wxprov drops the cached token, refreshes it and calls once more",
            ErrClass::Defer => "quota spent: wxprov defers the row and a later run continues it",
            ErrClass::Stop => {
                "the platform's own credentials or setup: wxprov stops the run at once (exit 1) and changes no \
                 row; fix what the hint says and run again"
            }
            ErrClass::Blocked => {
                "outside the sheet: the step is blocked until what the hint names is fixed (a token \
                 imported or recovered, a new authorization); a later run tries it again, no sheet change \
                 needed"
            }
            ErrClass::Human => "needs a person: the row goes to failed.csv until its input changes",
        }
    }
}

/// The hint for the catalogue entry of `code` for calls that carried `token` (`None`: the
/// code's general entry), if there is one (a unit test checks that every entry has one).
pub(crate) fn hint(code: i64, token: Option<TokenKind>) -> Option<&'static str> {
    HINTS.iter().find(|h| h.code == code && h.token == token).map(|h| h.text)
}

/// One hint, keyed like the catalogue entry it belongs to.
struct Hint {
    code: i64,
    token: Option<TokenKind>,
    text: &'static str,
}

/// The hint for a code's general entry.
const fn h(code: i64, text: &'static str) -> Hint {
    Hint { code, token: None, text }
}

/// The hint for a code's entry for calls that carried `token`.
const fn on(token: TokenKind, code: i64, text: &'static str) -> Hint {
    Hint { code, token: Some(token), text }
}

// Hints shared by several codes.
const H_TOKEN: &str = "wxprov drops the cached token, refreshes it and calls once more. If it \
    keeps coming back: check WXPROV_COMPONENT_SECRET, and make sure no other system refreshes \
    the same authorizer token (they invalidate each other's; share one through \
    WXPROV_TOKEN_COMMAND).";
const H_TICKET: &str = "The component_verify_ticket is stale (WeChat pushes one every 10 \
    minutes; it lives 12 h). Make sure `wxprov serve` is running and reachable at the \
    platform's authorization-event URL, or set WXPROV_COMPONENT_VERIFY_TICKET; then run again. \
    No row needs changing.";
const H_SECRET: &str = "The component secret is wrong: check WXPROV_COMPONENT_SECRET (or the \
    file named by WXPROV_COMPONENT_SECRET_FILE) against open.weixin.qq.com (管理中心 → 第三方平台 \
    → AppSecret), then run again. No row needs changing.";
/// The IP whitelist; [`crate::wechat::errcode::hint_for`] puts the IP WeChat saw in place of "this machine's IP".
pub(crate) const H_WHITELIST: &str = "Add this machine's IP to the platform's IP whitelist on \
    open.weixin.qq.com (开发资料 → 白名单), then run again. No row needs changing.";
const H_AUTH_CODE: &str = "The authorization_code from fastregister could not be exchanged for \
    a refresh token (it is single-use and short-lived). The mini-program exists and its appid \
    is in the ledger: run `wxprov tokens recover` to fetch its refresh token through \
    api_get_authorizer_list, then run again.";
const H_NAME_TAKEN: &str = "The name is not available. Put another name in the nickname column \
    and run again.";
const H_NAME_SAME_PRINCIPAL: &str = "Only the entity that owns the similar name may use it. Put \
    another name in the nickname column, or, if this entity does own it, add proof (e.g. \
    《商标注册证》) in naming_materials and run again with --retry-failed.";
const H_NEW_ADMIN_QUOTA: &str = "The new admin already manages as many accounts as allowed. \
    Have them give up an admin role elsewhere or choose another person, then send the \
    merchant a fresh rebind link from `wxprov links` and have them redo it.";
const H_REUPLOAD: &str = "The image's media_id was not accepted: temporary media expire after \
    3 days and must be uploaded with the mini-program's own token. Run again with \
    --retry-failed so wxprov uploads the file again; if it repeats, report it with the run id.";

/// In the catalogue's order.
const HINTS: &[Hint] = &[
    // ---- General, tokens and quotas (NOTES.md; the platform's global return codes) ----
    h(
        -1,
        "Transient: wxprov retries with backoff. If a row keeps ending with -1 over several \
        runs, run again later; nothing in the sheet needs changing.",
    ),
    h(40001, H_TOKEN),
    on(TokenKind::None, 40001, H_SECRET),
    h(40014, H_TOKEN),
    h(42001, H_TOKEN),
    h(
        41001,
        "The call went out without a token. If WXPROV_TOKEN_COMMAND is set, check that it \
        prints a non-empty access_token for this appid; otherwise it is a wxprov bug: report \
        it with the run id.",
    ),
    h(
        40013,
        "Check the appid / official_appid column: `wx` followed by 16 hex digits, no spaces or \
        stray characters, and an account that exists.",
    ),
    on(
        Component,
        40013,
        "WXPROV_COMPONENT_APPID is not the third-party platform's appid: copy it from \
            open.weixin.qq.com (管理中心 → 第三方平台), then run again. No row needs changing.",
    ),
    h(40125, H_SECRET),
    h(
        41004,
        "The call went out without the component secret: set WXPROV_COMPONENT_SECRET (or \
        WXPROV_COMPONENT_SECRET_FILE naming a file that holds it), then run again. No row needs \
        changing.",
    ),
    h(40164, H_WHITELIST),
    h(
        40005,
        "An uploaded image is not really BMP/JPEG/GIF/PNG (e.g. a renamed file). Re-save the \
        file named in the avatar, license, id_card, naming_materials or categories column as \
        JPEG or PNG and run again.",
    ),
    h(
        47001,
        "WeChat could not read what wxprov sent: a wxprov bug, not a sheet problem. Report it \
        with the run id and the row's line number.",
    ),
    h(
        45009,
        "The daily quota of this API is spent; wxprov defers the row to the next day (Beijing \
        time) and a later run continues. See what is left with `wxprov quota APPID`. Nothing \
        to fix in the sheet.",
    ),
    h(
        45011,
        "wxprov backs off and retries. If it recurs, lower calls_per_second or \
        per_appid_per_second under [limits] in the job file, or --concurrency.",
    ),
    h(
        48001,
        "The account has not given the platform this API's permission set (or cannot use it \
        yet, e.g. not verified). Have its admin authorize the platform again with every \
        permission set ticked: `wxprov serve` stores the new refresh token from WeChat's push, \
        and the next run continues the row. No sheet change needed.",
    ),
    // ---- Component authorization (NOTES.md) ----
    h(
        61003,
        "The account in the appid / official_appid column has not authorized this platform, or \
        has revoked it. If the column is right, have the account's admin authorize the \
        platform: `wxprov serve` stores the refresh token from WeChat's push (or run `wxprov \
        tokens recover`), and the next run continues the row.",
    ),
    h(61004, H_WHITELIST),
    h(61005, H_TICKET),
    h(61006, H_TICKET),
    h(
        61007,
        "The account authorized the platform without this API's permission set. Have its admin \
        authorize again with every permission set ticked (fastregister-intro lists the five): \
        `wxprov serve` stores the new refresh token from WeChat's push, and the next run \
        continues the row. No sheet change needed.",
    ),
    h(61009, H_AUTH_CODE),
    h(61010, H_AUTH_CODE),
    h(
        61023,
        "The stored refresh token no longer works (re-authorized, revoked, or refreshed by \
        another system). Run `wxprov tokens recover`, or import a current one with `wxprov \
        tokens import FILE` (CSV appid,refresh_token); if the account unauthorized the \
        platform, have it authorize again (`wxprov serve` stores the new token from WeChat's \
        push). The next run continues the row; no sheet change needed.",
    ),
    // ---- fastregister (fastregister-and-settings.md §1.3) ----
    h(
        61051,
        "Only verified enterprise, media, government and other-organization official accounts \
        qualify. Put another official account in official_appid, or register this \
        mini-program by hand and remove the row.",
    ),
    h(
        61052,
        "The official account in official_appid must complete 微信认证 first. Once it has, \
        send the merchant a fresh link from `wxprov links` and have them scan it again.",
    ),
    h(
        61053,
        "This entity cannot register more mini-programs. Remove the row, or use an official \
        account of another entity in official_appid.",
    ),
    h(
        61054,
        "WeChat has blacklisted this entity; the merchant must take it up with WeChat. Remove \
        the row.",
    ),
    h(
        61055,
        "This official account has already created 5 mini-programs this month. wxprov drops the \
        row's stored ticket (it will be stale) and keeps the row waiting until the first of next \
        month (Beijing time); then have the merchant scan the `wxprov links` link again (`wxprov \
        serve` stores the new ticket; replace a ticket pasted in the ticket column). Or put \
        another official account in official_appid.",
    ),
    h(
        61056,
        "Set copy_wx_verify to 1 (or leave it empty) on this row, regenerate its link with \
        `wxprov links`, and have the merchant scan again.",
    ),
    h(
        61057,
        "An earlier registration by this official account is unfinished (待完成注册). Have the \
        merchant finish or abandon it on mp.weixin.qq.com, then scan a fresh `wxprov links` \
        link.",
    ),
    h(
        61058,
        "The ticket is no good (wxprov first looked through api_get_authorizer_list for a \
        mini-program this ticket may have created, and found none). Have the merchant scan the \
        `wxprov links` link again (`wxprov serve` stores the new ticket), or paste a new ticket \
        into the ticket column. Never reuse an old ticket.",
    ),
    h(
        61028,
        "The platform (WXPROV_COMPONENT_APPID) or its latest changes are not fully published \
        (全网发布) on open.weixin.qq.com. Publish it, then run again; no row needs changing.",
    ),
    h(
        61029,
        "Add the missing permission sets to the platform on open.weixin.qq.com and publish it \
        (see 61028); merchants who authorized before must then authorize again.",
    ),
    h(
        61060,
        "The redirect_uri in the authorization link must be on the platform's registered \
        login-authorization domain. Fix the callback base URL `wxprov links` uses, regenerate \
        the links and have the merchant scan again.",
    ),
    h(
        61061,
        "Overseas official accounts cannot use fast registration. Remove the row and register \
        the mini-program by hand.",
    ),
    // ---- checkwxverifynickname (§3.1) ----
    h(
        53010,
        "Fix the nickname column: 4-30 characters (a Chinese character counts as 2), no \
        \"小程序\", no special symbols.",
    ),
    h(
        53011,
        "wxprov backs off and retries. If it recurs, lower the per-minute limit for \
        /cgi-bin/wxverify/checkwxverifynickname under [limits.per_minute] in the job file.",
    ),
    h(
        53012,
        "WeChat does not allow this name. Put another name in the nickname column and run \
        again.",
    ),
    h(53013, H_NAME_TAKEN),
    h(53014, H_NAME_SAME_PRINCIPAL),
    h(53015, H_NAME_SAME_PRINCIPAL),
    h(53016, H_NAME_TAKEN),
    h(53017, H_NAME_SAME_PRINCIPAL),
    h(53018, H_NAME_TAKEN),
    h(
        53019,
        "The name is reserved for now (e.g. recently given up by another account). Put another \
        name in the nickname column, or try this one again later with --retry-failed.",
    ),
    // ---- setnickname (§3.2) ----
    h(
        91001,
        "Only mini-programs created by fastregister can be named this way. Check the appid \
        column; otherwise clear the nickname cell and set the name on mp.weixin.qq.com.",
    ),
    h(
        91002,
        "Clear the nickname cell for this row; a published mini-program is renamed on \
        mp.weixin.qq.com.",
    ),
    h(
        91003,
        "Check `wxprov status` for a nickname audit still in review and wait for it. The \
        account's name changes for the year may also be spent (2 a calendar year, reset on 1 \
        January; wxprov checks getaccountbasicinfo first and defers such rows itself). If \
        neither, look at the account on mp.weixin.qq.com, then run again with --retry-failed.",
    ),
    h(
        91004,
        "Fix the nickname column: 4-30 characters (a Chinese character counts as 2), no \
        \"小程序\", no special symbols.",
    ),
    h(91005, H_NAME_SAME_PRINCIPAL),
    h(91006, H_NAME_TAKEN),
    h(91007, H_NAME_TAKEN),
    h(
        91008,
        "Put another name in the nickname column, or wait 7 days and run again with \
        --retry-failed.",
    ),
    h(
        91009,
        "Fill naming_materials with up to five images proving the right to the name (e.g. \
        《商标注册证》, an authorization letter), and make sure license (organizations) or \
        id_card (personal accounts) is set; then run again.",
    ),
    h(
        91010,
        "WeChat gives no reason. Check the nickname and its materials, try the name on \
        mp.weixin.qq.com to see the message, then run again with --retry-failed.",
    ),
    h(
        91015,
        "The name must fit the entity behind the official account. Put a matching name in the \
        nickname column, or add proof in naming_materials.",
    ),
    h(
        91019,
        "Something of this mini-program is under review: a name audit (perhaps one an earlier \
        call opened), or a code or category one. A name step stays in review and each run \
        settles it from the account's name; after 14 days without the name it fails: look in \
        the console for what is under review, and once it has ended run again with \
        --retry-failed.",
    ),
    // ---- api_wxa_querynickname (§3.3) ----
    h(
        91011,
        "WeChat does not know the audit in the ledger (expired, or from another account). Run \
        again with --retry-failed to submit the name anew.",
    ),
    h(
        91012,
        "The audit query failed without a reason. Run again later; if it persists, check the \
        audit on mp.weixin.qq.com.",
    ),
    // ---- modifyheadimage (§4) and media upload ----
    h(
        40097,
        "For the avatar, check avatar_crop: four numbers x1,y1,x2,y2 in [0,1] with x1<x2 and \
        y1<y2. For the signature, check the signature column (4-120 characters).",
    ),
    h(
        41006,
        "No image was sent. Check that the file in the avatar column exists and is not empty, \
        then run again with --retry-failed.",
    ),
    h(
        40007,
        "The media_id was rejected: uploaded with another account's token, expired (3 days), \
        or, for categories, certificate keys not in lower case. Run again with --retry-failed \
        so wxprov uploads the image again; if it repeats, report it with the run id.",
    ),
    h(46001, H_REUPLOAD),
    h(
        40009,
        "Shrink the image in the avatar column (at most 2 MB; smaller pixel dimensions help) \
        and run again.",
    ),
    h(
        53202,
        "The avatar step is deferred to the first of next month (Beijing time) and a later run \
        continues it. Nothing to fix in the sheet.",
    ),
    // ---- modifysignature (§5) ----
    h(
        53200,
        "The signature step is deferred to the first of next month (Beijing time) and a later \
        run continues it. Nothing to fix in the sheet.",
    ),
    h(
        53201,
        "Reword the signature column (no sensitive words, superlatives, contact details or \
        links) and run again.",
    ),
    h(
        53204,
        "Fix the signature column: 4-120 characters of plain text, no links or special \
        symbols.",
    ),
    // ---- addcategory / modifycategory / deletecategory (§6) ----
    h(
        53300,
        "The categories step is deferred to the first of next month (Beijing time) and a later \
        run continues it. Nothing to fix in the sheet.",
    ),
    h(
        53301,
        "The account would exceed its category_limit. Drop categories from the categories \
        column, or remove existing ones with a leading `-`, and run again.",
    ),
    h(
        53302,
        "Pick a category this kind of entity may use (see `wxprov categories`) and fix the \
        categories column.",
    ),
    h(
        53303,
        "Check the categories column: ids or names as `wxprov categories` lists them, and each \
        certificate named exactly as the category requires, in brackets with its image.",
    ),
    h(
        53304,
        "The account already has this category: remove it from the categories column (wxprov \
        normally skips these; report it if it recurs).",
    ),
    h(
        53305,
        "The category needs an ICP filing (备案) the account does not have. Remove it from the \
        categories column, or complete the filing first.",
    ),
    h(
        53306,
        "To change a category, remove the old one (`-first/second`) and add the new one in the \
        categories column.",
    ),
    h(
        53307,
        "The category is in review or approved. Wait for its audit (`wxprov status`), or \
        remove and re-add it in the categories column.",
    ),
    h(
        53308,
        "Wait until the category's audit ends (`wxprov status`), then run again with \
        --retry-failed to remove it.",
    ),
    // ---- componentrebindadmin (§7; also fastregister-intro §2.4.3) ----
    h(
        85060,
        "The rebind taskid is wrong or expired. Send the merchant a fresh rebind link from \
        `wxprov links` and have both admins redo it (`wxprov serve` stores the new taskid), or \
        paste a new taskid into rebind_taskid.",
    ),
    h(85027, H_NEW_ADMIN_QUOTA),
    h(85061, H_NEW_ADMIN_QUOTA),
    h(85026, H_NEW_ADMIN_QUOTA),
    h(
        85063,
        "Choose another person as the new admin, send a fresh rebind link from `wxprov links` \
        and have the admins redo it.",
    ),
    h(
        85062,
        "Have the new admin use another phone number (or choose another person), send a fresh \
        rebind link from `wxprov links` and have the admins redo it.",
    ),
    // ---- Codes NOTES.md lists beyond the two documents (uploads, quotas, live answers) ----
    h(
        40004,
        "WeChat refused the upload's media type: the image named in the avatar, license, id_card, \
        naming_materials or categories column must be a PNG, JPEG or GIF (a BMP is converted). \
        Re-save it as PNG or JPEG and run again.",
    ),
    h(
        40006,
        "The uploaded image is empty or over 2 MB. Shrink or re-save the file the row names and run \
        again.",
    ),
    h(
        41005,
        "The upload carried no image data: check that the file the row names exists and is not \
        empty, then run again.",
    ),
    h(
        41033,
        "This mini-program was not fast-registered through this platform, so WeChat does not let the \
        platform read or set its name this way. Check the appid column; if it is right, clear the \
        nickname cell and set the name on mp.weixin.qq.com.",
    ),
    h(45035, H_WHITELIST),
    h(
        47003,
        "WeChat found an argument invalid; its errmsg names which. Check the cell of the step in \
        results.csv (a name, signature, crop box or category) and fix it; if the cell is right, \
        report it with the run id.",
    ),
    h(
        48004,
        "WeChat has banned this API for the account after irregularities; the merchant must see to \
        it on mp.weixin.qq.com. A later run tries the step again; no sheet change needed.",
    ),
    h(
        50002,
        "The account is frozen, closed or restricted by WeChat; the merchant must restore it on \
        mp.weixin.qq.com. A later run tries the step again; no sheet change needed.",
    ),
    h(
        53203,
        "WeChat does not take an avatar change now; the avatar step is deferred to the first of next \
        month (Beijing time) and a later run continues it. Nothing to fix in the sheet.",
    ),
    h(
        53205,
        "Fix avatar_crop: four numbers x1,y1,x2,y2 in [0,1] with x1<x2 and y1<y2 (empty for the \
        whole image), then run again.",
    ),
    h(
        76021,
        "The API path given to `wxprov quota` is not one WeChat knows: give it as it appears in \
        the call, e.g. /cgi-bin/account/modifysignature.",
    ),
    h(
        76022,
        "WeChat keeps no quota for that path under this account's token. Ask about an API the \
        account itself calls, with its own appid.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_entry_has_a_hint_and_every_hint_an_entry() {
        for e in wechat_open::errcode::all() {
            let text = hint(e.code, e.token).unwrap_or_else(|| panic!("{}: no hint", e.code));
            assert!(text.trim().len() >= 20, "{}: hint too short", e.code);
            // A continuation line that lost its indentation would show as a double space.
            assert!(!text.contains("  "), "{}: double space in hint", e.code);
        }
        for h in HINTS {
            assert!(
                wechat_open::errcode::all().iter().any(|e| e.code == h.code && e.token == h.token),
                "{}: a hint for no catalogue entry",
                h.code
            );
        }
        assert_eq!(HINTS.len(), wechat_open::errcode::all().len(), "one hint per entry");
    }
}
