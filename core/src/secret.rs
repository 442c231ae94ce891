//! A string that holds secret material and refuses to print it.

use std::fmt;

/// Secret text (a plaintext key, client secret or pepper). `Debug` and `Display`
/// are redacted; read it with [`Secret::expose`] only where it is really needed.
/// The bytes are zeroed when it is dropped.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl zeroize::ZeroizeOnDrop for Secret {}

impl Secret {
    /// Wraps secret text.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Constant-time equality of two byte strings (length is not hidden), by the
/// `constant_time_eq` crate: SIMD words OR-ed together behind an optimizer
/// barrier (and data-independent timing mode on aarch64), so a 71-byte tagged
/// hash costs a few vector loads and never stops at the first difference.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time_eq::constant_time_eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("sk_live_supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert!(!format!("{s}").contains("supersecret"));
        assert_eq!(s.expose(), "sk_live_supersecret");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(Secret::new("a"), Secret::new("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
        assert!(!ct_eq(b"ab", b"abc"));
        let a = b"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for i in 0..a.len() {
            let mut b = *a;
            b[i] ^= 1;
            assert!(!ct_eq(a, &b), "byte {i}");
        }
        assert!(ct_eq(a, a));
        assert!(ct_eq(b"", b""));
    }
}
