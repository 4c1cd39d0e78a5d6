//! `wxprov explain ERRCODE`: what a WeChat errcode means and what to do about it.
//!
//! Reports and logs carry bare errcodes (`results.csv` has an `errcode` column, WeChat's own
//! `errmsg` is often terse English). Ops staff triaging a failed row need the Chinese text
//! the documents give, an English gloss, how wxprov treats the code (retry, token refresh,
//! deferral, or a person) and a concrete next step, without opening the API documents. This
//! command prints exactly that from the catalogue in [`crate::wechat::errcode`].

use chrono::{DateTime, Utc};

use crate::exit::Exit;
use crate::hints::ClassText as _;
use crate::wechat::errcode;
use wechat_open::errcode::{class_of, defer_until, ErrClass};
use wechat_open::TokenKind;

#[derive(Debug, clap::Args)]
/// Explain a WeChat errcode: its Chinese text, an English gloss, how wxprov treats it
/// (retry, token, defer, stop, blocked, human, or for go-live review and done) and what to do about
/// it.
pub struct Args {
    /// The errcode, e.g. 61055 or -1
    #[arg(allow_negative_numbers = true)]
    pub errcode: String,
}

/// Runs the subcommand: parses the code, prints its explanation, exits 0 (also for a code
/// the catalogue does not know).
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let code = parse_code(&args.errcode)?;
    print!("{}", render(code));
    Ok(Exit::Ok)
}

/// Parses an errcode as typed: an integer, allowing surrounding spaces and the Unicode minus
/// sign the documents use for −1.
fn parse_code(arg: &str) -> anyhow::Result<i64> {
    let text = arg.trim().replace('\u{2212}', "-");
    text.parse::<i64>().map_err(|_| {
        crate::exit::usage(format!(
            "`{}` is not an errcode: give the number WeChat returned, e.g. `wxprov explain 61055` or `wxprov explain -1`",
            arg.trim()
        ))
    })
}

/// The explanation of `code`, as of now.
pub fn render(code: i64) -> String {
    render_at(code, Utc::now())
}

/// Width of the label column.
const LABEL: usize = 9;
/// Total line width the hint is wrapped to.
const WIDTH: usize = 96;

/// The explanation of `code`; for a defer code, `now` gives the example retry time.
pub fn render_at(code: i64, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    line(&mut out, "errcode", &code.to_string());
    match errcode::lookup(code) {
        Some(info) => {
            line(&mut out, "chinese", info.zh);
            line(&mut out, "english", &wrap(info.en, WIDTH - LABEL));
            class_lines(&mut out, code, info.class, now);
            line(&mut out, "hint", &wrap(info.hint, WIDTH - LABEL));
            // Where the class depends on whose token the call carried (DESIGN §5).
            for other in errcode::entries(code).into_iter().filter(|e| !std::ptr::eq(*e, info)) {
                let Some(token) = other.token else { continue };
                line(&mut out, "on", &wrap(carried(token), WIDTH - LABEL));
                if other.en != info.en {
                    line(&mut out, "english", &wrap(other.en, WIDTH - LABEL));
                }
                class_lines(&mut out, code, other.class, now);
                line(&mut out, "hint", &wrap(other.hint, WIDTH - LABEL));
            }
        }
        None => {
            line(&mut out, "", "unknown to wxprov's catalogue: the API documents do not list it");
            let class = class_of(code);
            class_lines(&mut out, code, class, now);
            line(
                &mut out,
                "hint",
                &wrap(
                    "wxprov treats an unknown code as needing a person. Read the errmsg in \
                    results.csv, look the code up in WeChat's documentation, and fix the row \
                    it names; if the code turns out to be transient or quota-related, ask for \
                    it to be added to the catalogue.",
                    WIDTH - LABEL,
                ),
            );
        }
    }
    out
}

/// Whose credentials a token-specific entry is about, in words.
fn carried(token: TokenKind) -> &'static str {
    match token {
        TokenKind::None => "api_component_token, which carries the component's secret:",
        TokenKind::Component => {
            "a call with the component's own credentials (api_component_token, or a \
             component_access_token call):"
        }
        TokenKind::Authorizer => "a call with one account's access_token:",
    }
}

fn class_lines(out: &mut String, code: i64, class: ErrClass, now: DateTime<Utc>) {
    let text = format!("{} ({})", class.as_str(), class.describe());
    line(out, "class", &wrap(&text, WIDTH - LABEL));
    if let Some(until) = defer_until(code) {
        let at = wechat_open::beijing::show(Some(until.not_before(now).timestamp()));
        let text = format!("{}\nif hit now: {at}", wrap(&format!("from {}", until.describe()), WIDTH - LABEL));
        line(out, "retry", &text);
    }
}

