//! Job files, common options and secrets from the environment (DESIGN §1–§2).
