//! The simulator: a local, stateful stand-in for every WeChat endpoint wxprov uses (DESIGN §8).
