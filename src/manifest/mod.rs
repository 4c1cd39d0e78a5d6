//! Manifests: the spreadsheets ops staff fill, read and validated into rows and steps (DESIGN §3).
