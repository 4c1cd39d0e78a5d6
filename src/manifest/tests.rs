//! Bad-input suite.
