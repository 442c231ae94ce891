//! Expands caller-supplied random bytes into a stream, since core never reads the OS RNG.

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// Minimum random input: 128 bits.
pub const MIN_RANDOM_BYTES: usize = 16;

/// A deterministic byte stream: SHA-256(domain ‖ seed ‖ counter) blocks. With a
/// uniformly random seed of ≥ 128 bits the output is as unpredictable as the seed.
/// Seed and block are zeroed on drop.
#[derive(zeroize::ZeroizeOnDrop)]
pub struct ByteStream {
    seed: Vec<u8>,
    #[zeroize(skip)]
    domain: &'static str,
    counter: u64,
    block: [u8; 32],
    pos: usize,
}

impl ByteStream {
    /// Builds a stream; fails with `insufficient_randomness` below 16 bytes.
    pub fn new(domain: &'static str, seed: &[u8]) -> Result<Self> {
        if seed.len() < MIN_RANDOM_BYTES {
            return Err(Error::new(
                ErrorKind::InsufficientRandomness,
                format!("need at least {MIN_RANDOM_BYTES} random bytes, got {}", seed.len()),
            ));
        }
        Ok(Self { seed: seed.to_vec(), domain, counter: 0, block: [0; 32], pos: 32 })
    }

    /// The next `n` bytes.
    pub fn take_bytes(&mut self, n: usize) -> Vec<u8> {
        self.by_ref().take(n).collect()
    }
}

impl Iterator for ByteStream {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.pos >= self.block.len() {
            let mut h = Sha256::new();
            h.update(self.domain.as_bytes());
            h.update([0u8]);
            h.update(&self.seed);
            h.update(self.counter.to_be_bytes());
            self.block = h.finalize().into();
            self.counter = self.counter.wrapping_add(1);
            self.pos = 0;
        }
        let b = self.block.get(self.pos).copied();
        self.pos = self.pos.saturating_add(1);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_bytes_is_an_error() {
        let err = ByteStream::new("t", &[0; 15]).err().map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::InsufficientRandomness));
    }

    #[test]
    fn deterministic_and_domain_separated() {
        let a = ByteStream::new("a", &[7; 16]).map(|mut s| s.take_bytes(40)).ok();
        let a2 = ByteStream::new("a", &[7; 16]).map(|mut s| s.take_bytes(40)).ok();
        let b = ByteStream::new("b", &[7; 16]).map(|mut s| s.take_bytes(40)).ok();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_eq!(a.map(|v| v.len()), Some(40));
    }
}
