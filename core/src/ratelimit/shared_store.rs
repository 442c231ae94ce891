//! What a rate-limit store shared between processes keeps, written once for
//! every host (Python's `keyproof.redis`, the JS layer's `redis.js`): the key a
//! bucket lives under, the text a state is stored as, and the Redis / Valkey
//! compare-and-set script. Python and Node processes then share one bucket, and
//! no host spells the layout itself.

use super::RateLimitState;

/// Key prefix of every bucket, unless the host picks another.
pub const DEFAULT_KEY_PREFIX: &str = "keyproof:rl:";

/// The largest |`tat_us`| a stored state may hold: 2^53 − 1, the integers a
/// JavaScript number reads exactly, so every runtime reads the same state.
pub const MAX_STORED_TAT_US: i64 = 9_007_199_254_740_991;

/// The compare-and-set, as a Lua script for Redis / Valkey `EVAL`. `KEYS[1]`: the
/// bucket's key; `ARGV[1]`: the state text the decision was computed from (`''`
/// for none); `ARGV[2]`: the new state text; `ARGV[3]`: time to live in ms. A
/// stored value that is not a state in canonical form ([`parse_state_text`])
/// counts as none. Returns `{1}` when stored, else `{0, the current value or ''}`.
pub const COMPARE_AND_SET_SCRIPT: &str = r#"local cur = redis.call('GET', KEYS[1])
local seen = ''
if cur then
  local n = string.match(cur, '^{"tat_us":(%-?%d+)}$')
  if n and (n == '0' or string.match(n, '^%-?[1-9]')) and math.abs(tonumber(n)) <= 9007199254740991 then
    seen = cur
  end
end
if seen ~= ARGV[1] then return {0, cur or ''} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1}
"#;

/// The store key of core's bucket `<key id>:<class>`: `<prefix>{<key id>}:<class>`.
/// The braces are a Redis Cluster hash tag: every bucket of one key shares a slot.
pub fn store_key(bucket: &str, prefix: &str) -> String {
    match bucket.split_once(':') {
        Some((key_id, class)) => format!("{prefix}{{{key_id}}}:{class}"),
        None => format!("{prefix}{{{bucket}}}"),
    }
}

/// The stored text of a state (core's JSON, `{"tat_us":<n>}`), `""` for none.
pub fn state_text(state: Option<RateLimitState>) -> String {
    state.map_or_else(String::new, |s| format!("{{\"tat_us\":{}}}", s.tat_us))
}

/// A stored value as a state: only the canonical text [`state_text`] writes (no
/// spaces, no leading zeros, |`tat_us`| ≤ [`MAX_STORED_TAT_US`]); anything else is
/// `None` and counts as a full bucket, exactly as the script reads it.
pub fn parse_state_text(raw: &str) -> Option<RateLimitState> {
    let number = raw.strip_prefix("{\"tat_us\":")?.strip_suffix('}')?;
    let digits = number.strip_prefix('-').unwrap_or(number);
    let canonical = number == "0" || (!digits.is_empty() && !digits.starts_with('0'));
    if !canonical || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let tat_us: i64 = number.parse().ok()?;
    (tat_us.checked_abs()? <= MAX_STORED_TAT_US).then_some(RateLimitState { tat_us })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_of_one_key_share_a_cluster_slot() {
        assert_eq!(store_key("key_2f8a3b1c:starter", DEFAULT_KEY_PREFIX), "keyproof:rl:{key_2f8a3b1c}:starter");
        assert_eq!(store_key("a:b:c", "p:"), "p:{a}:b:c");
        assert_eq!(store_key("lonely", "p:"), "p:{lonely}");
    }

    #[test]
    fn state_text_round_trips_in_canonical_form_only() {
        for tat_us in [0, 1, -1, 1_773_829_800_000_000, MAX_STORED_TAT_US, -MAX_STORED_TAT_US] {
            let state = RateLimitState { tat_us };
            assert_eq!(parse_state_text(&state_text(Some(state))), Some(state), "{tat_us}");
        }
        assert_eq!(state_text(None), "");
        for bad in [
            "",
            "{}",
            "{\"tat_us\":}",
            "{\"tat_us\":-}",
            "{\"tat_us\":-0}",
            "{\"tat_us\":007}",
            "{\"tat_us\": 7}",
            "{\"tat_us\":7} ",
            "{\"tat_us\":+7}",
            "{\"tat_us\":7.0}",
            "{\"tat_us\":9007199254740992}",
            "{\"tat_us\":-9223372036854775808}",
            "{\"tat_us\":99999999999999999999}",
            "{\"tat_us\":7,\"x\":1}",
        ] {
            assert_eq!(parse_state_text(bad), None, "{bad:?}");
        }
    }
}
