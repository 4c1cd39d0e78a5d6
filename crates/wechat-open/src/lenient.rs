//! Lenient deserializers for fields WeChat's documents describe loosely, for
//! `#[serde(deserialize_with = "…")]`.
//!
//! The fastregister example sends booleans as the strings `"true"`/`"false"`; ids and counts
//! are sometimes numbers, sometimes strings; optional fields are missing or `null`. These
//! helpers accept every spelling seen so that a harmless variation never fails a run.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A boolean from `true`, `"true"`, `1`, `"1"` (and their false forms); missing or null is false.
pub fn bool_any<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => b,
        Some(Value::Number(n)) => n.as_f64().map(|f| f != 0.0).unwrap_or(false),
        Some(Value::String(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        }
        _ => false,
    })
}

/// An integer from a number or a numeric string; missing, null or empty is 0.
pub fn i64_any<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| D::Error::custom(format!("not an integer: {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| D::Error::custom(format!("not an integer: {s:?}"))),
        Some(Value::Bool(b)) => Ok(b as i64),
        Some(other) => Err(D::Error::custom(format!("not an integer: {other}"))),
    }
}

/// A string from a string or a number; missing or null is empty.
pub fn string_any<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    })
}

/// A list that may be missing or null (then empty).
pub fn vec_any<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "bool_any")]
        b: bool,
        #[serde(default, deserialize_with = "i64_any")]
        n: i64,
        #[serde(default, deserialize_with = "string_any")]
        s: String,
    }

    #[test]
    fn accepts_loose_spellings() {
        let t: T = serde_json::from_str(r#"{"b":"true","n":"12","s":34}"#).unwrap();
        assert!(t.b);
        assert_eq!(t.n, 12);
        assert_eq!(t.s, "34");
        let t: T = serde_json::from_str(r#"{"b":false,"n":7,"extra":1}"#).unwrap();
        assert!(!t.b);
        assert_eq!(t.n, 7);
        assert_eq!(t.s, "");
        let t: T = serde_json::from_str(r#"{"b":null,"n":null,"s":null}"#).unwrap();
        assert!(!t.b && t.n == 0 && t.s.is_empty());
    }
}
