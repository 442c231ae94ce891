//! The host's loop over the verification step, written once for every binding:
//! the host passes its two reads as closures, and each either answers or stops
//! the loop (an async host stops at an awaitable, awaits it, answers that step
//! itself, then drives on).

use std::ops::ControlFlow;
use std::sync::Arc;

use crate::engine::{Step, Verification};
use crate::ratelimit::RateLimitState;
use crate::record::KeyRecord;

impl Verification {
    /// Answers [`Step::LookupRecord`] with `lookup(hash)` and
    /// [`Step::LoadRateState`] with `load_state(key)` until the step is
    /// [`Step::Done`] (`Continue`), or until one of them breaks with `B`: the
    /// step it was asked for stays open, to be answered by the host. `lookup`
    /// answers with owned records or with `Arc`s (see [`Verification::shared_record`]).
    pub fn drive<B, R: Into<Arc<KeyRecord>>>(
        &mut self,
        mut lookup: impl FnMut(&str) -> ControlFlow<B, Option<R>>,
        mut load_state: impl FnMut(&str) -> ControlFlow<B, Option<RateLimitState>>,
    ) -> ControlFlow<B> {
        loop {
            match self.next_step() {
                Step::LookupRecord(hash) => {
                    let record = lookup(hash)?;
                    self.shared_record(record.map(Into::into));
                }
                Step::LoadRateState(key) => {
                    let state = load_state(key)?;
                    self.rate_state(state);
                }
                Step::Done => return ControlFlow::Continue(()),
            }
        }
    }
}

/// A host callback's answer as [`Verification::drive`] takes it: `Ok(Some(answer))`
/// goes on, `Ok(None)` stops for the host to answer the step itself
/// (`Break(None)`), `Err(e)` stops with the error (`Break(Some(e))`).
pub fn answered<T, E>(answer: Result<Option<T>, E>) -> ControlFlow<Option<E>, T> {
    match answer {
        Ok(Some(answer)) => ControlFlow::Continue(answer),
        Ok(None) => ControlFlow::Break(None),
        Err(e) => ControlFlow::Break(Some(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use crate::{mint, Engine, MintOptions};

    #[test]
    fn drives_to_the_end_or_stops_where_the_host_breaks() {
        let engine = Engine::from_json(
            r#"{"formats": ["matchii_live"], "policy": {
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
            "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#,
        )
        .unwrap();
        let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
        let options = MintOptions::from_json(r#"{"name": "Driven", "scopes": ["briefs:read"]}"#).unwrap();
        let format = engine.formats().get("matchii_live").unwrap();
        let minted = mint(format, engine.hasher(), &options, &[7; 32], now).unwrap();
        let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];

        let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now);
        let stopped =
            v.drive(|_| ControlFlow::Continue(Some(minted.record.clone())), |key| ControlFlow::Break(key.len()));
        assert!(matches!(stopped, ControlFlow::Break(n) if n > 0));
        assert!(matches!(v.next_step(), crate::Step::LoadRateState(_)));
        let done = v.drive(|_| ControlFlow::<_, Option<crate::KeyRecord>>::Break(0), |_| ControlFlow::Continue(None));
        assert_eq!(done, ControlFlow::Continue(()));
        let outcome = v.finish();
        assert!(outcome.decision.allowed);
        assert_eq!(outcome.rate_write.map(|w| w.expected), Some(None));
    }

    #[test]
    fn host_answers_go_on_stop_or_fail() {
        assert_eq!(super::answered::<_, ()>(Ok(Some(3))), ControlFlow::Continue(3));
        assert_eq!(super::answered::<u8, ()>(Ok(None)), ControlFlow::Break(None));
        assert_eq!(super::answered::<u8, _>(Err("e")), ControlFlow::Break(Some("e")));
    }
}