/// Appends `label` and `text`, continuation lines indented under the text.
fn line(out: &mut String, label: &str, text: &str) {
    for (i, part) in text.split('\n').enumerate() {
        let label = if i == 0 { label } else { "" };
        out.push_str(format!("{label:<LABEL$}{part}").trim_end());
        out.push('\n');
    }
}

/// Word-wraps `text` to `width` terminal columns (a Chinese character takes two), breaking
/// only at spaces (never inside a word, nor at a hyphen in `--retry-failed`): textwrap, first
/// fit.
fn wrap(text: &str, width: usize) -> String {
    let options = textwrap::Options::new(width)
        .break_words(false)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    textwrap::fill(&text.split_whitespace().collect::<Vec<_>>().join(" "), options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{exit_of, Exit};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn known_code() {
        let text = render(61055);
        assert!(text.starts_with("errcode  61055\n"), "{text}");
        assert!(text.contains("chinese  超出公众号每月可快速创建限额\n"), "{text}");
        assert!(text.contains("english  the official account's monthly"), "{text}");
        assert!(text.contains("class    defer ("), "{text}");
        assert!(text.contains("retry    from the first of next month, Beijing time (00:00 UTC+8)\n"), "{text}");
        assert!(text.contains("hint     This official account"), "{text}");
        assert!(text.contains("official_appid"), "the hint names the column: {text}");
        for l in text.lines() {
            assert!(textwrap::core::display_width(l) <= WIDTH, "too long: {l}");
        }
    }

    #[test]
    fn unknown_code() {
        let text = render(99_999);
        assert!(text.starts_with("errcode  99999\n"), "{text}");
        assert!(text.contains("unknown to wxprov's catalogue"), "{text}");
        assert!(text.contains("class    human ("), "{text}");
    }

    #[test]
    fn defer_code_says_when() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T03:15:00Z").expect("test timestamp").with_timezone(&Utc);
        let text = render_at(53200, now);
        assert!(text.contains("class    defer ("), "{text}");
        assert!(text.contains("the first of next month"), "{text}");
        assert!(text.contains("2026-12-01 00:00 Beijing time"), "{text}");
        let text = render_at(45009, now);
        assert!(text.contains("2026-11-22 00:00 Beijing time"), "{text}");
    }

    #[test]
    fn retry_and_token_codes() {
        assert!(render(-1).contains("class    retry ("));
        assert!(render(42001).contains("class    token ("));
    }

    #[test]
    fn parses_codes() {
        assert_eq!(parse_code("61055").ok(), Some(61055));
        assert_eq!(parse_code(" -1 ").ok(), Some(-1));
        assert_eq!(parse_code("−1").ok(), Some(-1));
        let err = parse_code("abc").expect_err("not a number");
        assert_eq!(exit_of(&err), Exit::Usage);
        assert!(err.to_string().contains("`abc` is not an errcode"));
    }

    #[test]
    fn cli_accepts_negative_code() {
        let cli = Cli::try_parse_from(["explain", "-1"]).expect("-1 is a positional");
        assert_eq!(cli.args.errcode, "-1");
        assert_eq!(run(&cli.args).ok(), Some(Exit::Ok));
        let cli = Cli::try_parse_from(["explain", "x1"]).expect("parsed as text");
        let err = run(&cli.args).expect_err("usage error");
        assert_eq!(exit_of(&err), Exit::Usage);
    }

    #[test]
    fn wrap_breaks_at_width() {
        assert_eq!(wrap("aaa bbb ccc ddd", 7), "aaa bbb\nccc ddd");
        // Runs of spaces and line breaks in the catalogue's text are one space.
        assert_eq!(wrap("aaa   bbb\n ccc", 11), "aaa bbb ccc");
        // A word longer than the width stays whole on its own line.
        assert_eq!(wrap("a abcdefghij b", 5), "a\nabcdefghij\nb");
        // Hyphens and slashes are not places to break.
        assert_eq!(wrap("again with --retry-failed", 20), "again with\n--retry-failed");
        // Chinese characters take two columns each: 开发资料 is 8 columns wide, not 4.
        assert_eq!(wrap("ab 开发资料 cd", 9), "ab\n开发资料\ncd");
        assert_eq!(wrap("ab 开发资料 cd", 11), "ab 开发资料\ncd");
    }

    /// Every wrapped line of every explanation fits the width on a terminal. (The `chinese`
    /// line is the documents' text as they give it, on one line, to be searched for there.)
    #[test]
    fn every_explanation_fits() {
        for entry in errcode::all() {
            for l in render(entry.code).lines().filter(|l| !l.starts_with("chinese  ")) {
                assert!(textwrap::core::display_width(l) <= WIDTH, "{}: too long: {l}", entry.code);
            }
        }
    }
}
