//! The callback receiver's building blocks: WeChat's message encryption and event parsing (DESIGN §7).
