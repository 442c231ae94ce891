//! What a host is asked to do next in the whole host loop ([`super::Completion`]).

use chrono::{DateTime, Utc};

use crate::decision::Decision;
use crate::engine::RateWrite;
use crate::record::KeyRecord;

/// What the host must do next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    /// Look a record up under this storage hash (or, for an access token, by this
    /// record id); answer with [`super::Completion::record`].
    LookupRecord(&'a str),
    /// Load the rate-limit state stored under this key (again after a lost
    /// compare-and-set); answer with [`super::Completion::rate_state`], or
    /// [`super::Completion::rate_state_unavailable`] when the store failed.
    LoadRateState(&'a str),
    /// Store `new` under `key` if the stored state is still `expected`; answer
    /// with [`super::Completion::written`] (whether the store took it).
    CompareAndSet(&'a RateWrite),
    /// Save this record (its hash upgraded: a finished migration); then [`super::Completion::saved`].
    SaveRecord(&'a KeyRecord),
    /// Write `at` as the record's `last_used_at` if newer; then [`super::Completion::touched`].
    TouchLastUsed {
        /// The record's id.
        key_id: &'a str,
        /// The instant of this use.
        at: DateTime<Utc>,
    },
    /// Add one to the record's request count (seed 001's per-key request
    /// counts: requests the key was let through for); then
    /// [`super::Completion::counted`]. Asked only of a host that counts
    /// ([`super::Completion::set_host_counts`]), once per allowed request, last.
    CountRequest {
        /// The record's id.
        key_id: &'a str,
    },
    /// The store refused [`super::MAX_WRITE_TRIES`] compare-and-sets in a row (or the
    /// host's own limit): fail the request as a server error, or answer
    /// [`super::Completion::rate_state_unavailable`] to have core decide it as a store failure.
    StoreContended,
    /// Answer the request with this decision.
    Done(&'a Decision),
}
