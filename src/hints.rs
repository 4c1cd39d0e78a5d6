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
            ErrClass::Defer => {
                "not now, a quota spent or a scan still running: wxprov defers the step until the retry \
                 time below, then a run continues it"
            }
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
            ErrClass::Review => {
                "an audit is already running: wxprov follows it when get_latest_auditstatus shows this \
                 row's user_version (never submitting again while it runs); someone else's audit blocks the step"
            }
            ErrClass::Done => "already so: once live state confirms it, wxprov counts the step as done",
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

const H_PRIVACY_FILE: &str = "Fix the privacy guide: the TOML file the privacy column (or \
    [golive] privacy) names, then run again.";
const H_DOMAIN_RULES: &str = "Fix the server_domains cell (or [golive] server_domains): each \
    domain with its scheme (https:// for request, upload and download, wss:// for ws), no IP \
    address, no api.weixin.qq.com, ICP-filed; then run again. WeChat changed nothing.";
const H_EXT_JSON: &str = "Fix the ext_json file the row (or [golive] ext_json) names: valid \
    JSON, only pages and paths the template has, then run again; the code step commits again.";
const H_PLUGIN: &str = "The template's code uses a plugin the mini-program cannot use at that \
    version. Have the mini-program's admin add the plugin on mp.weixin.qq.com (设置 → 第三方设置 \
    → 插件管理), or commit a template without it (template_id), then run again.";
const H_PRIVATE_INFOS: &str = "Fix requiredPrivateInfos in the ext_json file: exact API names \
    (e.g. getLocation), not both of an exclusive pair, only APIs the account may use (see \
    get_privacy_interface), then run again.";
const H_AUDIT_ITEMS: &str = "Fix the audit_items cell: up to five `page|tag|title` items, the \
    page one of the committed code's pages, tags space-separated (at most 10 of 20 characters), \
    a title of at most 32 characters; then run again.";
const H_NOT_PLATFORM_CODE: &str = "The mini-program has no code committed by this platform. Give \
    the row a template_id (or golive 1 with [golive] template_id) so the code step commits \
    first, then run again.";
const H_PLATFORM_AUDIT_LIMIT: &str = "WeChat has limited this platform's audit submissions. \
    Check the notice in 小程序服务商助手 (or open.weixin.qq.com), fix what it names, then run \
    again; the row keeps its code.";
