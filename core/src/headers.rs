//! A decision's response headers: built per request (an allowed request's
//! rate-limit headers), or rendered once per engine and shared by every denial
//! of that kind, so a denial costs no copy of its headers.

use std::sync::Arc;

use serde::Serialize;

/// Response headers as (name, value) pairs, in order. Reads as a slice.
#[derive(Clone)]
pub struct Headers(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Vec<(String, String)>),
    Shared(Arc<[(String, String)]>),
}

impl Headers {
    /// Headers rendered once and shared (cloning them is a reference count).
    pub fn shared(headers: Arc<[(String, String)]>) -> Self {
        Self(Repr::Shared(headers))
    }

    /// The pairs as a slice.
    pub fn as_slice(&self) -> &[(String, String)] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(s) => s,
        }
    }

    /// The pairs as an owned list (a copy only when shared).
    pub fn into_vec(self) -> Vec<(String, String)> {
        match self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(s) => s.to_vec(),
        }
    }
}

impl Default for Headers {
    fn default() -> Self {
        Self(Repr::Owned(Vec::new()))
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(headers: Vec<(String, String)>) -> Self {
        Self(Repr::Owned(headers))
    }
}

impl std::ops::Deref for Headers {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Headers {}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_owned_headers_read_compare_and_serialize_alike() {
        let pairs = vec![("Cache-Control".to_string(), "no-store".to_string())];
        let shared = Headers::shared(Arc::from(pairs.clone()));
        let owned = Headers::from(pairs.clone());
        assert_eq!(shared, owned);
        assert_eq!(serde_json::to_string(&shared).unwrap(), r#"[["Cache-Control","no-store"]]"#);
        assert_eq!(serde_json::to_string(&shared).unwrap(), serde_json::to_string(&pairs).unwrap());
        let again = shared.clone();
        assert!(std::ptr::eq(again.as_slice().as_ptr(), shared.as_slice().as_ptr()), "a clone shares");
        assert_eq!(again.into_vec(), pairs);
        assert!(Headers::default().is_empty());
    }
}
