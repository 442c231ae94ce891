//! A [`Completion`] action as a plain object for a JS host:
//! `{kind, value?, write?, record?, at?}`, where `kind` is `lookup_record`,
//! `load_rate_state`, `compare_and_set`, `save_record`, `touch_last_used`,
//! `count_request`, `store_contended` or `done`.

use serde::Serialize;

use super::decided::RateWriteView;
use crate::complete::{Action, Completion};
use crate::record::KeyRecord;

/// `hostWrites` bits of a JS host: it saves upgraded records (1), writes the
/// last use (2), counts requests (4). Without any: `SAVES | TOUCHES`.
pub const SAVES: u32 = 1;
/// See [`SAVES`].
pub const TOUCHES: u32 = 2;
/// See [`SAVES`].
pub const COUNTS: u32 = 4;

/// A completion for a JS host whose writes are `host_writes` (see [`SAVES`]).
pub fn completion(v: crate::Verification, host_writes: Option<u32>) -> Completion {
    let writes = host_writes.unwrap_or(SAVES | TOUCHES);
    let mut c = Completion::new(v);
    c.set_host_writes(writes & SAVES != 0, writes & TOUCHES != 0);
    c.set_host_counts(writes & COUNTS != 0);
    c
}

/// One action in the storage schema (see the module docs).
#[derive(Debug, Serialize)]
pub struct ActionView<'a> {
    kind: &'static str,
    /// The storage hash, the bucket key, or the record id to touch or count.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    write: Option<RateWriteView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<&'a KeyRecord>,
    /// The last-use instant (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

impl ActionView<'_> {
    /// The action's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

impl<'a> From<Action<'a>> for ActionView<'a> {
    fn from(action: Action<'a>) -> Self {
        let bare = |kind| Self { kind, value: None, write: None, record: None, at: None };
        match action {
            Action::LookupRecord(hash) => Self { value: Some(hash), ..bare("lookup_record") },
            Action::LoadRateState(key) => Self { value: Some(key), ..bare("load_rate_state") },
            Action::CompareAndSet(w) => Self { write: Some(RateWriteView::from(w)), ..bare("compare_and_set") },
            Action::SaveRecord(record) => Self { record: Some(record), ..bare("save_record") },
            Action::TouchLastUsed { key_id, at } => Self {
                value: Some(key_id),
                at: Some(crate::timestamp::format_timestamp(&at)),
                ..bare("touch_last_used")
            },
            Action::CountRequest { key_id } => Self { value: Some(key_id), ..bare("count_request") },
            Action::StoreContended => bare("store_contended"),
            Action::Done(_) => bare("done"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RateWrite;
    use crate::RateLimitState;

    #[test]
    fn actions_in_the_storage_schema() {
        let write =
            RateWrite { key: "k:default".into(), expected: None, new: RateLimitState { tat_us: 5 }, ttl_seconds: 2 };
        let view = serde_json::to_value(ActionView::from(Action::CompareAndSet(&write))).unwrap();
        let expected = serde_json::json!({"kind": "compare_and_set",
            "write": {"key": "k:default", "expected": null, "new": {"tat_us": 5}, "ttl_seconds": 2}});
        assert_eq!(view, expected);
        let at = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
        let touch = serde_json::to_value(ActionView::from(Action::TouchLastUsed { key_id: "key_1", at })).unwrap();
        assert_eq!(
            touch,
            serde_json::json!({"kind": "touch_last_used", "value": "key_1", "at": "2026-03-18T10:30:00Z"})
        );
        let count = serde_json::to_value(ActionView::from(Action::CountRequest { key_id: "key_1" })).unwrap();
        assert_eq!(count, serde_json::json!({"kind": "count_request", "value": "key_1"}));
        assert_eq!(ActionView::from(Action::StoreContended).kind(), "store_contended");
    }
}