const H_SPEEDUP: &str = "A speed-up (speedupaudit) is optional: the audit goes on at its \
    normal pace. Nothing to fix; wxprov keeps following the audit.";

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
    // ---- Go-live (golive.md): privacy (§1) ----
    h(
        86069,
        "The privacy guide's owner_setting lacks a required field: give at least one of \
        contact_phone, contact_email, contact_qq, contact_weixin, and notice_method, in the TOML \
        file the privacy column (or [golive] privacy) names, then run again.",
    ),
    h(
        86070,
        "Add owner_setting.notice_method (how users are told of changes, e.g. 小程序首页公告) to \
        the privacy guide the privacy column names, then run again.",
    ),
    h(
        86071,
        "WeChat refused privacy_ver: wxprov sends 2 (the development version). If it repeats, \
        report it with the run id; nothing in the sheet to fix.",
    ),
    h(
        86072,
        "Fix owner_setting.store_expire_timestamp in the privacy guide: digits followed by 天, \
        e.g. \"180天\", saved as UTF-8; or leave it out. Then run again.",
    ),
    h(86073, H_PRIVACY_FILE),
    h(
        86074,
        "There is no live privacy guide to change (the mini-program was never released): wxprov \
        writes the development version (privacy_ver 2), which the release makes live. If this \
        repeats, report it with the run id.",
    ),
    h(
        86075,
        "The live guide's ext_file_media_id cannot change: remove ext_file_media_id from the \
        privacy guide the privacy column names, then run again.",
    ),
    h(
        61039,
        "WeChat is still scanning the committed code for privacy APIs (about a minute after a \
        commit). wxprov takes the step up again a minute later in the same run, without \
        committing again; nothing to fix.",
    ),
    h(
        61040,
        "The code uses a privacy API the mini-program may not use or did not declare: apply for \
        it (get_privacy_interface / apply_privacy_interface, e.g. wx.chooseLocation), declare it \
        in requiredPrivateInfos of the ext_json file, or drop it from the template; then run \
        again.",
    ),
    h(
        61031,
        "An application for this privacy API is already in review; wait for WeChat's answer \
        (get_privacy_interface shows its status), then run again.",
    ),
    h(61032, "The application's supporting video must be one mp4 file: fix its URL and apply again."),
    h(
        61033,
        "WeChat could not download the application's supporting video: make its URL public and \
        reachable, then apply again.",
    ),
    h(
        61034,
        "The application lacks a required field: give api_name, content and one of url_list, \
        pic_list or video_list, then apply again.",
    ),
    h(
        61035,
        "This API needs no application, or its name is misspelt (names are case-sensitive, e.g. \
        wx.chooseLocation). Check the name; nothing to apply for otherwise.",
    ),
    // ---- Go-live: domains (§2) ----
    h(
        85015,
        "The appid in the row is not a mini-program: check the appid column; domains are set on \
        mini-programs only.",
    ),
    h(
        85016,
        "Too many domains of one type (at most 200): shorten that list in the server_domains \
        cell, then run again.",
    ),
    h(
        85017,
        "No domain was added: the list is empty, already set, or not on the platform's own \
        list. Check the server_domains cell against the platform's server domains \
        (open.weixin.qq.com → 开发资料), then run again.",
    ),
    h(
        85018,
        "A domain in server_domains is not on the platform's own server-domain list. Add it on \
        open.weixin.qq.com (第三方平台 → 开发资料 → 服务器域名, or modify_wxa_server_domain), then \
        run again; no sheet change needed.",
    ),
    h(85301, H_DOMAIN_RULES),
    h(
        85302,
        "A domain in server_domains has no ICP filing: file it (备案), or remove it from the \
        cell, then run again. WeChat changed nothing.",
    ),
    h(85303, H_DOMAIN_RULES),
    h(
        86100,
        "A domain's scheme does not fit its type: https:// for request, upload and download, \
        wss:// for ws, udp:// and tcp:// for those. Fix the server_domains cell and run again.",
    ),
    h(86101, "Remove api.weixin.qq.com from the server_domains cell and run again."),
    h(
        86102,
        "The mini-program's 50 domain changes this month are used up; wxprov defers the domains \
        step to the first of next month (Beijing time). Nothing to fix in the sheet.",
    ),
    h(
        45082,
        "A domain in server_domains has no ICP filing: file it (备案), or remove it from the \
        cell, then run again.",
    ),
    h(
        89019,
        "The business domains are already what webview_domains says: wxprov reads them back and \
        counts the step as done. Nothing to fix.",
    ),
    h(
        89020,
        "The platform has no business domain registered. Register the domains of webview_domains \
        on open.weixin.qq.com (第三方平台 → 开发资料 → 业务域名, with the confirm file at each \
        domain's root), then run again; no sheet change needed.",
    ),
    h(
        89021,
        "A domain in webview_domains is neither a business domain of the platform nor a \
        sub-domain of one. Register it on open.weixin.qq.com (第三方平台 → 开发资料 → 业务域名), \
        or fix the cell, then run again.",
    ),
    h(89029, "Too many business domains: shorten the webview_domains cell, then run again."),
    h(
        89231,
        "A person's mini-program cannot have business domains: clear the webview_domains cell \
        and run again.",
    ),
    h(
        86103,
        "The business domain's confirm file was not found or differed: serve the file \
        (get_webviewdomain_confirmfile) byte for byte at the domain's root, then run again.",
    ),
    h(
        44002,
        "WeChat received a POST without a body: a wxprov bug, not a sheet problem. Report it \
        with the run id and the row's line number.",
    ),
    // ---- Go-live: code and audit (§3) ----
    h(
        85064,
        "The template is not in the platform's library: check template_id (or [golive] \
        template_id) against gettemplatelist (open.weixin.qq.com → 模板库), then run again.",
    ),
    h(
        85065,
        "The platform's template library is full (200): delete old templates on \
        open.weixin.qq.com (模板库) before adding one.",
    ),
    h(85013, H_EXT_JSON),
    h(
        85014,
        "template_id is not a template of the platform's library: check the template_id cell \
        (or [golive] template_id) against gettemplatelist, then run again.",
    ),
    h(
        85043,
        "WeChat found the template broken: check template_id, or add the template to the \
        library again from its draft, then run again.",
    ),
    h(
        85044,
        "The template's code package is over WeChat's size limit: make the template smaller (or \
        use sub-packages), add it to the library again and put the new template_id in the sheet.",
    ),
    h(85045, H_EXT_JSON),
    h(
        85046,
        "A tabBar item in the ext_json file has no pagePath: fix the file the row names, then \
        run again.",
    ),
    h(
        85047,
        "The ext_json file's pages list is empty: list the template's pages (or leave pages \
        out), then run again.",
    ),
    h(85048, H_EXT_JSON),
    h(80066, H_PLUGIN),
    h(80067, H_PLUGIN),
    h(80082, H_PLUGIN),
    h(85310, H_PRIVATE_INFOS),
    h(85311, H_PRIVATE_INFOS),
    h(85312, H_PRIVATE_INFOS),
    h(
        9402202,
        "The mini-program's previous commit or submission has not finished: wxprov backs off \
        and tries again, one operation at a time. If it keeps coming back, run again later.",
    ),
    h(
        9402203,
        "A standard template takes only extAppid, ext and window in ext_json: remove the other \
        keys from the file the row names, then run again.",
    ),
    h(86000, H_NOT_PLATFORM_CODE),
    h(86001, H_NOT_PLATFORM_CODE),
    h(85006, H_AUDIT_ITEMS),
    h(85007, H_AUDIT_ITEMS),
    h(85011, H_AUDIT_ITEMS),
    h(
        85008,
        "The mini-program has no approved category (or the audit item names another): wait for \
        the categories step to be approved (`wxprov status`), or fix the category of the \
        audit_items cell, then run again.",
    ),
    h(
        85009,
        "An audit is already running. If it is this row's user_version wxprov follows it (push \
        or get_auditstatus); if it is another version, the step is blocked: wait for that \
        audit, or withdraw it (undocodeaudit), then run again.",
    ),
    h(85010, H_AUDIT_ITEMS),
    h(85023, H_AUDIT_ITEMS),
    h(85051, "The version_desc cell (or the preview) is too long: shorten it, then run again."),
    h(
        85077,
        "A category of the audit item is no longer valid (WeChat may have withdrawn it): change \
        the mini-program's categories (categories column) and audit_items, then run again.",
    ),
    h(
        85085,
        "The platform's audit quota for this month is used up (one pool for every mini-program \
        of the platform). wxprov defers the row and submits it as soon as a later run's \
        queryquota shows rest > 0 (a temporary increase from 小程序服务商助手 → 审核管理), at the \
        latest on the first of next month, Beijing time.",
    ),
    h(
        85086,
        "No code has been committed yet: the code step must be done first (template_id, or \
        golive 1 with [golive] template_id); run again.",
    ),
    h(
        85087,
        "The code calls navigateToMiniProgram: list the target appids in \
        navigateToMiniProgramAppIdList of the ext_json file, then run again.",
    ),
    h(85092, "The audit's preview_info is malformed: a wxprov bug. Report it with the run id."),
    h(85093, "Too many preview pictures or videos for the audit: a wxprov bug. Report it with the run id."),
    h(
        85094,
        "A social category (社区/论坛, 笔记, 问答) needs a content-moderation declaration \
        (ugc_declare) on its first submission, which wxprov does not send yet: submit this one \
        on the platform by hand, or choose another category.",
    ),
    h(
        86002,
        "The mini-program's name, avatar or signature is not set yet: fill the nickname, avatar \
        and signature columns (or wait for the name's review), then run again.",
    ),
    h(
        86007,
        "WeChat does not let this mini-program submit code (see its notices on \
        mp.weixin.qq.com). Have the merchant resolve it, then run again.",
    ),
    h(86009, H_PLATFORM_AUDIT_LIMIT),
    h(86010, H_PLATFORM_AUDIT_LIMIT),
    h(
        87006,
        "The appid is a mini-game, which cannot be submitted this way: check the appid column, \
        or remove the go-live cells from the row.",
    ),
    h(
        9400001,
        "The mini-program has live streaming (直播) enabled, which this release does not allow: \
        have the merchant release it on mp.weixin.qq.com, or set release to manual.",
    ),
    h(
        85012,
        "WeChat does not know the audit id wxprov stored: the audit step reads the latest audit \
        (get_latest_auditstatus) on the next run. If it repeats, report it with the run id.",
    ),
    h(
        87013,
        "The mini-program's audit withdrawals are used up (5 a day, 10 a month; some say 1 a \
        day): wxprov defers the step to the next day, Beijing time. Nothing to fix.",
    ),
    h(
        89401,
        "WeChat's audit system is unstable: wxprov backs off and retries; a later run tries \
        again. Nothing to fix.",
    ),
    h(
        89402,
        "The mini-program has no audit waiting, so there is nothing to speed up. Check the \
        audit step in `wxprov status`.",
    ),
    h(89403, H_SPEEDUP),
    h(89404, H_SPEEDUP),
    h(
        89405,
        "The platform's speed-ups this month are used up: the speed-up is skipped until the \
        first of next month (Beijing time); the audit goes on at its normal pace.",
    ),
    h(
        85019,
        "There is no approved version to release: the audit step must be approved first (`wxprov \
        status`); run again after it is.",
    ),
    h(
        85020,
        "The audit has not been approved, so nothing can be released yet: wait for the audit \
        (`wxprov status`), then run again.",
    ),
    h(
        85052,
        "The approved version is already released: wxprov confirms it with getversioninfo and \
        counts the release step as done. Nothing to fix.",
    ),
    h(
        87011,
        "A phased release (灰度发布) is under way, so WeChat does not roll back; finish or stop \
        it on mp.weixin.qq.com first.",
    ),
    h(
        87012,
        "This version cannot be rolled back (only the last 5, and a rolled-back one not again): \
        choose another version.",
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
