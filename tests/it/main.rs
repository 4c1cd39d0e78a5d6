//! Integration tests: each drives the real `wxprov` binary, most of them against `wxprov sim`
//! on loopback, and checks what the simulator received and what the ledger says.
//! One file per feature; `harness` is the small fluent runner they share.

// A test binary has no public API: `pub` here means shared between its modules.
#![allow(unreachable_pub)]

mod harness;

mod api;
mod appid;
mod blocked;
mod blocked_answers;
mod categories;
mod check;
mod crash;
mod explain;
mod faults;
mod feedback;
mod formats;
mod golive_audit;
mod golive_input;
mod golive_steps;
mod guide;
mod help;
mod images;
mod interrupt;
mod ledger_failure;
mod ledger_upkeep;
mod links;
mod name_quota;
mod plan;
mod preflight;
mod quota;
mod quota_per_account;
mod readme;
mod readonly;
mod reauthorize;
mod reconcile;
mod register;
mod registration_reconcile;
mod rehearsal;
mod reports;
mod retry;
mod review_without_id;
mod run;
mod run_status;
mod secrets;
mod serve;
mod settings;
mod sheet_columns;
mod sheet_text;
mod sheet_values;
mod sheet_xlsx;
mod status_page;
mod stop;
mod streaming;
mod template;
mod token_refresh;
mod tokens;
mod verify_ticket;
mod wechat_open_alone;
